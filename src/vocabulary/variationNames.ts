/**
 * The names of the variations between runs (reprotest's names, kebab-case). What each
 * one changes is plan/variations.ts; the names sit here so the workspace schema can
 * check a board's `vary:` without importing the plan.
 */

/** The variations by name, in the order reports list them (reprotest's names, kebab-case). */
export const VARIATION_NAMES = [
  'time',
  'kernel',
  'aslr',
  'num-cpus',
  'fileordering',
  'domain-host',
  'user-group',
  'umask',
  'timezone',
  'locales',
  'build-path',
] as const;
export type VariationName = (typeof VARIATION_NAMES)[number];
