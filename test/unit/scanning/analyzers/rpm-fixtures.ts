/**
 * RPM header blobs and SQLite rpmdbs for tests, in the format rpm's headerExport writes (with the immutable region
 * entry real headers open with) and the schema rpm 4.16+ creates.
 */
import initSqlJs from "sql.js";

export const TYPE = { INT32: 4, STRING: 6, BIN: 7, STRING_ARRAY: 8, I18NSTRING: 9 } as const;
type Tag = { tag: number; type: number; value: string | string[] | number };

/** An RPM header blob: il, dl, the index (region entry first, as rpm writes it), the data, the region trailer. */
export function headerBlob(tags: Tag[]): Buffer {
  const data: Buffer[] = [];
  let length = 0;
  const entries: Array<[number, number, number, number]> = [];
  for (const { tag, type, value } of tags) {
    if (type === TYPE.INT32) {
      const pad = (4 - (length % 4)) % 4; // INT32 data is 4-byte aligned
      if (pad) data.push(Buffer.alloc(pad)), (length += pad);
      const bytes = Buffer.alloc(4);
      bytes.writeInt32BE(value as number);
      entries.push([tag, type, length, 1]);
      data.push(bytes);
      length += 4;
    } else {
      const values = Array.isArray(value) ? value : [value as string];
      const bytes = Buffer.concat(values.map((text) => Buffer.from(`${text}\0`)));
      entries.push([tag, type, length, values.length]);
      data.push(bytes);
      length += bytes.length;
    }
  }
  const il = entries.length + 1;
  // The region trailer: an entry for tag 63 whose offset is minus the index size, stored at the end of the data.
  const trailer = Buffer.alloc(16);
  trailer.writeInt32BE(63, 0);
  trailer.writeUInt32BE(TYPE.BIN, 4);
  trailer.writeInt32BE(-(il * 16), 8);
  trailer.writeUInt32BE(16, 12);
  entries.unshift([63, TYPE.BIN, length, 16]);
  data.push(trailer);
  length += 16;
  const index = Buffer.alloc(il * 16);
  entries.forEach(([tag, type, offset, count], i) => {
    index.writeInt32BE(tag, i * 16);
    index.writeUInt32BE(type, i * 16 + 4);
    index.writeInt32BE(offset, i * 16 + 8);
    index.writeUInt32BE(count, i * 16 + 12);
  });
  const preamble = Buffer.alloc(8);
  preamble.writeUInt32BE(il, 0);
  preamble.writeUInt32BE(length, 4);
  return Buffer.concat([preamble, index, ...data]);
}

export const rpmPackageHeader = (name: string, version: string, release: string, arch: string | null, sourceRpm: string | null, epoch?: number): Buffer =>
  headerBlob([
    { tag: 1000, type: TYPE.STRING, value: name },
    { tag: 1001, type: TYPE.STRING, value: version },
    { tag: 1002, type: TYPE.STRING, value: release },
    ...(epoch !== undefined ? [{ tag: 1003, type: TYPE.INT32, value: epoch }] : []),
    { tag: 1004, type: TYPE.I18NSTRING, value: `${name}, a package` },
    { tag: 1117, type: TYPE.STRING_ARRAY, value: ["bin", "lib"] },
    ...(arch ? [{ tag: 1022, type: TYPE.STRING, value: arch }] : []),
    ...(sourceRpm ? [{ tag: 1044, type: TYPE.STRING, value: sourceRpm }] : []),
  ]);

export const SCHEMA = "CREATE TABLE 'Packages' (hnum INTEGER PRIMARY KEY AUTOINCREMENT,blob BLOB NOT NULL)";

export async function sqlJsDatabase(blobs: Buffer[]): Promise<Buffer> {
  const SQL = await initSqlJs();
  const db = new SQL.Database();
  db.run(SCHEMA);
  for (const blob of blobs) db.run("INSERT INTO Packages (blob) VALUES (?)", [blob]);
  const bytes = Buffer.from(db.export());
  db.close();
  return bytes;
}

