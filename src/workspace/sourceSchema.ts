/**
 * A board's `source:`: a local folder, a git commit, a tarball or a Debian source package.
 */
import * as z from 'zod/mini';
import { SHA256_HEX } from '../util/sha256.js';
import { matching, nonEmptyString, wholeNumber } from '../util/zod.js';
import { excludePatternProblem } from '../vocabulary/exclude.js';

const localSource = z.strictObject({
  type: z
    .literal('local')
    .check(z.describe('A folder of the workspace (the firmware tree next to its Makefiles)')),
  path: z._default(z.string(), '.').check(z.describe('Folder relative to the workspace')),
  exclude: z
    ._default(
      z.array(
        z.string().check(
          z.refine((p) => excludePatternProblem(p) === undefined, {
            error: (iss) => `expected a gitignore pattern: ${excludePatternProblem(String(iss.input))}`,
          }),
        ),
      ),
      [],
    )
    .check(
      z.describe(
        'gitignore-style patterns of files left out of a local source (.gitignore itself is not read: ignored files are copied unless listed here)',
      ),
    ),
});
const gitSource = z.strictObject({
  type: z.literal('git').check(z.describe('A git repository, checked out at one commit')),
  url: nonEmptyString().check(z.describe('Repository URL (https:, ssh: or a local path)')),
  rev: matching(/^[0-9a-f]{40}$/, 'expected a full 40-hex commit, not a branch or tag').check(
    z.describe('The full 40-hex commit to build'),
  ),
});
const tarballSource = z.strictObject({
  type: z.literal('tarball').check(z.describe('A downloaded archive, checked against its sha256')),
  url: nonEmptyString().check(z.describe('Where the archive is downloaded from')),
  sha256: matching(SHA256_HEX, 'expected 64 lowercase hex digits').check(
    z.describe('sha256 of the archive (64 lowercase hex digits)'),
  ),
  stripComponents: z
    ._default(wholeNumber(0), 1)
    .check(z.describe('Leading path components removed when unpacking (as tar --strip-components)')),
});
const debianSource = z.strictObject({
  type: z.literal('debian-source').check(z.describe('A Debian source package from the Debian archive')),
  patches: z
    .enum(['debian', 'none'], {
      error:
        'expected "debian" (the Debian quilt patches applied, as dpkg-source does) or "none" (the upstream release as Debian ships it, debian/ folder beside it)',
    })
    .check(
      z.describe(
        'Whether the Debian patches (debian/patches/series) are applied: said out loud, since the ROM differs',
      ),
    ),
  package: matching(/^[a-z0-9][a-z0-9+.-]+$/, 'expected a Debian source package name').check(
    z.describe('Source package name, e.g. seabios'),
  ),
  version: matching(/^[0-9A-Za-z.+~:-]+$/, 'expected a Debian version such as 1.16.2-1').check(
    z.describe('Debian version of the source package, e.g. 1.16.2-1'),
  ),
  sha256: z
    .record(
      matching(
        /^[A-Za-z0-9][A-Za-z0-9+.~_-]*$/,
        'expected a file name of the source package such as seabios_1.16.2-1.dsc',
      ),
      matching(SHA256_HEX, 'expected 64 lowercase hex digits'),
    )
    .check(
      z.refine((files) => Object.keys(files).filter((f) => f.endsWith('.dsc')).length === 1, {
        message:
          'expected the sha256 of each file of the source package, with exactly one .dsc (and its .orig.tar.*, .debian.tar.*)',
      }),
      z.describe('sha256 of each file of the source package (.dsc, .orig.tar.*, .debian.tar.*)'),
    ),
});

export const sourceSchema = z.discriminatedUnion(
  'type',
  [localSource, gitSource, tarballSource, debianSource],
  {
    error: 'expected one of local, git, tarball, debian-source',
  },
);
