/**
 * zod set-up and the short forms every schema file needs. reprorom uses zod's
 * tree-shakable "mini" API (import it as `* as z from 'zod/mini'`, never re-exported,
 * or the bundle keeps all of it): the classic API puts ~450 kB to compile into every
 * start-up, a third of `reprorom check`. Mini has no messages of its own: English is set here,
 * and every schema file imports this module, so it is set before anything is parsed.
 */
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';

z.config(en());

export const nonEmptyString = () => z.string().check(z.minLength(1));

export const matching = (pattern: RegExp, message?: string) => z.string().check(z.regex(pattern, message));

export const wholeNumber = (min?: number, max?: number) =>
  z.int().check(...(min === undefined ? [] : [z.gte(min)]), ...(max === undefined ? [] : [z.lte(max)]));
