/**
 * RPM packages from the SQLite rpmdb (issue 16): `var/lib/rpm/rpmdb.sqlite` (RHEL 9, Rocky and AlmaLinux 9, Fedora
 * 33-35) or `usr/lib/sysimage/rpm/rpmdb.sqlite` (Fedora 36+). Its `Packages(hnum, blob)` table holds one RPM header
 * per installed package, in the format rpm's headerExport writes:
 *
 *   il (uint32 BE: index entries), dl (uint32 BE: data bytes),
 *   il × { tag int32, type uint32, offset int32, count uint32 } (big-endian), then dl bytes of data.
 *
 * Strings are NUL-terminated at their offset; INT32 values big-endian. The region entry (tag 63) that opens a real
 * header only matters for verifying signatures, which the scanner does not do.
 *
 * Not read: the Berkeley DB `Packages` of RHEL 7/8 and CentOS, and the NDB `Packages.db` of SUSE.
 * Only the Packages table is read, so changes still in a `rpmdb.sqlite-wal` file are missed (rpm checkpoints on close,
 * so image builds normally leave none).
 */
import type { Package } from "../inventory";
import { PACKAGE_DB_MAX_BYTES } from "./dpkg";
import { osPurl } from "./os-purl";

export const RPMDB_SQLITE_PATHS: ReadonlySet<string> = new Set(["var/lib/rpm/rpmdb.sqlite", "usr/lib/sysimage/rpm/rpmdb.sqlite"]);

export function interest(path: string, size: number, maxBytes: number = PACKAGE_DB_MAX_BYTES): boolean {
  return size <= maxBytes && RPMDB_SQLITE_PATHS.has(path);
}

export const RPMTAG = { NAME: 1000, VERSION: 1001, RELEASE: 1002, EPOCH: 1003, ARCH: 1022, SOURCERPM: 1044 } as const;
export const RPM_TYPE = { INT32: 4, STRING: 6, STRING_ARRAY: 8, I18NSTRING: 9 } as const;

const INDEX_ENTRY_BYTES = 16;
/** rpm's own limits on a header (lib/header.c: hdrchkTags, hdrchkData). */
const MAX_INDEX_ENTRIES = 0x10000;
const MAX_DATA_BYTES = 256 * 1024 * 1024;

export class RpmHeaderError extends Error {
  constructor(message: string) {
    super(`not an RPM header: ${message}`);
    this.name = "RpmHeaderError";
  }
}

export interface RpmHeaderFields {
  name: string;
  version: string;
  release: string;
  epoch: number | null;
  arch: string | null;
  sourceRpm: string | null;
}

/** The tags the scanner needs from one header blob. */
export function readRpmHeader(blob: Uint8Array): RpmHeaderFields {
  const buf = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  if (buf.length < 8) throw new RpmHeaderError("shorter than its 8-byte preamble");
  const il = buf.readUInt32BE(0);
  const dl = buf.readUInt32BE(4);
  if (il < 1 || il > MAX_INDEX_ENTRIES || dl > MAX_DATA_BYTES) throw new RpmHeaderError(`${il} entries, ${dl} data bytes`);
  const dataStart = 8 + il * INDEX_ENTRY_BYTES;
  if (dataStart + dl > buf.length) throw new RpmHeaderError(`${il} entries and ${dl} data bytes need more than the blob's ${buf.length}`);
  const data = buf.subarray(dataStart, dataStart + dl);

  const strings = new Map<number, string>();
  const ints = new Map<number, number>();
  for (let i = 0; i < il; i++) {
    const at = 8 + i * INDEX_ENTRY_BYTES;
    const tag = buf.readInt32BE(at);
    const type = buf.readUInt32BE(at + 4);
    const offset = buf.readInt32BE(at + 8);
    const count = buf.readUInt32BE(at + 12);
    if (!Object.values(RPMTAG).includes(tag as never)) continue;
    if (offset < 0 || offset >= data.length) throw new RpmHeaderError(`tag ${tag} points outside the data`);
    if (type === RPM_TYPE.STRING || type === RPM_TYPE.STRING_ARRAY || type === RPM_TYPE.I18NSTRING) {
      const end = data.indexOf(0, offset);
      if (end < 0) throw new RpmHeaderError(`tag ${tag}'s string is not terminated`);
      strings.set(tag, data.toString("utf8", offset, end));
    } else if (type === RPM_TYPE.INT32 && count >= 1) {
      if (offset + 4 > data.length) throw new RpmHeaderError(`tag ${tag}'s value is outside the data`);
      ints.set(tag, data.readInt32BE(offset));
    }
  }
  const name = strings.get(RPMTAG.NAME);
  const version = strings.get(RPMTAG.VERSION);
  const release = strings.get(RPMTAG.RELEASE);
  if (name === undefined || version === undefined || release === undefined) throw new RpmHeaderError("no NAME, VERSION or RELEASE");
  return { name, version, release, epoch: ints.get(RPMTAG.EPOCH) ?? null, arch: strings.get(RPMTAG.ARCH) ?? null, sourceRpm: strings.get(RPMTAG.SOURCERPM) ?? null };
}

/** `bash-5.1.8-6.el9.src.rpm` → bash, 5.1.8, 6.el9 (names may contain dashes; version and release may not). */
export function parseSourceRpm(sourceRpm: string): { name: string; version: string; release: string } | null {
  const match = /^(.+)-([^-]+)-([^-]+)\.(?:no)?src\.rpm$/.exec(sourceRpm);
  return match ? { name: match[1]!, version: match[2]!, release: match[3]! } : null;
}

function evr(epoch: number | null, version: string, release: string): string {
  return epoch ? `${epoch}:${version}-${release}` : `${version}-${release}`;
}

/** Packages of the header blobs, in database order; gpg-pubkey entries (imported signing keys) are not software. */
export function packagesOfHeaders(path: string, blobs: Iterable<Uint8Array>): Package[] {
  const packages: Package[] = [];
  for (const blob of blobs) {
    const header = readRpmHeader(blob);
    if (header.name === "gpg-pubkey") continue;
    const version = evr(header.epoch, header.version, header.release);
    const source = header.sourceRpm ? parseSourceRpm(header.sourceRpm) : null;
    const arch = header.arch ?? undefined;
    packages.push({
      ecosystem: "Red Hat",
      name: header.name,
      version,
      // A source RPM carries no epoch of its own in the file name; the binary's applies (as in Trivy).
      sourceName: source?.name ?? header.name,
      sourceVersion: source ? evr(header.epoch, source.version, source.release) : version,
      ...(arch ? { arch } : {}),
      path,
      purl: osPurl("rpm", "redhat", header.name, version, { arch }),
    });
  }
  return packages;
}

type SqlJs = import("sql.js").SqlJsStatic;
let sqlJs: Promise<SqlJs> | null = null;

/** sql.js is loaded on the first rpmdb only: most images have none, and the wasm module costs memory. */
function loadSqlJs(): Promise<SqlJs> {
  sqlJs ??= import("sql.js").then((module) => module.default());
  return sqlJs;
}

export async function analyze(path: string, content: Buffer): Promise<Package[]> {
  const SQL = await loadSqlJs();
  const db = new SQL.Database(content);
  try {
    const statement = db.prepare("SELECT blob FROM Packages ORDER BY hnum");
    const blobs: Uint8Array[] = [];
    try {
      while (statement.step()) {
        const [blob] = statement.get();
        if (blob instanceof Uint8Array) blobs.push(blob);
      }
    } finally {
      statement.free();
    }
    return packagesOfHeaders(path, blobs);
  } finally {
    db.close();
  }
}
