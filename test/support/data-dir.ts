import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readdir } from "node:fs/promises";
import path from "node:path";

// Where the filesystem blob store keeps things inside a Berth data dir (see registry/storage/filesystem.ts).
const BLOBS_DIR = ["blobs", "blobs"];
const UPLOADS_DIR = ["blobs", "uploads"];

async function filesUnder(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries.filter((entry) => entry.isFile()).map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
}

/** Committed blob files, as `<algorithm>/<2 hex>/<hex>`: what a reader could be served. */
export function committedBlobFiles(dataDir: string): Promise<string[]> {
  return filesUnder(path.join(dataDir, ...BLOBS_DIR));
}

/** Data files of open upload sessions, by session id. */
export function uploadFiles(dataDir: string): Promise<string[]> {
  return filesUnder(path.join(dataDir, ...UPLOADS_DIR));
}

/** The path a committed blob would have, relative to the blobs dir. */
export function blobFileOf(digest: string): string {
  const [algorithm, hex] = digest.split(":");
  return path.join(algorithm!, hex!.slice(0, 2), hex!);
}

/** Committed blob files whose bytes do not hash to their name: partial or corrupt blobs a reader could be served. */
export async function corruptBlobFiles(dataDir: string): Promise<string[]> {
  const corrupt: string[] = [];
  for (const file of await committedBlobFiles(dataDir)) {
    const [algorithm, , hex] = file.split(path.sep);
    const hash = createHash(algorithm!);
    for await (const chunk of createReadStream(path.join(dataDir, ...BLOBS_DIR, file))) hash.update(chunk as Buffer);
    if (hash.digest("hex") !== hex) corrupt.push(file);
  }
  return corrupt;
}
