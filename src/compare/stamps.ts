/**
 * Dates and times as builds stamp them into binaries: `date`'s default output (coreboot's
 * banner without BUILD_TIMELESS), RFC 2822, C's `__DATE__` and `__TIME__`, ISO 8601, the
 * compact `20261202_162305` of SeaBIOS's version string, and DMI's `12/02/2026`. Found in the
 * printable strings that differ between two builds, they name the cause without a rebuild.
 */

const DAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const MONTH = '(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
const HMS = '[0-2]\\d:[0-5]\\d(?::[0-5]\\d)?';
const YEAR = '(?:19|20)\\d{2}';
const MM = '(?:0[1-9]|1[0-2])';
const DD = '(?:0[1-9]|[12]\\d|3[01])';
/** No digit right before or after: `20261202` is a date, `1202026120299` is not. */
const alone = (p: string) => `(?<!\\d)${p}(?!\\d)`;

/** Most specific first: at one position the first alternative that matches wins. */
const PATTERNS = [
  // date(1): Wed Dec  2 16:23:05 UTC 2026 (also with a numeric zone)
  `${DAY},? +${MONTH} +\\d{1,2},? +${HMS}(?: +(?:[A-Z]{2,5}|[+-]\\d{4}))? +${YEAR}`,
  // RFC 2822: Wed, 02 Dec 2026 16:23:05 +0000
  `${DAY}, +\\d{1,2} +${MONTH} +${YEAR}(?: +${HMS}(?: +(?:[A-Z]{2,5}|[+-]\\d{4}))?)?`,
  // __DATE__ (Dec  2 2026), then maybe __TIME__
  `${MONTH} +\\d{1,2},? +${YEAR}(?: +${HMS})?`,
  // ISO 8601: 2026-12-02, 2026-12-02T16:23:05Z, 2026/12/02 16:23
  alone(`${YEAR}[-/]${MM}[-/]${DD}(?:[T ]${HMS}(?:\\.\\d+)?(?:Z|[+-]\\d{2}:?\\d{2})?)?`),
  // compact: 20261202_162305, 20261202T162305, 20261202-1623
  alone(`${YEAR}${MM}${DD}[_T-][0-2]\\d[0-5]\\d(?:[0-5]\\d)?`),
  // DMI / US: 12/02/2026
  alone(`${MM}/${DD}/${YEAR}`),
  // __TIME__ alone: 16:23:05
  alone('[0-2]\\d:[0-5]\\d:[0-5]\\d'),
];

const STAMP = new RegExp(PATTERNS.map((p) => `(?:${p})`).join('|'), 'g');

/** The date and time stamps in one string, in order. */
export function findStamps(text: string): string[] {
  return [...text.matchAll(STAMP)].map((m) => m[0]);
}

export interface Stamp {
  /** The date or time as it appears, e.g. `Wed Dec  2 16:23:05 UTC 2026`. */
  stamp: string;
  /** The printable string that holds it. */
  in: string;
}

/**
 * The stamps of the strings only one build has that the other build's differing strings do not
 * hold: a date or time that changed between the two. At most `limit` per side, distinct, in the
 * order of the strings given.
 */
export function differingStamps(
  onlyInA: readonly string[],
  onlyInB: readonly string[],
  limit = 10,
): { a: Stamp[]; b: Stamp[] } {
  const collect = (strings: readonly string[]) => {
    const out: Stamp[] = [];
    for (const s of strings) for (const stamp of findStamps(s)) out.push({ stamp, in: s });
    return out;
  };
  const all = { a: collect(onlyInA), b: collect(onlyInB) };
  const pick = (mine: Stamp[], theirs: Stamp[]) => {
    const other = new Set(theirs.map((s) => s.stamp));
    const seen = new Set<string>();
    return mine.filter((s) => !other.has(s.stamp) && !seen.has(s.stamp) && seen.add(s.stamp)).slice(0, limit);
  };
  return { a: pick(all.a, all.b), b: pick(all.b, all.a) };
}
