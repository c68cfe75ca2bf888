/**
 * What differs between the runs of one board. Run 1 is the reference
 * environment; later runs change, on purpose, what reprotest changes, so a
 * build that depends on any of it shows up as a mismatch.
 */
export type FileOrder = 'sorted' | 'reverse' | 'shuffled';

export interface Variation {
  hostname: string;
  uid: number;
  umask: string;
  tz: string;
  locale: string;
  jobs: number;
  fileOrder: FileOrder;
  /** Seed of the shuffled file order; recorded so a run can be repeated. */
  seed: number;
}

export const REFERENCE: Variation = {
  hostname: 'reprorom',
  uid: 1000,
  umask: '0022',
  tz: 'UTC',
  locale: 'C.UTF-8',
  jobs: 2,
  fileOrder: 'sorted',
  seed: 0,
};

const ALTERNATIVES: Array<Partial<Variation>> = [
  {
    hostname: 'reprorom-variant',
    uid: 1234,
    umask: '0002',
    tz: 'Etc/GMT-14',
    locale: 'C',
    jobs: 1,
    fileOrder: 'reverse',
  },
  {
    hostname: 'build-host-3',
    uid: 2000,
    umask: '0077',
    tz: 'Etc/GMT+12',
    locale: 'POSIX',
    jobs: 3,
    fileOrder: 'shuffled',
  },
];

/** The variation of run `index` (1-based). Runs past the listed ones cycle with a new seed. */
export function variationFor(index: number, cores: number): Variation {
  const base = { ...REFERENCE, jobs: Math.max(1, cores) };
  if (index <= 1) return base;
  const alt = ALTERNATIVES[(index - 2) % ALTERNATIVES.length] ?? {};
  return {
    ...base,
    ...alt,
    hostname: `${alt.hostname ?? base.hostname}${index > 3 ? `-${index}` : ''}`,
    seed: index,
  };
}

/** The names of the fields that differ from the reference run, for the report. */
export function appliedVariations(v: Variation, cores: number): string[] {
  const ref = variationFor(1, cores);
  return (Object.keys(ref) as Array<keyof Variation>).filter((k) => k !== 'seed' && v[k] !== ref[k]);
}

/** What one run may vary, by name: every field of a Variation but the seed. */
export type VariationName = Exclude<keyof Variation, 'seed'>;

/**
 * The reference variation with only `name` taken from `varied`: a run that changes one
 * thing, so a difference it shows has exactly one cause. The shuffled order keeps its seed.
 */
export function withOnly(reference: Variation, varied: Variation, name: VariationName): Variation {
  return {
    ...reference,
    [name]: varied[name],
    ...(name === 'fileOrder' ? { seed: varied.seed } : {}),
  };
}
