/**
 * Tar layers for the layer-walk tests, built with tar-stream's pack the way image builders write them: entries in
 * the given order, whiteouts as empty files, symlinks and hard links as link entries.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { pack } from "tar-stream";

export type TarEntry =
  | { name: string; content: Buffer | string; mode?: number }
  | { name: string; symlink: string }
  | { name: string; hardlink: string }
  | { name: string; directory: true }
  /** `size` bytes of zeros, written in chunks so the test never holds them. */
  | { name: string; zeros: number; mode?: number };

/** A tar stream of the entries, produced as it is read. */
export function tarStream(entries: TarEntry[]): Readable {
  const tar = pack();
  (async () => {
    for (const entry of entries) {
      if ("symlink" in entry) {
        tar.entry({ name: entry.name, type: "symlink", linkname: entry.symlink });
      } else if ("hardlink" in entry) {
        tar.entry({ name: entry.name, type: "link", linkname: entry.hardlink });
      } else if ("directory" in entry) {
        tar.entry({ name: entry.name, type: "directory", mode: 0o755 });
      } else if ("zeros" in entry) {
        const sink = tar.entry({ name: entry.name, size: entry.zeros, mode: entry.mode ?? 0o644 });
        const chunk = Buffer.alloc(1024 * 1024);
        for (let left = entry.zeros; left > 0; left -= chunk.length) {
          const part = left >= chunk.length ? chunk : chunk.subarray(0, left);
          if (!sink.write(part)) await new Promise((resolve) => sink.once("drain", resolve));
        }
        await new Promise<void>((resolve, reject) => sink.end((error?: Error | null) => (error ? reject(error) : resolve())));
      } else {
        const content = typeof entry.content === "string" ? Buffer.from(entry.content) : entry.content;
        await new Promise<void>((resolve, reject) => tar.entry({ name: entry.name, mode: entry.mode ?? 0o644 }, content, (error) => (error ? reject(error) : resolve())));
      }
    }
    tar.finalize();
  })().catch((error: Error) => tar.destroy(error));
  return tar;
}

export async function tarBytes(entries: TarEntry[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of tarStream(entries)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export const gzipLayer = async (entries: TarEntry[]): Promise<Buffer> => gzipSync(await tarBytes(entries));

/** zstd through Debian's `zstd` command (the caller checks that it is installed). */
export const zstdLayer = async (entries: TarEntry[]): Promise<Buffer> => execFileSync("zstd", ["-q", "-c", "-3"], { input: await tarBytes(entries), maxBuffer: 1024 ** 3 });

/** The files of a directory tree as tar entries under `prefix`. */
export function treeEntries(root: string, prefix: string): TarEntry[] {
  const entries: TarEntry[] = [];
  const visit = (dir: string, at: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      const stat = statSync(full);
      if (stat.isDirectory()) visit(full, `${at}/${name}`);
      else if (stat.isFile()) entries.push({ name: `${at}/${name}`, content: readFileSync(full), mode: stat.mode & 0o777 });
    }
  };
  visit(root, prefix);
  return entries;
}

export const blob = (bytes: Buffer): Readable => Readable.from([bytes]);
