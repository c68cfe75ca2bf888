/**
 * Build time stamps in the strings two builds do not share: the diff report and the verdict
 * table name the date without a rebuild (coreboot without BUILD_TIMELESS, naive SeaBIOS).
 */
import { describe, expect, it } from 'vitest';
import { differingStamps, findStamps } from '../../src/compare/stamps.js';

describe('findStamps', () => {
  it.each([
    ['coreboot-4.15-dfsg-3 Wed Dec  2 16:23:05 UTC 2026 bootblock starting', 'Wed Dec  2 16:23:05 UTC 2026'],
    ['built Thu Jan  4 21:23:05 +0000 2028', 'Thu Jan  4 21:23:05 +0000 2028'],
    ['Date: Wed, 02 Dec 2026 16:23:05 +0000', 'Wed, 02 Dec 2026 16:23:05 +0000'],
    ['compiled Dec  2 2026 16:23:05', 'Dec  2 2026 16:23:05'],
    ['SeaBIOS (version 1.16.2-20261202_162305-reprorom)', '20261202_162305'],
    ['timestamp 2026-12-02T16:23:05Z', '2026-12-02T16:23:05Z'],
    ['release 2026-12-02', '2026-12-02'],
    ['DMI date 12/02/2026', '12/02/2026'],
    ['at 16:23:05 today', '16:23:05'],
  ])('finds the stamp in %j', (text, stamp) => {
    expect(findStamps(text)).toEqual([stamp]);
  });

  it.each([
    'SeaBIOS (version 1.16.2-reprorom)',
    'coreboot--TIMELESS--LESSTIME- bootblock starting',
    'serial 1202026120299',
    'version 20.26.12',
    'uuid 99999999-1234',
    'Wednesday',
    'ratio 12:345',
  ])('finds none in %j', (text) => {
    expect(findStamps(text)).toEqual([]);
  });

  it('finds every stamp of a string, in order', () => {
    expect(findStamps('Dec  2 2026 and 2027-01-04 and 10:11:12')).toEqual([
      'Dec  2 2026',
      '2027-01-04',
      '10:11:12',
    ]);
  });
});

describe('differingStamps', () => {
  it('names each side stamp and the string that holds it', () => {
    const s = differingStamps(
      [
        'coreboot-4.15 Wed Dec  2 16:23:05 UTC 2026 bootblock starting',
        'Wed Dec  2 16:23:05 UTC 2026',
        'xyzzy1',
      ],
      ['coreboot-4.15 Thu Jan  4 21:23:05 UTC 2028 bootblock starting', 'Thu Jan  4 21:23:05 UTC 2028'],
    );
    expect(s.a).toEqual([
      {
        stamp: 'Wed Dec  2 16:23:05 UTC 2026',
        in: 'coreboot-4.15 Wed Dec  2 16:23:05 UTC 2026 bootblock starting',
      },
    ]);
    expect(s.b.map((x) => x.stamp)).toEqual(['Thu Jan  4 21:23:05 UTC 2028']);
  });

  it('leaves out a stamp both sides hold (a string that differs for another reason)', () => {
    const s = differingStamps(['built 2026-12-02 on host-a'], ['built 2026-12-02 on host-b']);
    expect(s).toEqual({ a: [], b: [] });
  });

  it('keeps at most `limit` per side', () => {
    const many = Array.from({ length: 20 }, (_, i) => `t ${String(i).padStart(2, '0')}:00:00`);
    expect(differingStamps(many, [], 3).a.map((x) => x.stamp)).toEqual(['00:00:00', '01:00:00', '02:00:00']);
  });
});
