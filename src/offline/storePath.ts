/**
 * Nix store names and fixed-output store paths, computed without nix so fetch can
 * ask "is this deb already in the store?" for all debs in one `nix-store` call.
 * The algorithm is nix's makeFixedOutputPath (store path = hash of name + content hash).
 */
import { createHash } from 'node:crypto';

export const STORE_DIR = '/nix/store';

/** Characters nix accepts in a store path name. */
export const STORE_NAME_PATTERN = /^[A-Za-z0-9+._?=-]+$/;

/**
 * A Debian file name made store-safe and still unambiguous: fields are joined
 * with `=` (Debian names and versions never contain it), an epoch `N:` (apt writes
 * `%3a`) becomes `eN=` before the version, and `~` (pre-release) becomes `?`.
 * Example: cpp-riscv64-linux-gnu 4:12.2.0-5 amd64 → cpp-riscv64-linux-gnu=e4=12.2.0-5=amd64.deb
 */
export function storeNameOf(name: string, version: string, arch: string, ext = 'deb'): string {
  const decoded = version.replace(/%3a/gi, ':');
  const colon = decoded.indexOf(':');
  const epoch = colon > 0 ? `e${decoded.slice(0, colon)}=` : '';
  const upstream = colon > 0 ? decoded.slice(colon + 1) : decoded;
  return sanitizeStoreName(`${name}=${epoch}${upstream}=${arch}.${ext}`);
}

/** Replace what nix refuses in a name (anything outside [A-Za-z0-9+._?=-], a leading dot). */
export function sanitizeStoreName(raw: string): string {
  const mapped = raw.replace(/~/g, '?').replace(/[^A-Za-z0-9+._?=-]/g, '-');
  return mapped.startsWith('.') ? `x${mapped}` : mapped;
}

const BASE32 = '0123456789abcdfghijklmnpqrsvwxyz';

/** Nix's base-32 (its own alphabet, least significant digit last). */
export function nixBase32(bytes: Uint8Array): string {
  const len = Math.floor((bytes.length * 8 - 1) / 5) + 1;
  let s = '';
  for (let n = len - 1; n >= 0; n--) {
    const b = n * 5;
    const i = Math.floor(b / 8);
    const j = b % 8;
    const lo = (bytes[i] ?? 0) >> j;
    const hi = i >= bytes.length - 1 ? 0 : (bytes[i + 1] ?? 0) << (8 - j);
    s += BASE32[(lo | hi) & 0x1f];
  }
  return s;
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** XOR-fold a hash to `size` bytes, as nix does for store path digests. */
function compress(hash: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(size);
  hash.forEach((b, i) => {
    out[i % size] = (out[i % size] ?? 0) ^ b;
  });
  return out;
}

function makeStorePath(type: string, innerHex: string, name: string): string {
  const digest = compress(sha256(`${type}:sha256:${innerHex}:${STORE_DIR}:${name}`), 20);
  return `${STORE_DIR}/${nixBase32(digest)}-${name}`;
}

/** `nix-store --add-fixed sha256 FILE` (flat: the file's own sha256). */
export function flatFixedPath(sha256Hex: string, name: string): string {
  return makeStorePath('output:out', sha256(`fixed:out:sha256:${sha256Hex}:`).toString('hex'), name);
}

/** `nix-store --add-fixed --recursive sha256 DIR` (recursive: the NAR's sha256). */
export function recursiveFixedPath(narHashSri: string, name: string): string {
  return makeStorePath('source', sriToHex(narHashSri), name);
}

export function sriToHex(sri: string): string {
  const m = /^sha256-([A-Za-z0-9+/]{43}=)$/.exec(sri);
  if (!m?.[1]) throw new Error(`not an SRI sha256 hash: ${sri}`);
  return Buffer.from(m[1], 'base64').toString('hex');
}
