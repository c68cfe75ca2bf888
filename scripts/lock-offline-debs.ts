/**
 * Re-lock the offline package set (pins/offline/debs.lock.json) from the host's apt indexes:
 *   apt-get update && npx vite-node scripts/lock-offline-debs.ts [WORKSPACE]
 * then `reprorom pin fetch offline` and `reprorom pin lock offline` (the flake's narHash changes).
 */
import { relockOffline } from '../src/offline/relock.js';

const workspace = process.argv[2] ?? '.';
const result = await relockOffline(workspace, (line) => process.stderr.write(`${line}\n`));
process.stdout.write(`${result.changed ? 'wrote' : 'unchanged'} ${result.file}: ${result.debs} debs (${Object.entries(result.sets).map(([k, v]) => `${k} ${v}`).join(', ')})\n`);
