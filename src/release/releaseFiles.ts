/**
 * What a release folder may hold: the files its signed manifest names (manifest.json,
 * hashes.txt, each board's hashes.txt, provenance and artifacts), the detached
 * signatures of the signed ones and each provenance's DSSE envelope. Anything else (an `evil.rom` dropped next to the real
 * ROM) is covered by no signature, and a user reading the folder could take it for
 * part of the release: verify refuses it by name.
 */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { comparePaths } from '../hashes/artifactPath.js';
import { envelopePath } from './dsse.js';
import { RELEASE_HASHES, RELEASE_MANIFEST, type ReleaseManifest, signedFiles } from './releaseManifest.js';
import { SIGNATURE_EXT } from './sign.js';

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
