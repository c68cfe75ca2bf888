/**
 * What a release folder may hold: the files its signed manifest names (manifest.json,
 * hashes.txt, each board's hashes.txt, provenance and artifacts), the detached
 * signatures of the signed ones and each provenance's DSSE envelope. Anything else (an `evil.rom` dropped next to the real
 * ROM) is covered by no signature, and a user reading the folder could take it for
 * part of the release: verify refuses it by name.
 */
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { comparePaths } from '../hashes/artifactPath.js';
import { printable } from '../util/printable.js';
import { fileKind } from '../util/regularFile.js';
import { envelopePath } from './dsse.js';
import { RELEASE_HASHES, RELEASE_MANIFEST, type ReleaseManifest, signedFiles } from './releaseManifest.js';
import { SIGNATURE_EXT, type SignFormat } from './sign.js';

/** Every path (relative, with `/`) the signed manifest accounts for. */
export function listedFiles(m: ReleaseManifest): Set<string> {
  const listed = new Set<string>([RELEASE_MANIFEST, RELEASE_HASHES]);
  for (const b of m.boards) {
    listed.add(b.hashes);
    listed.add(b.provenance.path);
    listed.add(envelopePath(b.provenance.path));
    for (const a of b.artifacts) listed.add(a.path);
  }
  for (const f of signedFiles(m)) for (const ext of Object.values(SIGNATURE_EXT)) listed.add(`${f}${ext}`);
  return listed;
}

/**
 * Files, links and other non-folders under `dir` that the manifest does not account
 * for, sorted. Folders are walked, never followed through a symbolic link.
 */
export async function unlistedFiles(dir: string, m: ReleaseManifest): Promise<string[]> {
  const listed = listedFiles(m);
  const extra: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const name of await readdir(join(dir, rel))) {
      const path = rel ? `${rel}/${name}` : name;
      const s = await lstat(join(dir, path));
      if (s.isDirectory()) await walk(path);
      else if (!listed.has(path)) extra.push(path);
    }
  };
  await walk('');
  return extra.sort(comparePaths);
}

/** Detached signatures of the format this verify does not use, present in the folder (lstat only). */
export async function otherFormatSignatures(
  dir: string,
  m: ReleaseManifest,
  used: SignFormat,
): Promise<string[]> {
  const found: string[] = [];
  for (const [format, ext] of Object.entries(SIGNATURE_EXT))
    if (format !== used)
      for (const f of signedFiles(m))
        if (
          await lstat(join(dir, `${f}${ext}`)).then(
            () => true,
            () => false,
          )
        )
          found.push(`${f}${ext}`);
  return found;
}

/** How a path of the release folder is named in a message: plain when printable, else JSON-quoted. */
export const shownPath = (p: string): string => (/^[\x20-\x7e]*$/.test(p) ? p : JSON.stringify(p));

/**
 * Everything under `dir` that is neither a folder nor a regular file, with what it is
 * (`bios.rom is a symbolic link to /srv/bios.rom`), sorted. A release folder holds
 * regular files only: a link may lead out of the folder (to identical bytes, or to
 * /dev/zero), a FIFO blocks whoever opens it. Only lstat and readlink: nothing is
 * opened, and no link is followed.
 */
export async function irregularEntries(dir: string): Promise<string[]> {
  const found: Array<{ path: string; text: string }> = [];
  const walk = async (rel: string): Promise<void> => {
    for (const name of await readdir(join(dir, rel))) {
      const path = rel ? `${rel}/${name}` : name;
      const s = await lstat(join(dir, path));
      if (s.isDirectory()) await walk(path);
      else if (s.isSymbolicLink()) {
        const target = await readlink(join(dir, path)).catch(() => '?');
        found.push({ path, text: `${shownPath(path)} is a symbolic link to ${printable(target)}` });
      } else if (!s.isFile()) found.push({ path, text: `${shownPath(path)} is ${fileKind(s)}` });
    }
  };
  await walk('');
  return found.sort((a, b) => comparePaths(a.path, b.path)).map((f) => f.text);
}
