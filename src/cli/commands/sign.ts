/** `reprorom sign DIR --key KEY`: detached signatures of the release's manifest, hashes and provenance, and DSSE envelopes. */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readText } from '../../hashes/hashesTxt.js';
import { parseReleaseManifest, RELEASE_MANIFEST, signedFiles } from '../../release/releaseManifest.js';
import { type EnvelopeResult, envelopesOf, parseFormat, signaturesOf } from '../../release/sign.js';
import { writeFilesAtomic } from '../../util/atomic.js';
import { ExitCode, UsageError } from '../../util/errors.js';
import { withInterrupts } from '../../util/interrupt.js';
import { printLine, printOutput, writeErr } from '../output.js';

/** The files to sign: a release folder's signed set, or one file (e.g. a Heads hashes.txt); and its provenance files. */
async function filesToSign(
  target: string,
): Promise<{ files: string[]; provenance: string[]; single: boolean }> {
  if (!existsSync(target))
    throw new UsageError(`${target} does not exist`, 'pass a release folder written by `reprorom release`');
  if (statSync(target).isFile()) return { files: [target], provenance: [], single: true };
  const manifestPath = join(target, RELEASE_MANIFEST);
  const manifest = parseReleaseManifest(await readText(manifestPath), manifestPath);
  const files = signedFiles(manifest).map((f) => join(target, f));
  const absent = files.filter((f) => !existsSync(f));
  if (absent.length > 0)
    throw new UsageError(
      `the release is incomplete: ${absent.join(', ')} missing`,
      'write the release again with `reprorom release`',
    );
  return { files, provenance: manifest.boards.map((b) => join(target, b.provenance.path)), single: false };
}

export async function runSign(
  dir: string,
  opts: { key: string; format?: string; json?: boolean },
): Promise<number> {
  const target = resolve(dir);
  const format = parseFormat(opts.format, opts.key);
  const { files, provenance, single } = await filesToSign(target);
  const key = format === 'ssh' ? resolve(opts.key) : opts.key;
  // All or nothing: every signature and envelope is made first, then all are written
  // together, so a failure or a signal midway leaves the release as it was.
  const { signatures, envelopes } = await withInterrupts(
    async (signal) => {
      const sigs = await signaturesOf(files, key, format, { followLinks: single, signal });
      const envs: EnvelopeResult =
        format === 'ssh' && provenance.length > 0
          ? await envelopesOf(provenance, key)
          : {
              pending: [],
              ...(provenance.length > 0
                ? {
                    skipped:
                      'DSSE envelopes are signed with OpenSSH ed25519 keys only; the detached signatures cover the provenance',
                  }
                : {}),
            };
      signal.throwIfAborted();
      await writeFilesAtomic([...sigs, ...envs.pending]);
      return {
        signatures: sigs.map((p) => p.path),
        envelopes: { written: envs.pending.map((p) => p.path), skipped: envs.skipped },
      };
    },
    // A signal during the final renames: every signature is written, and the message says so.
    { completed: () => `every signature was written to ${dir}` },
  );
  if (opts.json)
    printOutput('sign', {
      schema: 'reprorom.sign/v1',
      ok: true,
      format,
      files,
      signatures,
      envelopes: envelopes.written,
      ...(envelopes.skipped ? { envelopesSkipped: envelopes.skipped } : {}),
    });
  else {
    for (const s of signatures) printLine(`signed ${s}`);
    for (const e of envelopes.written) printLine(`signed ${e} (DSSE envelope of the provenance)`);
    if (envelopes.skipped) writeErr(`reprorom: note: ${envelopes.skipped}\n`);
    printLine(
      `check it:  reprorom verify ${dir} --no-rebuild --key ${format === 'ssh' ? 'SIGNER.pub' : 'SIGNER-public-key.asc'}`,
    );
  }
  return ExitCode.ok;
}
