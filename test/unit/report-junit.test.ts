import { describe, expect, it } from 'vitest';
import type { BuildReportJson, ComparisonJson } from '../../src/contracts/json.js';
import { githubAnnotations, githubSummary } from '../../src/report/github.js';
import { junitXml } from '../../src/report/junit.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const comparison = {
  ok: false,
  inputs: [],
  artifacts: [
    {
      name: 'sea/bios.bin',
      key: 'bios.bin',
      board: 'sea',
      verdict: 'mismatch',
      hashes: { 'r/sea#1@m1': A, 'r/sea#2@m2': B },
      disagreeing: ['r/sea#2@m2'],
      majority: A,
    },
    {
      name: 'ub/u-boot.bin',
      key: 'u-boot.bin',
      board: 'ub',
      verdict: 'reproducible',
      hashes: { 'r/ub#1': A, 'r/ub#2': A },
      disagreeing: [],
      majority: A,
    },
  ],
  notes: [],
  reports: [],
} as unknown as ComparisonJson;
const build = {
  boards: [
    {
      board: 'sea',
      log: '/l/sea.log',
      runs: [
        { index: 1, ok: true, boot: { ok: false, message: 'no banner within 15 s', log: '/l/boot.log' } },
        { index: 2, ok: false, error: 'exit 2', logTail: ['cc -c main.c', 'main.c:3:1: error: expected ;'] },
      ],
    },
  ],
} as unknown as BuildReportJson;

describe('JUnit and GitHub reports', () => {
  it('one test case per board × artifact; a mismatch fails with both hashes; failed runs and boots too', () => {
    const xml = junitXml(comparison, build);
    expect(xml).toMatch(/<testcase classname="sea" name="bios.bin">\s*<failure type="mismatch"/);
    expect(xml).toContain(`r/sea#1@m1: ${A}`);
    expect(xml).toContain(`r/sea#2@m2: ${B}  &lt;- disagrees`);
    expect(xml).toMatch(/<testcase classname="ub" name="u-boot.bin"\/>/);
    expect(xml).toMatch(/name="build run 2">\s*<failure type="build-failed" message="exit 2"/);
    expect(xml).toContain('main.c:3:1: error: expected ;\nlog: /l/sea.log');
    expect(xml).toMatch(/name="boot run 1">\s*<failure type="boot-failed" message="no banner within 15 s"/);
    expect(xml).toMatch(/<testsuite name="sea" tests="3" failures="3">/);
  });
  it('GitHub annotations name the machine that disagrees; the summary has a row per artifact', () => {
    const lines = githubAnnotations(comparison, build);
    expect(lines[0]).toMatch(
      /^::error title=reprorom mismatch: sea\/bios.bin::mismatch \(r\/sea#2@m2 disagree\)/,
    );
    expect(lines.some((l) => l.startsWith('::error title=reprorom build failed: sea::run 2: exit 2'))).toBe(
      true,
    );
    const failedLine = lines.find((l) => l.startsWith('::error title=reprorom build failed'));
    expect(failedLine).toContain('%0Amain.c:3:1: error: expected ;');
    const md = githubSummary(comparison, build);
    expect(md).toContain('  main.c:3:1: error: expected ;');
    expect(md).toContain('| sea | bios.bin | ❌ mismatch |');
    expect(md).toContain('| ub | u-boot.bin | ✅ reproducible |');
  });
  it('the culprit search result appears in JUnit, the annotation and the step summary', () => {
    const explained = {
      ...build,
      culprits: {
        runDirs: ['/r/culprits'],
        extraRuns: 3,
        artifacts: [
          { board: 'sea', artifact: 'artifacts/out/bios.bin', verdict: 'variation', culprits: ['hostname'] },
        ],
      },
    } as unknown as BuildReportJson;
    const renamed = {
      ...comparison,
      artifacts: comparison.artifacts.map((a) =>
        a.board === 'sea' ? { ...a, key: 'out/bios.bin', name: 'sea/out/bios.bin' } : a,
      ),
    } as ComparisonJson;
    expect(junitXml(renamed, explained)).toContain('differs when: hostname');
    expect(githubAnnotations(renamed, explained)[0]).toContain('differs when: hostname');
    expect(githubSummary(renamed, explained)).toMatch(
      /\| sea \| out\/bios.bin \| ❌ mismatch \|.*\| differs when: hostname \|/,
    );
    // Without a search, nothing is claimed.
    expect(junitXml(renamed, build)).not.toContain('differs when');
  });
});
