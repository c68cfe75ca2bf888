/** Streaming sha256 of files: big ROMs and images are never read whole into memory. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Transform } from 'node:stream';

/** 1 MiB reads: far fewer syscalls and stream ticks than the 64 KiB default. */
const CHUNK = 1024 * 1024;

export const SHA256_HEX = /^[0-9a-f]{64}$/;

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: CHUNK })) {
    hash.update(chunk as Buffer);
  }
  return hash.digest('hex');
}

export function sha256Bytes(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * A pass-through stream that hashes and counts what flows through it, so a file
 * is hashed in the same pass that writes it to disk (no second read). `onEnd`
 * gets the hex sha256 and the size once the last byte has passed.
 */
export function hashingStream(onEnd: (sha256: string, size: number) => void): Transform {
  const hash = createHash('sha256');
  let size = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
    flush(done) {
      onEnd(hash.digest('hex'), size);
      done();
    },
  });
}

/** Why `value` is not a sha256 as sha256sum prints it, or undefined when it is one. */
export function sha256Problem(value: string): string | undefined {
  if (SHA256_HEX.test(value)) return undefined;
  if (/^[0-9a-fA-F]{64}$/.test(value)) return 'expected 64 lowercase hex digits, found uppercase hex';
  if (/^[0-9a-fA-F]+$/.test(value)) return `expected 64 lowercase hex digits, found ${value.length}`;
  return 'expected 64 lowercase hex digits';
}
