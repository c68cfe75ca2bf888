/**
 * Re-lock the offline package set (pins/offline/debs.lock.json) from the host's apt indexes:
 *   apt-get update && npx vite-node scripts/lock-offline-debs.ts [WORKSPACE] [--set NAME]...
 * then `reprorom pin fetch offline` and `reprorom pin lock offline` (the flake's narHash changes).
 */
import { relockOffline } from '../src/offline/relock.js';

// `--set NAME` (repeatable): re-resolve only these sets (a package added to an initrd's list).
const args = process.argv.slice(2);
const only: string[] = [];
const rest: string[] = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--set') only.push(args[++i] ?? '');
  else rest.push(args[i] as string);
}
const workspace = rest[0] ?? '.';
const result = await relockOffline(
  workspace,
  (line) => process.stderr.write(`${line}\n`),
  only.length > 0 ? { only } : {},
);
process.stdout.write(`${result.changed ? 'wrote' : 'unchanged'} ${result.file}: ${result.debs} debs (${Object.entries(result.sets).map(([k, v]) => `${k} ${v}`).join(', ')})\n`);
