/**
 * Synthetic ELF files carrying Go build info, for the cases no binary on a test machine has: the pointer format of
 * Go < 1.18, 32-bit and big-endian files, missing section headers. The layout follows what the Go linker writes: a
 * `.go.buildinfo` section whose 32-byte header starts with `\xff Go buildinf:`, then the pointer size and flags.
 */

/** The sentinels the Go runtime wraps modinfo in (cmd/go/internal/modload). */
export const MODINFO_START = Buffer.from("3077af0c9274080241e1c107e6d618e6", "hex");
export const MODINFO_END = Buffer.from("f932433186182072008242104116d8f2", "hex");

export interface GoElfOptions {
  goVersion: string;
  /** modinfo as `go version -m` prints it (tab-separated lines); the sentinels are added here. */
  modinfo: string;
  format: "inline" | "pointer";
  is64?: boolean;
  littleEndian?: boolean;
  /** Leave out the section header table (e_shoff = 0), as a stripped or unusual binary might. */
  withoutSectionHeaders?: boolean;
}

const BUILDINFO_OFFSET = 0x1000;
const BUILDINFO_ADDRESS = 0x401000;
const RODATA_OFFSET = 0x2000;
const RODATA_ADDRESS = 0x402000;

function uvarint(value: number): Buffer {
  const bytes: number[] = [];
  while (value >= 0x80) {
    bytes.push((value & 0x7f) | 0x80);
    value = Math.floor(value / 128);
  }
  bytes.push(value);
  return Buffer.from(bytes);
}

export function buildGoElf(options: GoElfOptions): Buffer {
  const is64 = options.is64 ?? true;
  const le = options.littleEndian ?? true;
  const ptr = is64 ? 8 : 4;
  const modinfo = Buffer.concat([MODINFO_START, Buffer.from(options.modinfo, "utf8"), MODINFO_END]);
  const version = Buffer.from(options.goVersion, "utf8");

  const word = (value: number): Buffer => {
    const b = Buffer.alloc(ptr);
    if (is64) le ? b.writeBigUInt64LE(BigInt(value)) : b.writeBigUInt64BE(BigInt(value));
    else le ? b.writeUInt32LE(value) : b.writeUInt32BE(value);
    return b;
  };

  const header = Buffer.alloc(32);
  header.write("\xff Go buildinf:", 0, "latin1");
  header[14] = ptr;
  let buildinfo: Buffer;
  let rodata = Buffer.alloc(0);
  if (options.format === "inline") {
    header[15] = 0x2 | (le ? 0 : 0x1);
    buildinfo = Buffer.concat([header, uvarint(version.length), version, uvarint(modinfo.length), modinfo]);
  } else {
    header[15] = le ? 0 : 1;
    // rodata: [version string header][modinfo string header][version bytes][modinfo bytes]
    const versionData = RODATA_ADDRESS + 4 * ptr;
    const modinfoData = versionData + version.length;
    rodata = Buffer.concat([word(versionData), word(version.length), word(modinfoData), word(modinfo.length), version, modinfo]);
    word(RODATA_ADDRESS).copy(header, 16);
    word(RODATA_ADDRESS + 2 * ptr).copy(header, 16 + ptr);
    buildinfo = header;
  }
  if (buildinfo.length > RODATA_OFFSET - BUILDINFO_OFFSET) throw new Error("modinfo too long for this test layout");

  const shstrtab = Buffer.from("\0.go.buildinfo\0.rodata\0.shstrtab\0", "latin1");
  const shstrtabOffset = RODATA_OFFSET + rodata.length;
  const shoff = Math.ceil((shstrtabOffset + shstrtab.length) / 8) * 8;
  const shentsize = is64 ? 0x40 : 0x28;
  const sections = [
    { name: 0, type: 0, address: 0, offset: 0, size: 0 },
    { name: 1, type: 1, address: BUILDINFO_ADDRESS, offset: BUILDINFO_OFFSET, size: buildinfo.length },
    { name: 15, type: 1, address: RODATA_ADDRESS, offset: RODATA_OFFSET, size: rodata.length },
    { name: 23, type: 3, address: 0, offset: shstrtabOffset, size: shstrtab.length },
  ];
  const file = Buffer.alloc(shoff + sections.length * shentsize);
  const u16 = (v: number, at: number) => (le ? file.writeUInt16LE(v, at) : file.writeUInt16BE(v, at));
  const u32 = (v: number, at: number) => (le ? file.writeUInt32LE(v, at) : file.writeUInt32BE(v, at));
  const addr = (v: number, at: number) => word(v).copy(file, at);

  file.writeUInt32BE(0x7f454c46, 0);
  file[4] = is64 ? 2 : 1;
  file[5] = le ? 1 : 2;
  file[6] = 1;
  u16(2, 0x10); // ET_EXEC
  u16(is64 ? 62 : 3, 0x12);
  if (!options.withoutSectionHeaders) {
    if (is64) {
      addr(shoff, 0x28);
      u16(shentsize, 0x3a);
      u16(sections.length, 0x3c);
      u16(3, 0x3e);
    } else {
      u32(shoff, 0x20);
      u16(shentsize, 0x2e);
      u16(sections.length, 0x30);
      u16(3, 0x32);
    }
  }
  buildinfo.copy(file, BUILDINFO_OFFSET);
  rodata.copy(file, RODATA_OFFSET);
  shstrtab.copy(file, shstrtabOffset);
  sections.forEach((s, i) => {
    const at = shoff + i * shentsize;
    u32(s.name, at);
    u32(s.type, at + 4);
    if (is64) {
      addr(s.address, at + 0x10);
      addr(s.offset, at + 0x18);
      addr(s.size, at + 0x20);
    } else {
      u32(s.address, at + 0x0c);
      u32(s.offset, at + 0x10);
      u32(s.size, at + 0x14);
    }
  });
  return file;
}
