/**
 * A board's `inputs:`: another board's artifact or a pinned file, each placed in the source tree.
 */
import { posix } from 'node:path';
import * as z from 'zod/mini';
import { checkRelativeName } from '../archive/containment.js';
import { SHA256_HEX } from '../util/sha256.js';
import { matching, nonEmptyString } from '../util/zod.js';
import { artifactPath, name } from './schemaParts.js';

/**
 * What a board takes besides its source, each placed at `path` in the source tree before the
 * build: another board's artifact (the run with the same index), or a pinned file (a URL or a
 * Debian binary package, each with its sha256). Cross-board rules (the producer exists and
 * declares the artifact, no cycles) are checked in workspace/inputs.ts.
 */
const inputPath = z
  .pipe(
    nonEmptyString().check(
      z.refine((p) => checkRelativeName(p).ok, {
        message: 'expected a file path relative to the source, without ".." or a leading "/"',
      }),
    ),
    // One spelling per place: `./in.txt` and `sub//f.txt` are `in.txt` and `sub/f.txt`, so every
    // conflict (with the source, between inputs) is found by comparing normalised paths.
    z.transform((p: string, ctx) => {
      const normal = posix.normalize(p);
      if (normal === '.' || normal.endsWith('/')) {
        ctx.issues.push({
          code: 'custom',
          message: `"${p}" names a folder, expected a file path relative to the source (such as payloads/p.bin)`,
          input: p,
        });
        return z.NEVER;
      }
      return normal;
    }),
  )
  .check(z.describe('Where the input is placed, relative to the source tree'));
const inputSha256 = matching(SHA256_HEX, 'expected 64 lowercase hex digits').check(
  z.describe('sha256 of the file (64 lowercase hex digits)'),
);
export const inputSchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({
      type: z
        .literal('board')
        .check(z.describe("Another board's artifact, from its run with the same index")),
      board: name.check(z.describe('The producing board (file stem in boards/)')),
      artifact: artifactPath.check(z.describe("One of the producer's artifacts, as the producer names it")),
      path: inputPath,
    }),
    z.strictObject({
      type: z.literal('url').check(z.describe('A file downloaded from a URL, checked against its sha256')),
      url: nonEmptyString().check(z.describe('Where the file is downloaded from (http:, https: or file:)')),
      sha256: inputSha256,
      path: inputPath,
    }),
    z.strictObject({
      type: z
        .literal('debian')
        .check(z.describe('A Debian binary package (.deb) from the archive apt knows')),
      package: matching(/^[a-z0-9][a-z0-9+.-]+$/, 'expected a Debian binary package name').check(
        z.describe('Binary package name, e.g. linux-image-6.1.0-57-amd64'),
      ),
      version: matching(/^[0-9A-Za-z.+~:-]+$/, 'expected a Debian version such as 6.1.158-1').check(
        z.describe('Debian version of the package'),
      ),
      arch: z
        ._default(matching(/^[a-z0-9-]+$/, 'expected a Debian architecture such as amd64'), 'amd64')
        .check(z.describe('Debian architecture of the package (default amd64)')),
      sha256: inputSha256,
      path: inputPath,
    }),
  ],
  { error: 'expected an input of type board, url or debian' },
);
