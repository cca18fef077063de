/**
 * One pass over a layer's tar (issue 16): whiteouts, opaque directories and the symlinks that matter are recorded;
 * files an analyzer wants are buffered one at a time and analysed; everything else is drained unread. Nothing is
 * written to disk, so hostile paths (`../`, absolute) can only be ignored, never followed.
 */
import { posix } from "node:path";
import type { Readable } from "node:stream";
import * as tarStream from "tar-stream";
import { analyzersFor, ANALYZERS, type Analyzer, type AnalyzerLimits } from "../analyzers/index";
import { DEFAULT_MAX_DECOMPRESSED_BYTES, decompressLayer } from "./decompress";
import { LAYER_INVENTORY_VERSION, type LayerFile, type LayerInventory } from "./layer-inventory";

export interface LayerWalkOptions {
  /** The analyzers to run; default: all, with `limits` (or the default limits). */
  analyzers?: readonly Analyzer[];
  limits?: AnalyzerLimits;
  /** Tar bytes after decompression (proposed: BERTH_SCAN_LAYER_MAX_BYTES). */
  maxDecompressedBytes?: number;
  /** Tar entries in one layer (proposed: BERTH_SCAN_LAYER_MAX_ENTRIES). */
  maxEntries?: number;
  /** Bytes buffered for analysis in one layer, all files together; later files are listed as skipped (proposed: BERTH_SCAN_LAYER_MAX_ANALYZED_BYTES). */
  maxAnalyzedBytes?: number;
}

export const DEFAULT_MAX_ENTRIES = 2_000_000;
export const DEFAULT_MAX_ANALYZED_BYTES = 2 * 1024 ** 3;

/**
 * Sizes to ask with whether a path is one an analyzer reads at all, whatever the size limits (an empty file, and one
 * big enough for the Go analyzer's minimum): a file at such a path that is too big to read, or a symlink there, still
 * replaces the lower layers' file.
 */
const PROBE_SIZES = [0, 4096];

export class LayerWalkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LayerWalkError";
  }
}

/** Tar names as paths from the root: `./etc/x`, `/etc/x` and `etc//x` are `etc/x`; names leaving the root are null. */
export function normalizeLayerPath(name: string): string | null {
  const normalized = posix.normalize(name.replace(/^\/+/, "")).replace(/\/+$/, "");
  if (normalized === "." || normalized === "" || normalized === ".." || normalized.startsWith("../")) return null;
  return normalized.replace(/^\.\//, "");
}

/** The whole content of a tar entry of `size` bytes (its header's), checked against what the entry holds. */
export async function readEntry(entry: tarStream.Entry, size: number): Promise<Buffer> {
  const content = Buffer.allocUnsafe(size);
  let offset = 0;
  for await (const chunk of entry) {
    if (offset + chunk.length > size) throw new LayerWalkError(`tar entry ${entry.header.name} is longer than its header says`);
    chunk.copy(content, offset);
    offset += chunk.length;
  }
  if (offset !== size) throw new LayerWalkError(`tar entry ${entry.header.name} ended after ${offset} of ${size} bytes`);
  return content;
}

/** PostgreSQL's jsonb refuses U+0000 in strings, and no real package or release name holds one. */
function storable(value: object): boolean {
  return !Object.values(value).some((field) => typeof field === "string" && field.includes("\u0000"));
}

async function analyze(analyzers: Analyzer[], path: string, content: Buffer): Promise<LayerFile> {
  const file: LayerFile = { packages: [] };
  for (const analyzer of analyzers) {
    try {
      const found = await analyzer.analyze(path, content);
      file.packages.push(...found.packages.filter(storable));
      if (found.distribution && storable(found.distribution)) file.distribution = found.distribution;
    } catch (error) {
      // One unreadable file must not cost the whole layer; the report shows what was not analysed.
      file.skipped = `the ${analyzer.name} analyzer failed: ${(error as Error).message}`;
    }
  }
  return file;
}

const REGULAR_FILE = new Set(["file", "contiguous-file"]);

/** What one layer blob (compressed or not) contributes to the image's inventory. */
export async function inventoryOfLayer(blob: Readable, options: LayerWalkOptions = {}): Promise<LayerInventory> {
  const analyzers = options.analyzers ?? (options.limits ? analyzersFor(options.limits) : ANALYZERS);
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const maxAnalyzedBytes = options.maxAnalyzedBytes ?? DEFAULT_MAX_ANALYZED_BYTES;
  const { tar } = await decompressLayer(blob, options.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES);

  const files = new Map<string, LayerFile>();
  const symlinks = new Map<string, string>();
  const whiteouts = new Set<string>();
  const opaqueDirs = new Set<string>();
  const readByPath = (path: string, mode?: number): boolean => analyzers.some((analyzer) => PROBE_SIZES.some((size) => analyzer.interest(path, size, mode)));
  let entries = 0;
  let analyzedBytes = 0;

  const extract = tarStream.extract();
  tar.on("error", (error: Error) => extract.destroy(error));
  tar.pipe(extract);
  try {
    for await (const entry of extract) {
      if (++entries > maxEntries) throw new LayerWalkError(`the layer has more than ${maxEntries} entries, the scanner's limit`);
      const { header } = entry;
      const path = normalizeLayerPath(header.name);
      const base = path === null ? "" : posix.basename(path);
      if (path === null) {
        entry.resume();
      } else if (base === ".wh..wh..opq") {
        const dir = posix.dirname(path);
        opaqueDirs.add(dir === "." ? "" : dir);
        entry.resume();
      } else if (base.startsWith(".wh.")) {
        // `.wh..wh.*` other than the opaque marker are aufs bookkeeping (hard-link directories), not whiteouts.
        if (!base.startsWith(".wh..wh.")) whiteouts.add(posix.join(posix.dirname(path), base.slice(".wh.".length)));
        entry.resume();
      } else if (REGULAR_FILE.has(header.type ?? "file")) {
        // The last entry of a path wins, as it would when extracting.
        files.delete(path);
        symlinks.delete(path);
        const size = header.size ?? 0;
        const wanted = analyzers.filter((analyzer) => analyzer.interest(path, size, header.mode));
        if (wanted.length > 0 && analyzedBytes + size > maxAnalyzedBytes) {
          files.set(path, { packages: [], skipped: `the layer's analysis budget of ${maxAnalyzedBytes} bytes is spent` });
          entry.resume();
        } else if (wanted.length > 0) {
          analyzedBytes += size;
          files.set(path, await analyze(wanted, path, await readEntry(entry, size)));
        } else {
          if (readByPath(path, header.mode)) files.set(path, { packages: [], skipped: `not read: ${size} bytes is outside the analyzers' size limits` });
          entry.resume();
        }
      } else if (header.type === "symlink") {
        files.delete(path);
        symlinks.delete(path);
        if (readByPath(path) && header.linkname) symlinks.set(path, header.linkname);
        entry.resume();
      } else if (header.type === "link") {
        // A hard link to a file earlier in this layer has that file's content, and so its findings.
        const target = header.linkname ? normalizeLayerPath(header.linkname) : null;
        const found = target === null ? undefined : files.get(target);
        symlinks.delete(path);
        if (found && target !== null) files.set(path, { ...found, packages: found.packages.map((pkg) => ({ ...pkg, path: path + pkg.path.slice(target.length) })) });
        else files.delete(path);
        entry.resume();
      } else {
        entry.resume();
      }
    }
  } finally {
    tar.unpipe(extract);
    tar.destroy();
  }

  return {
    version: LAYER_INVENTORY_VERSION,
    files: Object.fromEntries(files),
    whiteouts: [...whiteouts],
    opaqueDirs: [...opaqueDirs],
    symlinks: Object.fromEntries(symlinks),
  };
}
