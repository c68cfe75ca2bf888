/** Every entry of a tar file with its bytes, for tests that check what was written. */
import { createReadStream } from 'node:fs';
import { extract, type Header } from 'tar-stream';

export async function tarEntries(
  file: string | NodeJS.ReadableStream,
): Promise<Array<{ header: Header; body: Buffer }>> {
  const out: Array<{ header: Header; body: Buffer }> = [];
  const ex = extract();
  ex.on('entry', (header, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: unknown) => {
      chunks.push(c as Buffer);
    });
    stream.on('end', () => {
      out.push({ header, body: Buffer.concat(chunks) });
      next();
    });
  });
  await new Promise((res, rej) => {
    ex.on('finish', () => res(undefined)).on('error', rej);
    (typeof file === 'string' ? createReadStream(file) : file).pipe(ex);
  });
  return out;
}
