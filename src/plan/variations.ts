/**
 * What differs between the runs of one board. Run 1 is the reference
 * environment; later runs change, on purpose, what reprotest changes, so a
 * build that depends on any of it shows up as a mismatch.
 *
 * Each variation has a reprotest-like name (VARIATION_NAMES); `--vary` / `--no-vary`
 * and a board's `vary:` choose among them, and a run records, per name, whether it
 * was applied, turned off (and why) or could not be applied here (and why).
 */
import { UsageError } from '../util/errors.js';
import { VARIATION_NAMES, type VariationName } from '../vocabulary/variationNames.js';

export type FileOrder = 'sorted' | 'reverse' | 'shuffled';
export type Kernel = 'host' | 'uname-2.6';

// The names are vocabulary: the workspace schema checks them below the plan.
export { VARIATION_NAMES, type VariationName } from '../vocabulary/variationNames.js';

/** Off unless asked for (`--vary build-path`), and why. */
export const OPT_IN: Partial<Record<VariationName, string>> = {
  'build-path':
    'opt-in (--vary build-path): the fixed /build/src is part of the pinned environment, so a build may embed it',
};

export interface Variation {
  hostname: string;
  domain: string;
  uid: number;
  umask: string;
  tz: string;
  locale: string;
  /** Make's job count: follows the CPUs the build can see. */
  jobs: number;
  /** CPUs the build can see: 0 = every CPU of the machine, n = a cpuset of CPUs 0..n-1. */
  cpus: number;
  fileOrder: FileOrder;
  /** Seed of the shuffled file order; recorded so a run can be repeated. */
  seed: number;
  /** Seconds the build's clock is moved forward (libfaketime); 0 = the real clock. */
  timeShift: number;
  kernel: Kernel;
  /** Address space layout randomization (off = setarch -R). */
  aslr: boolean;
  /** The source folder inside the container. */
  buildPath: string;
  /**
   * Culprit search only: the clock stands still at this time (seconds since the epoch,
   * libfaketime; plus timeShift), so two runs read the same time. Absent: a running clock.
   */
  frozenClock?: number;
}

export const REFERENCE: Variation = {
  hostname: 'reprorom',
  domain: 'reprorom.invalid',
  uid: 1000,
  umask: '0022',
  tz: 'UTC',
  locale: 'C.UTF-8',
  jobs: 2,
  cpus: 0,
  fileOrder: 'sorted',
  seed: 0,
  timeShift: 0,
  kernel: 'host',
  aslr: true,
  buildPath: '/build/src',
};

/** 398 days and 5 hours: another day, month, year and hour of the day. */
export const TIME_SHIFT = (398 * 24 + 5) * 3600;

/** Which fields of a Variation each name changes. */
const FIELDS: Record<VariationName, ReadonlyArray<keyof Variation>> = {
  time: ['timeShift'],
  kernel: ['kernel'],
  aslr: ['aslr'],
  'num-cpus': ['cpus', 'jobs'],
  fileordering: ['fileOrder', 'seed'],
  'domain-host': ['hostname', 'domain'],
  'user-group': ['uid'],
  umask: ['umask'],
  timezone: ['tz'],
  locales: ['locale'],
  'build-path': ['buildPath'],
};

const ALTERNATIVES: Array<Partial<Variation>> = [
  {
    hostname: 'reprorom-variant',
    domain: 'variant.invalid',
    uid: 1234,
    umask: '0002',
    tz: 'GMT-14',
    locale: 'fr_CH.UTF-8',
    fileOrder: 'reverse',
    timeShift: TIME_SHIFT,
    kernel: 'uname-2.6',
    buildPath: '/build/variant/path/src',
  },
  {
    hostname: 'build-host-3',
    domain: 'example.invalid',
    uid: 2000,
    umask: '0077',
    tz: 'GMT+12',
    locale: 'en_US.UTF-8',
    fileOrder: 'shuffled',
    aslr: false,
    buildPath: '/build/third/src',
  },
];

/** Which variations a build uses, which are off (with why) and which cannot apply here. */
export interface VariationChoice {
  on: VariationName[];
  /** Turned off on purpose: by --no-vary, the board's `vary:` or because it is opt-in. */
  off: Partial<Record<VariationName, string>>;
  /** On, but this machine cannot apply it (known before anything runs). */
  notApplied: Partial<Record<VariationName, string>>;
}

/** Every variation on except the opt-in ones: what a build uses without flags. */
export function defaultChoice(cores: number): VariationChoice {
  return chooseVariations({ cores });
}

function parseNames(list: readonly string[], flag: string): Array<VariationName | 'all'> {
  const names = list
    .flatMap((s) => s.split(','))
    .map((s) => s.trim().replace(/_/g, '-'))
    .filter((s) => s !== '');
  const unknown = names.filter((n) => n !== 'all' && !(VARIATION_NAMES as readonly string[]).includes(n));
  if (unknown.length > 0) {
    throw new UsageError(
      `${flag}: unknown variation${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `"${n}"`).join(', ')}`,
      `valid names: ${VARIATION_NAMES.join(', ')} (or all)`,
    );
  }
  return names as Array<VariationName | 'all'>;
}

/**
 * The variations of a build: the defaults, minus `--no-vary`, plus `--vary` (so
 * `--no-vary all --vary time` varies only the clock), minus what the board turns off.
 * Unknown names are a usage error listing the valid ones.
 */
export function chooseVariations(opts: {
  vary?: readonly string[];
  noVary?: readonly string[];
  board?: Partial<Record<string, { off: string }>>;
  cores: number;
}): VariationChoice {
  const vary = parseNames(opts.vary ?? [], '--vary');
  const noVary = parseNames(opts.noVary ?? [], '--no-vary');
  const expand = (names: Array<VariationName | 'all'>) =>
    names.includes('all') ? [...VARIATION_NAMES] : (names as VariationName[]);
  const both = expand(vary).filter((n) => noVary.includes(n));
  if (both.length > 0 && !vary.includes('all') && !noVary.includes('all')) {
    throw new UsageError(
      `${both.join(', ')} is both in --vary and --no-vary`,
      'name each variation in one of them',
    );
  }
  const off: VariationChoice['off'] = {};
  for (const [name, why] of Object.entries(OPT_IN)) off[name as VariationName] = why;
  for (const n of expand(noVary)) off[n] = 'turned off on the command line (--no-vary)';
  for (const n of expand(vary)) delete off[n];
  for (const [name, entry] of Object.entries(opts.board ?? {})) {
    if (entry && (VARIATION_NAMES as readonly string[]).includes(name))
      off[name as VariationName] = `turned off by the board: ${entry.off}`;
  }
  const on = VARIATION_NAMES.filter((n) => off[n] === undefined);
  const notApplied: VariationChoice['notApplied'] = {};
  if (on.includes('num-cpus') && opts.cores < 2)
    notApplied['num-cpus'] = `this machine gives builds ${opts.cores} CPU, so the CPU count cannot differ`;
  return { on, off, notApplied };
}

/**
 * The variation of run `index` (1-based) under `choice`. Runs past the listed ones
 * cycle with a new seed and host name.
 */
export function variationFor(index: number, cores: number, choice = defaultChoice(cores)): Variation {
  const base: Variation = { ...REFERENCE, jobs: Math.max(1, cores) };
  if (index <= 1) return base;
  const alt: Partial<Variation> = { ...(ALTERNATIVES[(index - 2) % ALTERNATIVES.length] ?? {}) };
  // The CPU count alternates between one CPU and all of them (a cpuset; make's -j follows).
  if (cores >= 2 && index % 2 === 0) Object.assign(alt, { cpus: 1, jobs: 1 });
  const out: Variation = { ...base, seed: index };
  for (const name of choice.on) {
    if (choice.notApplied[name] !== undefined) continue;
    for (const field of FIELDS[name]) {
      if (field in alt) Object.assign(out, { [field]: alt[field] });
    }
  }
  if (choice.on.includes('domain-host') && index > 3) out.hostname = `${out.hostname}-${index}`;
  if (!choice.on.includes('fileordering')) out.seed = 0;
  return out;
}

/** The names of what differs from the reference run, for the report. */
export function appliedVariations(v: Variation, cores: number): VariationName[] {
  const ref = variationFor(1, cores);
  return VARIATION_NAMES.filter((name) => FIELDS[name].some((f) => f !== 'seed' && v[f] !== ref[f]));
}

/**
 * The reference variation with only `name` taken from `varied`: a run that changes one
 * thing, so a difference it shows has exactly one cause.
 */
export function withOnly(reference: Variation, varied: Variation, name: VariationName): Variation {
  const out = { ...reference };
  for (const f of FIELDS[name]) Object.assign(out, { [f]: varied[f] });
  return out;
}

/** A one-line account of a choice for people: what is off and why, what cannot apply and why. */
export function describeChoice(choice: Pick<VariationChoice, 'off' | 'notApplied'>): string[] {
  return [
    ...Object.entries(choice.off).map(([n, why]) => `variation ${n} off: ${why}`),
    ...Object.entries(choice.notApplied).map(([n, why]) => `variation ${n} not applied: ${why}`),
  ];
}

/** What one run recorded of its environment (a Variation, or a manifest's `variations`). */
export interface RecordedVariation {
  variation: Partial<Record<keyof Variation, unknown>>;
  /** Variations this run should have applied but could not: its values for them did not take effect. */
  notApplied?: Partial<Record<string, string>>;
}

/**
 * The variations that really differed between these runs, in report order: a name counts
 * when two runs recorded different values for it (the shuffle seed alone is not a change of
 * order, and a value a run could not apply counts as the first run's). Empty: nothing was
 * varied, so runs that agree show only that the build repeats in one environment.
 */
export function variedAcross(runs: readonly RecordedVariation[]): VariationName[] {
  return VARIATION_NAMES.filter((name) => {
    const values = runs.map((r) =>
      JSON.stringify(
        FIELDS[name]
          .filter((f) => f !== 'seed')
          .map((f) => (r.notApplied?.[name] !== undefined ? runs[0]?.variation[f] : r.variation[f])),
      ),
    );
    return new Set(values).size > 1;
  });
}
