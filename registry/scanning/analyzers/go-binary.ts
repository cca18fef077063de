/**
 * Go module build info in ELF executables (issue 16): the Go toolchain embeds the Go version and the module list
 * (`go version -m`) in a `.go.buildinfo` section that starts with the magic `\xff Go buildinf:`. This mirrors
 * Go's debug/buildinfo, reading only what it needs from a buffered file:
 *
 *  - the section is found through the ELF section headers (it is not near the start of the file: in Debian's skopeo
 *    it sits 15 MB into 16 MB, and the section headers are at the end); an ELF whose section headers lack it is not
 *    a Go executable; only when the section headers are missing is the magic searched for;
 *  - Go ≥ 1.18 stores both strings inline after the 32-byte header, each prefixed by its length as an unsigned
 *    varint (flags bit 2);
 *  - Go < 1.18 stores two pointers to Go string headers; these are virtual addresses, translated to file offsets with
 *    the section headers. Position-independent binaries from before 1.18 leave those pointers to the dynamic loader
 *    (they read as zero in the file), so nothing is found in them, as with `go version`.
 *
 * Packages: the main module (`mod`), every dependency (`dep`, or its `=>` replacement), and the standard library as
 * `stdlib` at the Go version, which is where most Go advisories are.
 */
import type { Package } from "../inventory";
import { purl } from "./purl";

/** Go executables are large; beyond this the file is not read (proposed: BERTH_SCAN_GO_BINARY_MAX_BYTES). */
export const GO_BINARY_MAX_BYTES = 256 * 1024 * 1024;

const BUILDINFO_MAGIC = Buffer.from("\xff Go buildinf:", "latin1");
const BUILDINFO_HEADER_BYTES = 32;
const FLAG_BIG_ENDIAN = 0x1;
const FLAG_VERSION_INLINE = 0x2;
const SHT_NOBITS = 8;

/**
 * Executables only: the walker passes the tar entry's mode, and without it (or without an execute bit) the file is
 * not wanted — buffering every file of an image to look for ELF headers would cost far more than it finds.
 */
export function interest(_path: string, size: number, mode?: number, maxBytes: number = GO_BINARY_MAX_BYTES): boolean {
  return mode !== undefined && (mode & 0o111) !== 0 && size >= BUILDINFO_HEADER_BYTES && size <= maxBytes;
}

interface Section {
  name: string;
  type: number;
  address: number;
  offset: number;
  size: number;
}

interface Elf {
  littleEndian: boolean;
  is64: boolean;
  sections: Section[];
}

class Reader {
  constructor(
    private readonly buf: Buffer,
    private readonly littleEndian: boolean,
  ) {}

  u16(at: number): number {
    return this.littleEndian ? this.buf.readUInt16LE(at) : this.buf.readUInt16BE(at);
  }

  u32(at: number): number {
    return this.littleEndian ? this.buf.readUInt32LE(at) : this.buf.readUInt32BE(at);
  }

  /** A 64-bit value as a number; offsets and addresses beyond 2^53 cannot be in a file we hold in memory anyway. */
  u64(at: number): number {
    const value = this.littleEndian ? this.buf.readBigUInt64LE(at) : this.buf.readBigUInt64BE(at);
    return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value);
  }

  word(at: number, is64: boolean): number {
    return is64 ? this.u64(at) : this.u32(at);
  }
}

function cString(buf: Buffer, at: number): string {
  const end = buf.indexOf(0, at);
  return buf.toString("latin1", at, end < 0 ? buf.length : end);
}

/** The ELF header and section headers, or null when this is not an ELF file (or its headers point outside it). */
function parseElf(buf: Buffer): Elf | null {
  if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46) return null;
  const elfClass = buf[4];
  const data = buf[5];
  if ((elfClass !== 1 && elfClass !== 2) || (data !== 1 && data !== 2)) return null;
  const is64 = elfClass === 2;
  const r = new Reader(buf, data === 1);
  const shoff = is64 ? r.u64(0x28) : r.u32(0x20);
  const shentsize = r.u16(is64 ? 0x3a : 0x2e);
  const shnum = r.u16(is64 ? 0x3c : 0x30);
  const shstrndx = r.u16(is64 ? 0x3e : 0x32);
  const sections: Section[] = [];
  const minEntry = is64 ? 0x40 : 0x28;
  if (shoff === 0 || shnum === 0 || shentsize < minEntry || shoff + shnum * shentsize > buf.length) {
    return { littleEndian: data === 1, is64, sections };
  }
  const raw: Array<Omit<Section, "name"> & { nameOffset: number }> = [];
  for (let i = 0; i < shnum; i++) {
    const at = shoff + i * shentsize;
    raw.push({
      nameOffset: r.u32(at),
      type: r.u32(at + 4),
      address: is64 ? r.u64(at + 0x10) : r.u32(at + 0x0c),
      offset: is64 ? r.u64(at + 0x18) : r.u32(at + 0x10),
      size: is64 ? r.u64(at + 0x20) : r.u32(at + 0x14),
    });
  }
  const names = raw[shstrndx];
  for (const s of raw) {
    const nameAt = names && names.offset + s.nameOffset < buf.length ? names.offset + s.nameOffset : -1;
    sections.push({ name: nameAt < 0 ? "" : cString(buf, nameAt), type: s.type, address: s.address, offset: s.offset, size: s.size });
  }
  return { littleEndian: data === 1, is64, sections };
}

/** The file offset of the build info header, or -1. */
function findBuildInfo(buf: Buffer, elf: Elf): number {
  const section = elf.sections.find((s) => s.name === ".go.buildinfo");
  if (section) {
    if (section.type === SHT_NOBITS || section.offset + BUILDINFO_HEADER_BYTES > buf.length) return -1;
    return buf.subarray(section.offset, section.offset + BUILDINFO_MAGIC.length).equals(BUILDINFO_MAGIC) ? section.offset : -1;
  }
  // Go has named the section since build info began (Go 1.13): an ELF with section headers but without it is not a
  // Go executable, and searching all of every C binary in an image would be wasted time.
  if (elf.sections.length > 0) return -1;
  // No section headers (stripped by a tool such as sstrip): search for the magic, which Go aligns to 16 bytes.
  for (let at = buf.indexOf(BUILDINFO_MAGIC); at >= 0; at = buf.indexOf(BUILDINFO_MAGIC, at + 1)) {
    if (at % 16 === 0 && at + BUILDINFO_HEADER_BYTES <= buf.length) return at;
  }
  return -1;
}

/** encoding/binary.Uvarint: the value and the bytes it took, or null when truncated or longer than a safe integer. */
function uvarint(buf: Buffer, at: number): { value: number; length: number } | null {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 8 && at + i < buf.length; i++) {
    const byte = buf[at + i]!;
    value += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) return { value, length: i + 1 };
    scale *= 128;
  }
  return null;
}

/** The two strings, as bytes: modinfo's sentinels are not UTF-8 and must be cut off before decoding. */
function inlineStrings(buf: Buffer, start: number): [Buffer, Buffer] | null {
  const strings: Buffer[] = [];
  let at = start;
  for (let i = 0; i < 2; i++) {
    const length = uvarint(buf, at);
    if (!length || at + length.length + length.value > buf.length) return null;
    at += length.length;
    strings.push(buf.subarray(at, at + length.value));
    at += length.value;
  }
  return [strings[0]!, strings[1]!];
}

function addressToOffset(elf: Elf, address: number, length: number): number {
  for (const s of elf.sections) {
    if (s.type === SHT_NOBITS || s.address === 0) continue;
    if (address >= s.address && address + length <= s.address + s.size) return s.offset + (address - s.address);
  }
  return -1;
}

/** A Go string header (data pointer, length) at `address`, read through the section headers. */
function pointedString(buf: Buffer, elf: Elf, r: Reader, ptrSize: number, address: number): Buffer | null {
  const is64 = ptrSize === 8;
  const headerAt = addressToOffset(elf, address, 2 * ptrSize);
  if (headerAt < 0 || headerAt + 2 * ptrSize > buf.length) return null;
  const dataAddress = r.word(headerAt, is64);
  const length = r.word(headerAt + ptrSize, is64);
  if (length === 0) return Buffer.alloc(0);
  const dataAt = addressToOffset(elf, dataAddress, length);
  if (dataAt < 0 || dataAt + length > buf.length) return null;
  return buf.subarray(dataAt, dataAt + length);
}

function pointerStrings(buf: Buffer, elf: Elf, header: number): [Buffer, Buffer] | null {
  const ptrSize = buf[header + 14];
  if (ptrSize !== 4 && ptrSize !== 8) return null;
  const r = new Reader(buf, (buf[header + 15]! & FLAG_BIG_ENDIAN) === 0);
  const is64 = ptrSize === 8;
  const version = pointedString(buf, elf, r, ptrSize, r.word(header + 16, is64));
  const modinfo = pointedString(buf, elf, r, ptrSize, r.word(header + 16 + ptrSize, is64));
  return version === null || modinfo === null ? null : [version, modinfo];
}

/** The Go version and the module info text of an ELF Go executable, or null. */
export function readBuildInfo(content: Buffer): { goVersion: string; modinfo: string } | null {
  const elf = parseElf(content);
  if (!elf) return null;
  const header = findBuildInfo(content, elf);
  if (header < 0) return null;
  const flags = content[header + 15]!;
  const strings =
    (flags & FLAG_VERSION_INLINE) !== 0 ? inlineStrings(content, header + BUILDINFO_HEADER_BYTES) : pointerStrings(content, elf, header);
  if (!strings) return null;
  const goVersion = strings[0].toString("utf8");
  if (!goVersion.startsWith("go") && !goVersion.startsWith("devel")) return null;
  const raw = strings[1];
  // The runtime wraps modinfo in two 16-byte sentinels (cmd/go/internal/modload.ModInfoData); strip them as Go does.
  const modinfo = raw.length >= 33 && raw[raw.length - 17] === 0x0a ? raw.toString("utf8", 16, raw.length - 16) : "";
  return { goVersion, modinfo };
}

/**
 * `go1.21.5` → `v1.21.5`, `go1.20` → `v1.20.0`, `go1.21rc2` → `v1.21.0-rc.2` (golang.org/x/vuln's tag-to-semver rule,
 * the form Go advisories use). Experiments after a space (`go1.22.0 X:boringcrypto`) are dropped; development builds
 * (`devel …`) have no release to match and give null.
 */
export function goVersionToSemver(goVersion: string): string | null {
  const match = /^go(\d+)\.(\d+)(?:\.(\d+))?(?:(rc|beta)(\d+))?(?:$|[\s-])/.exec(goVersion);
  if (!match) return null;
  const [, major, minor, patch, pre, preNumber] = match;
  return `v${major}.${minor}.${patch ?? "0"}${pre ? `-${pre}.${preNumber}` : ""}`;
}

function goPackage(module: string, version: string, path: string): Package {
  return {
    ecosystem: "Go",
    name: module,
    version,
    sourceName: module,
    sourceVersion: version,
    path,
    purl: purl("golang", module.split("/"), version),
  };
}

/** Modules from modinfo lines (`path`, `mod`, `dep`, `=>`, `build`; tab-separated as runtime/debug writes them). */
export function modulesFromModinfo(modinfo: string): Array<{ path: string; version: string; main: boolean }> {
  const modules: Array<{ path: string; version: string; main: boolean }> = [];
  let last: { path: string; version: string; main: boolean } | null = null;
  for (const line of modinfo.split("\n")) {
    const [kind, modulePath = "", version = ""] = line.split("\t");
    if (kind === "mod" || kind === "dep") {
      last = { path: modulePath, version, main: kind === "mod" };
      modules.push(last);
    } else if (kind === "=>" && last) {
      if (version === "") {
        // Replaced by a local directory (`=> ../fork`): the path is not a module, and the code is of no known version.
        last.version = "";
      } else {
        // A replacement module stands in for the one before it: its code is what was built in.
        last.path = modulePath;
        last.version = version;
      }
    }
  }
  return modules;
}

export function analyze(path: string, content: Buffer): Package[] {
  const info = readBuildInfo(content);
  if (!info) return [];
  const packages: Package[] = [];
  for (const module of modulesFromModinfo(info.modinfo)) {
    if (module.path === "") continue;
    // `go build` in a checkout stamps the main module, and modules of the same workspace, "(devel)". They stay in the
    // inventory (an SBOM should list them) with an empty version, which matching skips.
    packages.push(goPackage(module.path, module.version === "(devel)" ? "" : module.version, path));
  }
  const stdlib = goVersionToSemver(info.goVersion);
  if (stdlib) packages.push(goPackage("stdlib", stdlib, path));
  return packages;
}
