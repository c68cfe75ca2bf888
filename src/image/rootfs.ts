/**
 * The small root layer every image gets: a shell and env where scripts expect
 * them, a world-writable /tmp and /build, and /etc/passwd + /etc/group with a
 * non-root build user. With FHS links, /bin, /usr, /lib… point into one store
 * path (a Debian-style toolchain tree), which then provides /bin/sh itself.
 */
import type { LayerEntry } from './layerTar.js';

export interface RootLayerSpec {
  user: { name: string; uid: number };
  /** Absolute store path of a `sh` (used when there are no FHS links). */
  shell?: string;
  /** Absolute store path of an `env` (used when there are no FHS links). */
  env?: string;
  fhs?: { target: string; links: string[] };
}

const text = (s: string) => Buffer.from(s, 'utf8');

export function rootLayerEntries(spec: RootLayerSpec): LayerEntry[] {
  const { name, uid } = spec.user;
  const entries: LayerEntry[] = [];
  const fhsLinks = new Map(
    (spec.fhs?.links ?? []).map((l) => [l.replace(/^\/+/, ''), `${spec.fhs?.target}${l}`]),
  );
  const dir = (path: string, mode = 0o755) => {
    if (!fhsLinks.has(path)) entries.push({ name: path, type: 'dir', mode });
  };
  // Folders and links, written in sorted order so the layer bytes never depend on code order.
  const all: LayerEntry[] = [];
  const add = (e: LayerEntry) => all.push(e);
  for (const [link, target] of fhsLinks) add({ name: link, type: 'symlink', target });
  if (!fhsLinks.has('bin')) {
    dir('bin');
    if (spec.shell) add({ name: 'bin/sh', type: 'symlink', target: spec.shell });
  }
  if (!fhsLinks.has('usr')) {
    dir('usr');
    dir('usr/bin');
    if (spec.env) add({ name: 'usr/bin/env', type: 'symlink', target: spec.env });
  }
  dir('build', 0o1777);
  dir('etc');
  dir('tmp', 0o1777);
  dir('var');
  dir('var/tmp', 0o1777);
  add({
    name: 'etc/passwd',
    type: 'data',
    mode: 0o644,
    data: text(
      `root:x:0:0:root:/root:/bin/sh\n${name}:x:${uid}:${uid}:reprorom build user:/build/home:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n`,
    ),
  });
  add({
    name: 'etc/group',
    type: 'data',
    mode: 0o644,
    data: text(`root:x:0:\n${name}:x:${uid}:\nnogroup:x:65534:\n`),
  });
  add({
    name: 'etc/nsswitch.conf',
    type: 'data',
    mode: 0o644,
    data: text('passwd: files\ngroup: files\nhosts: files\n'),
  });
  add({ name: 'etc/hosts', type: 'data', mode: 0o644, data: text('127.0.0.1 localhost\n::1 localhost\n') });
  const byName = [...entries, ...all].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return byName;
}
