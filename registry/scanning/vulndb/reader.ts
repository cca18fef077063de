import { closeSync, createReadStream, fstat, open as openFd } from "node:fs";
import { opendir, stat } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { inflateRawSync } from "node:zlib";
import yauzl, { type Entry, type ZipFile } from "yauzl";
import { WindowedFileReader } from "./windowed-reader";

/** One record as read from an input (not checked yet), or why a part of the input could not be read. */
export type Candidate = { value: unknown; where: string } | { error: string; where: string };

/** The input as a whole cannot be read (not a zip, not JSON): nothing of it was imported. */
export class VulnDbInputError extends Error {}

export interface ReadLimits {
  /** The largest JSON document read whole: a JSON file or body, one zip entry. */
  maxJsonBytes: number;
}

/** How a file is read: an OSV all.zip, or JSON (one record or an array of records). */
export type InputKind = "zip" | "json";

export function kindOfFile(file: string): InputKind {
  return file.toLowerCase().endsWith(".zip") ? "zip" : "json";
}

/** The records of one JSON document: an object is one record, an array holds records. */
export function* candidatesFromJson(text: string, where: string): Generator<Candidate> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    yield { error: `not valid JSON: ${(error as Error).message}`, where };
    return;
  }
  if (Array.isArray(parsed)) {
    for (let i = 0; i < parsed.length; i++) yield { value: parsed[i], where: `${where}[${i}]` };
  } else {
    yield { value: parsed, where };
  }
}

async function readCapped(stream: NodeJS.ReadableStream, max: number, what: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) {
      (stream as unknown as { destroy?: () => void }).destroy?.();
      throw new VulnDbInputError(`${what} is larger than ${max} bytes (BERTH_VULNDB_MAX_JSON_BYTES)`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * A JSON file as one input: a file that is not JSON at all is refused as a whole (VulnDbInputError), since a
 * caller who sent one document wants to hear it, not a count.
 */
export async function* candidatesFromJsonFile(file: string, limits: ReadLimits, where = path.basename(file)): AsyncGenerator<Candidate> {
  const text = await readCapped(createReadStream(file), limits.maxJsonBytes, where);
  let first = true;
  for (const candidate of candidatesFromJson(text, where)) {
    if (first && "error" in candidate) throw new VulnDbInputError(`${where} is ${candidate.error}`);
    first = false;
    yield candidate;
  }
}

async function openZip(file: string): Promise<{ zip: ZipFile; reader: WindowedFileReader }> {
  // A plain descriptor, not a FileHandle: the reader owns it and closes it when yauzl closes the zip.
  const fd = await promisify(openFd)(file, "r");
  let size: number;
  try {
    size = (await promisify(fstat)(fd)).size;
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  const reader = new WindowedFileReader(fd, size);
  return new Promise((resolve, reject) =>
    yauzl.fromRandomAccessReader(reader, size, { lazyEntries: true, autoClose: false, validateEntrySizes: true }, (error, zip) => {
      if (!error) return resolve({ zip, reader });
      closeSync(fd);
      reject(new VulnDbInputError(`${path.basename(file)} is not a zip archive: ${error.message}`));
    }),
  );
}

const STORED = 0;
const DEFLATED = 8;

function nextEntry(zip: ZipFile): Promise<Entry | null> {
  return new Promise((resolve, reject) => {
    const settle = (fn: () => void) => {
      zip.removeListener("entry", onEntry).removeListener("end", onEnd).removeListener("error", onError);
      fn();
    };
    const onEntry = (entry: Entry) => settle(() => resolve(entry));
    const onEnd = () => settle(() => resolve(null));
    const onError = (error: Error) => settle(() => reject(new VulnDbInputError(`the zip archive is damaged: ${error.message}`)));
    zip.on("entry", onEntry).on("end", onEnd).on("error", onError);
    zip.readEntry();
  });
}

/**
 * An entry's bytes, read and inflated here rather than through yauzl's per-entry stream pipeline, which costs far
 * more than the entry itself for the small JSON files of an all.zip. Sizes are checked against the directory's.
 */
async function entryBytes(zip: ZipFile, reader: WindowedFileReader, entry: Entry, max: number): Promise<Buffer> {
  if (entry.isEncrypted()) throw new Error("the entry is encrypted");
  if (entry.compressionMethod !== STORED && entry.compressionMethod !== DEFLATED) throw new Error(`compression method ${entry.compressionMethod} is not supported`);
  const { fileDataStart } = await zip.readLocalFileHeaderPromise(entry, { minimal: true });
  const compressed = Buffer.allocUnsafe(entry.compressedSize);
  await new Promise<void>((resolve, reject) => reader.read(compressed, 0, compressed.length, fileDataStart, (error) => (error ? reject(error) : resolve())));
  let data: Buffer;
  try {
    data = entry.compressionMethod === DEFLATED ? inflateRawSync(compressed, { maxOutputLength: max + 1 }) : compressed;
  } catch (error) {
    throw new Error(error instanceof RangeError ? `it inflates to more than ${max} bytes` : `it does not inflate: ${(error as Error).message}`);
  }
  if (data.length !== entry.uncompressedSize) throw new Error(`it holds ${data.length} bytes where the zip's directory says ${entry.uncompressedSize}`);
  return data;
}

/**
 * The records of an OSV all.zip (one JSON record per entry; osv.dev's layout), read one entry at a time: yauzl reads
 * the central directory and then each entry from the file, so memory holds one entry, whatever the zip's size.
 */
export async function* candidatesFromZip(file: string, limits: ReadLimits): AsyncGenerator<Candidate> {
  const { zip, reader } = await openZip(file);
  try {
    for (let entry = await nextEntry(zip); entry !== null; entry = await nextEntry(zip)) {
      const name = entry.fileName;
      if (name.endsWith("/") || !name.toLowerCase().endsWith(".json")) continue;
      if (entry.uncompressedSize > limits.maxJsonBytes) {
        yield { error: `entry is larger than ${limits.maxJsonBytes} bytes (BERTH_VULNDB_MAX_JSON_BYTES)`, where: name };
        continue;
      }
      let text: string;
      try {
        text = (await entryBytes(zip, reader, entry, limits.maxJsonBytes)).toString("utf8");
      } catch (error) {
        yield { error: `unreadable entry: ${(error as Error).message}`, where: name };
        continue;
      }
      yield* candidatesFromJson(text, name);
    }
  } finally {
    if (zip.isOpen) zip.close();
  }
}

/** Every *.json and *.zip file under `dir`, depth first, in name order (so imports are repeatable). */
export async function* filesUnder(dir: string): AsyncGenerator<string> {
  const entries = [];
  for await (const entry of await opendir(dir)) entries.push(entry);
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* filesUnder(full);
    else if (entry.isFile() && /\.(json|zip)$/i.test(entry.name)) yield full;
  }
}

/**
 * The records of a file or directory tree. Inside a directory, a file that cannot be read counts against that
 * file only; a single file given directly that cannot be read at all is refused (VulnDbInputError).
 */
export async function* candidatesFromPath(input: string, limits: ReadLimits, kind?: InputKind): AsyncGenerator<Candidate> {
  if ((await stat(input)).isDirectory()) {
    for await (const file of filesUnder(input)) {
      const where = path.relative(input, file);
      try {
        yield* kindOfFile(file) === "zip" ? candidatesFromZip(file, limits) : candidatesFromJsonFile(file, limits, where);
      } catch (error) {
        if (!(error instanceof VulnDbInputError)) throw error;
        yield { error: error.message, where };
      }
    }
    return;
  }
  yield* (kind ?? kindOfFile(input)) === "zip" ? candidatesFromZip(input, limits) : candidatesFromJsonFile(input, limits);
}
