/** Streaming sha256 of files: big ROMs and images are never read whole into memory. */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { Transform } from 'node:stream';

/** At most 1 MiB per read: far fewer syscalls than the 64 KiB stream default. */
const CHUNK = 1024 * 1024;

export const SHA256_HEX = /^[0-9a-f]{64}$/;

export async function sha256File(path: string): Promise<string> {
  const fh = await open(path, 'r');
  try {
    const st = await fh.stat();
    // Sized to the file: a 1 MiB buffer per small file would be most of the work (many small artifacts).
    const buf = Buffer.allocUnsafe(st.isFile() ? Math.min(CHUNK, st.size + 1) : CHUNK);
    const hash = createHash('sha256');
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
    }
    return hash.digest('hex');
  } finally {
    await fh.close();
  }
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
