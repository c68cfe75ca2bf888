/**
 * Reads cpio archives in the "newc" format the Linux kernel's initramfs uses (`070701`, and
 * `070702` with checksums), gzip-compressed or not, and concatenated archives as the kernel
 * accepts them. Each member becomes its name, kind, metadata and the sha256 of its data, so
 * two initrds can be compared member by member ("which file of the initrd differs").
 * No npm package reads newc and is kept up; the format is a fixed 110-byte ASCII header.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';

export interface CpioMember {
  /** The name as stored (`./init`, `bin/busybox`, …). */
  name: string;
  kind: 'file' | 'dir' | 'symlink' | 'other';
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  size: number;
  /** sha256 of the member's data (a symlink's target; empty for folders). */
  sha256: string;
}

const HEADER = 110;
const TRAILER = 'TRAILER!!!';
/** An initrd larger than this (after decompression) is not listed: the explanation stays bounded. */
export const MAX_CPIO_BYTES = 1024 * 1024 * 1024;

const pad4 = (n: number) => (n + 3) & ~3;

/** True when the bytes start like a newc cpio archive or a gzip stream. */
export function looksLikeCpio(head: Buffer): boolean {
  const magic = head.subarray(0, 6).toString('latin1');
  return magic === '070701' || magic === '070702' || (head[0] === 0x1f && head[1] === 0x8b);
}

/** The first bytes of a file (to decide whether it is worth reading as an archive). */
export async function fileHead(path: string, n = 8): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await handle.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * The members of a newc archive (gunzipped first when it is gzip). Throws an Error naming the
 * offset when the bytes are not a well-formed archive; the caller treats that as "not a cpio".
 */
export function readCpio(data: Buffer): CpioMember[] {
  let bytes = data;
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes, { maxOutputLength: MAX_CPIO_BYTES });
  const members: CpioMember[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    // Between concatenated archives the kernel skips zero padding.
    if (bytes[pos] === 0) {
      pos++;
      continue;
    }
    if (bytes[pos] === 0x1f && bytes[pos + 1] === 0x8b) {
      // A gzip-compressed archive appended to an uncompressed one (early microcode + initrd).
      members.push(...readCpio(bytes.subarray(pos)));
      break;
    }
    const magic = bytes.toString('latin1', pos, pos + 6);
    if (magic !== '070701' && magic !== '070702')
      throw new Error(`not a newc cpio header at offset ${pos} (magic ${JSON.stringify(magic)})`);
    if (pos + HEADER > bytes.length) throw new Error(`truncated cpio header at offset ${pos}`);
    const field = (i: number) => {
      const text = bytes.toString('latin1', pos + 6 + i * 8, pos + 14 + i * 8);
      if (!/^[0-9a-fA-F]{8}$/.test(text))
        throw new Error(`bad cpio header field at offset ${pos + 6 + i * 8}`);
      return Number.parseInt(text, 16);
    };
    const mode = field(1);
    const uid = field(2);
    const gid = field(3);
    const mtime = field(5);
    const size = field(6);
    const nameSize = field(11);
    const nameStart = pos + HEADER;
    if (nameSize < 1 || nameStart + nameSize > bytes.length)
      throw new Error(`truncated cpio name at offset ${nameStart}`);
    // The stored name ends with a NUL.
    const name = bytes.toString('utf8', nameStart, nameStart + nameSize - 1);
    const dataStart = pad4(nameStart + nameSize);
    const dataEnd = dataStart + size;
    if (dataEnd > bytes.length) throw new Error(`truncated cpio data of "${name}" at offset ${dataStart}`);
    pos = pad4(dataEnd);
    if (name === TRAILER) continue;
    const type = mode & 0o170000;
    members.push({
      name,
      kind: type === 0o100000 ? 'file' : type === 0o040000 ? 'dir' : type === 0o120000 ? 'symlink' : 'other',
      mode: mode & 0o7777,
      uid,
      gid,
      mtime,
      size,
      sha256: createHash('sha256').update(bytes.subarray(dataStart, dataEnd)).digest('hex'),
    });
  }
  return members;
}

export interface CpioMemberDiff {
  /** The member's name with a leading `./` dropped, as Heads' hashes.txt lists it (`./init`). */
  name: string;
  /** `content`: its data differ; `only in A`/`only in B`: one archive lacks it; `metadata`: same data, other mode, owner or mtime. */
  change: 'content' | 'only in A' | 'only in B' | 'metadata';
  /** What differs, for a person: `sha256 1a2b…/3c4d…`, `mtime 0/1700000000`. */
  detail: string;
}

const memberKey = (name: string) => `./${name.replace(/^(\.\/)+/, '').replace(/^\/+/, '')}`;

/** The members that differ between two archives, contents first, in archive order. */
export function diffCpio(a: readonly CpioMember[], b: readonly CpioMember[]): CpioMemberDiff[] {
  const inB = new Map(b.map((m) => [memberKey(m.name), m]));
  const inA = new Set(a.map((m) => memberKey(m.name)));
  const content: CpioMemberDiff[] = [];
  const metadata: CpioMemberDiff[] = [];
  for (const m of a) {
    const key = memberKey(m.name);
    const other = inB.get(key);
    if (!other) {
      content.push({ name: key, change: 'only in A', detail: `${m.kind}, ${m.size} bytes` });
      continue;
    }
    if (m.sha256 !== other.sha256 || m.kind !== other.kind) {
      content.push({
        name: key,
        change: 'content',
        detail: `sha256 ${m.sha256.slice(0, 12)}…/${other.sha256.slice(0, 12)}…, ${m.size}/${other.size} bytes`,
      });
      continue;
    }
    const meta = (['mode', 'uid', 'gid', 'mtime'] as const)
      .filter((f) => m[f] !== other[f])
      .map(
        (f) =>
          `${f} ${f === 'mode' ? m[f].toString(8) : m[f]}/${f === 'mode' ? other[f].toString(8) : other[f]}`,
      );
    if (meta.length > 0) metadata.push({ name: key, change: 'metadata', detail: meta.join(', ') });
  }
  for (const m of b) {
    const key = memberKey(m.name);
    if (!inA.has(key)) content.push({ name: key, change: 'only in B', detail: `${m.kind}, ${m.size} bytes` });
  }
  return [...content, ...metadata];
}

/** The diff as report lines (at most `limit` members listed, the rest counted). */
export function formatCpioDiff(diffs: readonly CpioMemberDiff[], limit = 40): string[] {
  if (diffs.length === 0)
    return ['cpio members: every member identical (the archives differ in order or padding)'];
  const lines = [
    `cpio members that differ (${diffs.length}${diffs.length > limit ? `, first ${limit} shown` : ''}):`,
  ];
  for (const d of diffs.slice(0, limit)) lines.push(`  ${d.change} ${JSON.stringify(d.name)}: ${d.detail}`);
  return lines;
}
