/**
 * The pieces several workspace file formats share: names, reasons, descriptions,
 * environment maps and artifact paths.
 */
import * as z from 'zod/mini';
import { checkRelativeName } from '../archive/containment.js';
import { matching, nonEmptyString } from '../util/zod.js';
import { NAME_PATTERN } from '../vocabulary/names.js';

export const name = matching(
  NAME_PATTERN,
  'expected a name of lowercase letters, digits, ".", "_" or "-" (at most 64)',
);

/** A reason shown to people (why a variation is off, why a board mismatches): blank says nothing. */
export const reason = () =>
  z.string({ error: 'expected a reason (text)' }).check(
    z.refine((s) => s.trim() !== '', {
      message: 'expected a reason that says something, not an empty or blank text',
    }),
  );

/**
 * Node's timers wait at most 2^31-1 ms (about 24.8 days); a longer delay fires after 1 ms,
 * so a larger time limit would stop every run at once.
 */
export const MAX_TIME_LIMIT_S = Math.floor((2 ** 31 - 1) / 1000);

export const atLeastOne = <T extends z.ZodMiniType>(item: T, message: string) =>
  z.array(item).check(z.minLength(1, message));

/** The free-text `description:` every workspace file may carry. */
export const describedAs = (what: string) =>
  z.optional(z.string()).check(z.describe(`What this ${what} is for (free text, shown to people only)`));

export const envMap = z
  .record(
    matching(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name (letters, digits and _)'),
    z.string({ error: 'expected a string value (quote numbers)' }),
  )
  .check(z.describe('Extra environment variables'));

export const artifactPath = nonEmptyString().check(
  z.refine((p) => checkRelativeName(p).ok, {
    message: 'expected a path or glob relative to the source, without ".." or a leading "/"',
  }),
);
