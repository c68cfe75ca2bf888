/**
 * A `file:` URL as a local path, or why it is not one. Node's fileURLToPath throws on a
 * host (`file://evil.example/etc/passwd`) and on an encoded `/` (`%2f`): as TypeErrors,
 * which would surface as internal errors. Here each is a sentence a message can carry.
 */
import { fileURLToPath } from 'node:url';
import { printable } from './printable.js';

export type FileUrlPath = { ok: true; path: string } | { ok: false; problem: string };

export function fileUrlPath(url: string | URL): FileUrlPath {
  let parsed: URL;
  try {
    parsed = typeof url === 'string' ? new URL(url) : url;
  } catch {
    return { ok: false, problem: 'is not a URL' };
  }
  if (parsed.protocol !== 'file:') return { ok: false, problem: 'is not a file: URL' };
  if (parsed.hostname !== '' && parsed.hostname !== 'localhost')
    return {
      ok: false,
      problem: `names the host ${printable(parsed.hostname)}, expected a local file (file:///path, no host)`,
    };
  if (/%2f|%5c|%00/i.test(parsed.pathname))
    return {
      ok: false,
      problem: 'encodes a "/", "\\" or NUL character (%2f, %5c, %00), expected a plain path',
    };
  try {
    return { ok: true, path: fileURLToPath(parsed) };
  } catch (err) {
    return { ok: false, problem: `is not a local file path (${(err as Error).message.split('\n')[0]})` };
  }
}
