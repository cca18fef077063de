import { createReadStream } from "node:fs";
import { opendir, stat } from "node:fs/promises";
import path from "node:path";
import yauzl, { type Entry, type ZipFile } from "yauzl";

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

function openZip(file: string): Promise<ZipFile> {
  return new Promise((resolve, reject) =>
    yauzl.open(file, { lazyEntries: true, autoClose: false, validateEntrySizes: true }, (error, zip) =>
      error ? reject(new VulnDbInputError(`${path.basename(file)} is not a zip archive: ${error.message}`)) : resolve(zip),
    ),
  );
}

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

function entryText(zip: ZipFile, entry: Entry, max: number): Promise<string> {
  return new Promise((resolve, reject) =>
    zip.openReadStream(entry, (error, stream) => (error ? reject(error) : readCapped(stream, max, entry.fileName).then(resolve, reject))),
  );
}

/**
 * The records of an OSV all.zip (one JSON record per entry; osv.dev's layout), read one entry at a time: yauzl reads
 * the central directory and then each entry from the file, so memory holds one entry, whatever the zip's size.
 */
export async function* candidatesFromZip(file: string, limits: ReadLimits): AsyncGenerator<Candidate> {
  const zip = await openZip(file);
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
        text = await entryText(zip, entry, limits.maxJsonBytes);
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
