/**
 * The few facts of an ELF file the dynamic loader acts on: which loader it asks for
 * (PT_INTERP), which libraries it needs (DT_NEEDED) and where it says to look (DT_RPATH,
 * DT_RUNPATH), and the name a library answers to (DT_SONAME). Read from the bytes, never by running the file: the initrd's programs are of
 * another architecture as often as not.
 */

export interface ElfFacts {
  /** e_machine (62 x86-64, 183 aarch64 …) and 32/64-bit: a library must match both to be loaded. */
  machine: number;
  bits: 32 | 64;
  interpreter: string | undefined;
  needed: string[];
  rpath: string[];
  runpath: string[];
  /** DT_SONAME: the name other files' DT_NEEDED use for this library. */
  soname: string | undefined;
}

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const DT_NEEDED = 1;
const DT_STRTAB = 5;
const DT_SONAME = 14;
const DT_RPATH = 15;
const DT_RUNPATH = 29;

export function isElf(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46
  );
}

/**
 * The loader facts of an executable or shared object; undefined for what the loader never
 * maps itself (relocatable objects, core files) or a file too short to be one.
 */
export function readElf(bytes: Uint8Array): ElfFacts | undefined {
  if (!isElf(bytes) || bytes.length < 52) return undefined;
  const bits = bytes[4] === 2 ? 64 : bytes[4] === 1 ? 32 : undefined;
  if (bits === undefined || (bytes[5] !== 1 && bytes[5] !== 2)) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = bytes[5] === 1;
  const u16 = (at: number) => view.getUint16(at, le);
  const u32 = (at: number) => view.getUint32(at, le);
  const word = (at: number) => (bits === 64 ? Number(view.getBigUint64(at, le)) : u32(at));
  const inFile = (at: number, size: number) => at >= 0 && size >= 0 && at + size <= bytes.length;

  const type = u16(16);
  if (type !== 2 && type !== 3) return undefined; // ET_EXEC, ET_DYN
  const machine = u16(18);
  const phoff = word(bits === 64 ? 0x20 : 0x1c);
  const phentsize = u16(bits === 64 ? 0x36 : 0x2a);
  const phnum = u16(bits === 64 ? 0x38 : 0x2c);
  if (!inFile(phoff, phentsize * phnum)) return undefined;

  const loads: Array<{ vaddr: number; offset: number; size: number }> = [];
  let interpreter: string | undefined;
  let dynamic: { offset: number; size: number } | undefined;
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    const pType = u32(at);
    const offset = bits === 64 ? word(at + 8) : u32(at + 4);
    const vaddr = bits === 64 ? word(at + 16) : u32(at + 8);
    const filesz = bits === 64 ? word(at + 32) : u32(at + 16);
    if (pType === PT_LOAD) loads.push({ vaddr, offset, size: filesz });
    else if (pType === PT_INTERP && inFile(offset, filesz))
      interpreter = cString(bytes, offset, offset + filesz);
    else if (pType === PT_DYNAMIC && inFile(offset, filesz)) dynamic = { offset, size: filesz };
  }

  const facts: ElfFacts = {
    machine,
    bits,
    interpreter,
    needed: [],
    rpath: [],
    runpath: [],
    soname: undefined,
  };
  if (!dynamic) return facts;
  const entry = bits === 64 ? 16 : 8;
  const tags: Array<[number, number]> = [];
  let strtab: number | undefined;
  for (let at = dynamic.offset; at + entry <= dynamic.offset + dynamic.size; at += entry) {
    const tag = bits === 64 ? Number(view.getBigInt64(at, le)) : view.getInt32(at, le);
    const value = word(at + entry / 2);
    if (tag === 0) break;
    if (tag === DT_STRTAB) strtab = value;
    else tags.push([tag, value]);
  }
  // DT_STRTAB is an address: the PT_LOAD segment that maps it says where it is in the file.
  const load =
    strtab === undefined ? undefined : loads.find((l) => strtab! >= l.vaddr && strtab! < l.vaddr + l.size);
  if (strtab === undefined || !load) return facts;
  const table = load.offset + (strtab - load.vaddr);
  const str = (index: number) => cString(bytes, table + index, bytes.length);
  for (const [tag, value] of tags) {
    if (tag === DT_NEEDED) facts.needed.push(str(value));
    else if (tag === DT_RPATH) facts.rpath.push(...str(value).split(':').filter(Boolean));
    else if (tag === DT_RUNPATH) facts.runpath.push(...str(value).split(':').filter(Boolean));
    else if (tag === DT_SONAME) facts.soname = str(value);
  }
  return facts;
}

function cString(bytes: Uint8Array, from: number, to: number): string {
  let end = from;
  while (end < to && end < bytes.length && bytes[end] !== 0) end++;
  return Buffer.from(bytes.subarray(from, end)).toString('latin1');
}
