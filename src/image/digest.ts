/**
 * Digests and canonical JSON for image blobs. An image's identity is the sha256
 * of its config bytes, so every JSON blob must serialise the same way every time:
 * keys sorted at every level, no whitespace.
 */
import { createHash } from 'node:crypto';

/** `sha256:<hex>` of a buffer or string. */
export function sha256Digest(data: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** The hex part of `sha256:<hex>` (the blob's file name in `blobs/sha256/`). */
export function hexOf(digest: string): string {
  return digest.startsWith('sha256:') ? digest.slice('sha256:'.length) : digest;
}

/**
 * JSON with keys sorted at every level: equal values give equal bytes. No
 * whitespace by default (blobs); files people read pass an indent.
 */
export function canonicalJson(value: unknown, indent = 0): string {
  return JSON.stringify(sortKeys(value), null, indent);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(obj)
        .filter((k) => obj[k] !== undefined)
        .sort()
        .map((k) => [k, sortKeys(obj[k])]),
    );
  }
  return value;
}
