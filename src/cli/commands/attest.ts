/** `reprorom attest RELEASE --rebuilt DIR --key KEY --builder-id ID --out FILE`: a signed rebuild attestation. */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { readReleaseIdentity, rebuildStatement, signStatement } from '../../attest/statement.js';
import { BUILDER_ID } from '../../attest/threshold.js';
import { formatEnvelope, readEd25519PrivateKey } from '../../release/dsse.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { ExitCode, UsageError } from '../../util/errors.js';
import { printLine } from '../output.js';

export interface AttestCliOptions {
  rebuilt: string;
  key: string;
  builderId: string;
  out: string;
  variation?: string[];
}

export async function runAttest(release: string, opts: AttestCliOptions): Promise<number> {
  if (!BUILDER_ID.test(opts.builderId))
    throw new UsageError(
      `--builder-id ${JSON.stringify(opts.builderId)} is not a plain name`,
      'use letters, digits and ._@:/-',
    );
  let keyText: string;
  try {
    keyText = await readFile(resolve(opts.key), 'utf8');
  } catch {
    throw new UsageError(
      `--key ${opts.key}: cannot read the key file`,
      'pass an OpenSSH ed25519 private key file',
    );
  }
  const key = readEd25519PrivateKey(keyText, opts.key);
  if (!key)
    throw new UsageError(`--key ${opts.key} is not an ed25519 key`, 'create one with ssh-keygen -t ed25519');
  const identity = await readReleaseIdentity(resolve(release));
  const statement = await rebuildStatement(
    identity,
    resolve(opts.rebuilt),
    { id: opts.builderId, keyid: key.keyid },
    opts.variation ?? [],
    new Date(),
  );
  await writeFileAtomic(resolve(opts.out), formatEnvelope(signStatement(statement, key)));
  for (const r of statement.predicate.roms) printLine(`${r.verdict.padEnd(9)} ${r.name}`);
  printLine(`wrote ${opts.out} (signed by ${opts.builderId}, ${key.keyid})`);
  return ExitCode.ok;
}
