/**
 * Containers one reprorom process created, found by the owner label every container carries
 * (`reprorom.owner=HOST:PID`, src/engine/docker.ts). Counting every reprorom container on the
 * engine would also count those of other builds running at the same time on this machine.
 */
import { execa } from 'execa';
import { OWNER_LABEL, ownerId } from '../../src/engine/port.js';

/** IDs of the containers (running or not) that the reprorom process `pid` created and left. */
export async function containersOfProcess(pid: number): Promise<string[]> {
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no process id to look for containers of (${pid})`);
  const r = await execa('docker', [
    'ps',
    '-aq',
    '--no-trunc',
    '--filter',
    `label=${OWNER_LABEL}=${ownerId(pid)}`,
  ]);
  return r.stdout.split('\n').filter(Boolean);
}
