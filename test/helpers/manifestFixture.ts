/** A board run's manifest as reprorom writes it (a SeaBIOS run), for tests that edit one field. */
import type { ManifestInput } from '../../src/hashes/runManifest.js';

export const NAR = 'sha256-vV78idCKkA39FG6H/dEbcvh97RzTpkxw37dgxJxMDH8=';
export const IMAGE = `sha256:${'5'.repeat(64)}`;
export const ROM = 'ac0a6169676be8a2a937264e6551e55d0010507628c5b8917adda5e7f0463435';

export function sampleManifest(over: Partial<ManifestInput> = {}): ManifestInput {
  return {
    schema: 'reprorom.manifest/v1',
    tool: { name: 'reprorom', version: '0.1.0' },
    board: 'seabios-qemu',
    run: { id: '20261122-111606-fa7ea0', index: 1 },
    source: {
      type: 'debian-source',
      hash: 'a'.repeat(64),
      package: 'seabios',
      version: '1.16.2-1',
      files: { 'seabios_1.16.2-1.dsc': 'e'.repeat(64), 'seabios_1.16.2.orig.tar.gz': 'f'.repeat(64) },
    },
    pin: { name: 'offline', flake: 'path:./pins/offline', narHash: NAR },
    extraPins: [],
    image: { name: 'firmware', id: IMAGE },
    commands: ['make PYTHON=python3 EXTRAVERSION=-reprorom'],
    env: {
      HOME: '/build/home',
      LANG: 'C.UTF-8',
      LC_ALL: 'C.UTF-8',
      MAKEFLAGS: '-j2',
      REPROROM_JOBS: '2',
      SOURCE_DATE_EPOCH: '1681218505',
      TZ: 'UTC',
      USER: 'build',
    },
    sourceDateEpoch: 1681218505,
    variations: {
      hostname: 'reprorom',
      uid: 1000,
      umask: '0022',
      tz: 'UTC',
      locale: 'C.UTF-8',
      jobs: 2,
      fileOrder: 'sorted',
      seed: 0,
    },
    artifacts: [{ path: 'artifacts/out/bios.bin', sha256: ROM, size: 262144 }],
    durationMs: 13870,
    exitCode: 0,
    result: 'ok',
    ...over,
  };
}
