/**
 * The small root layer every image gets on top of its store layers: /bin/sh and
 * /usr/bin/env where scripts expect them, /tmp and /var/tmp (1777), /etc/passwd
 * and /etc/group with root and a non-root build user, and /build owned by that
 * user. With FHS links, /bin, /usr, /lib… point into one store path (a
 * Debian-style toolchain tree, as nixpkgs' buildFHSEnv does), which then
 * provides /bin/sh itself, so no /bin/sh link is written next to the /bin link.
 */
import { ImageBuildError } from '../util/errors.js';
import { type LayerEntry, parentDirs, pathOrder } from './tarLayer.js';

export interface RootLayerSpec {
  /** The build user; its group has the same name and number. */
  user: { name: string; uid: number };
  /** Links `/<link>` → `<target>/<link>` for each link (e.g. /bin, /usr, /lib, /lib64). */
  fhs?: { target: string; links: string[] };
  /** Absolute store path of a `sh`, linked at /bin/sh (needed unless an FHS link provides /bin). */
  shell?: string;
  /** Absolute store path of an `env`, linked at /usr/bin/env (skipped when an FHS link provides /usr). */
  env?: string;
}

/**
 * /build is where builds run. Runs may vary the uid (a reproducibility
 * variation), so besides belonging to the build user it is world-writable with
 * the sticky bit, like /tmp.
 */
export const BUILD_DIR_MODE = 0o1777;

const text = (s: string) => Buffer.from(s, 'utf8');
const rel = (p: string) => p.replace(/^\/+/, '').replace(/\/+$/, '');

function validate(spec: RootLayerSpec): void {
  const { name, uid } = spec.user;
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(name) || name === 'root') {
    throw new ImageBuildError(
      `"${name}" is not a usable build user name`,
      'use a lower-case name such as "build" (not root)',
    );
  }
  if (!Number.isInteger(uid) || uid < 1 || uid > 65533) {
    throw new ImageBuildError(
      `build user uid ${uid} is not a non-root uid`,
      'use a uid from 1 to 65533, such as 1000',
    );
  }
  for (const [what, p] of [
    ['shell', spec.shell],
    ['env', spec.env],
    ['fhs target', spec.fhs?.target],
  ] as const) {
    if (p !== undefined && !p.startsWith('/')) {
      throw new ImageBuildError(
        `the root layer's ${what} "${p}" is not an absolute path`,
        'pass the absolute store path',
      );
    }
  }
}

/** The root layer's entries, in the order they are written (sorted, folders first). */
export function rootLayerEntries(spec: RootLayerSpec): LayerEntry[] {
  validate(spec);
  const { name, uid } = spec.user;
  const links = new Map<string, string>();
  for (const l of spec.fhs?.links ?? []) {
    const link = rel(l);
    if (link === '')
      throw new ImageBuildError(
        `FHS link "${l}" is not a path`,
        'list links such as /bin, /usr, /lib, /lib64',
      );
    links.set(link, `${spec.fhs!.target.replace(/\/+$/, '')}/${link}`);
  }
  const covered = (path: string) => [...links.keys()].some((l) => path === l || path.startsWith(`${l}/`));

  const wanted: LayerEntry[] = [
    { name: 'build', type: 'dir', mode: BUILD_DIR_MODE, uid, gid: uid },
    { name: 'root', type: 'dir', mode: 0o700 },
    { name: 'tmp', type: 'dir', mode: 0o1777 },
    { name: 'var/tmp', type: 'dir', mode: 0o1777 },
    {
      name: 'etc/passwd',
      type: 'data',
      mode: 0o644,
      data: text(
        `root:x:0:0:root:/root:/bin/sh\n${name}:x:${uid}:${uid}:reprorom build user:/build/home:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n`,
      ),
    },
    {
      name: 'etc/group',
      type: 'data',
      mode: 0o644,
      data: text(`root:x:0:\n${name}:x:${uid}:\nnogroup:x:65534:\n`),
    },
    {
      name: 'etc/nsswitch.conf',
      type: 'data',
      mode: 0o644,
      data: text('passwd: files\ngroup: files\nhosts: files\n'),
    },
  ];
  const essential = wanted.find((e) => covered(e.name));
  if (essential) {
    throw new ImageBuildError(
      `an FHS link would hide /${essential.name}`,
      'link only toolchain folders such as /bin, /usr, /lib, /lib64',
    );
  }
  if (!covered('bin/sh')) {
    if (!spec.shell) {
      throw new ImageBuildError(
        'the image has no /bin/sh: no shell and no FHS /bin link',
        'add a shell package (bash, busybox) or an FHS /bin link',
      );
    }
    wanted.push({ name: 'bin/sh', type: 'symlink', target: spec.shell });
  }
  if (!covered('usr/bin/env') && spec.env)
    wanted.push({ name: 'usr/bin/env', type: 'symlink', target: spec.env });
  for (const [link, target] of links) wanted.push({ name: link, type: 'symlink', target });

  // Folders leading to each entry, unless the entry itself is that folder.
  const byName = new Map<string, LayerEntry>();
  for (const e of wanted) {
    for (const d of parentDirs(e.name))
      if (!byName.has(d)) byName.set(d, { name: d, type: 'dir', mode: 0o755 });
  }
  for (const e of wanted) byName.set(e.name, e);
  return [...byName.values()].sort((a, b) => pathOrder(a.name, b.name));
}
