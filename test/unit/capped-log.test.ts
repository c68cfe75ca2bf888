import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CappedLog } from '../../src/runs/cappedLog.js';

describe('CappedLog', () => {
  let dir = '';
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('below its cap, the log is what was written', async () => {
    dir = await mkdtemp(join(tmpdir(), 'rr-caplog-'));
    const log = new CappedLog(join(dir, 'b.log'), 1024);
    log.write('one\n');
    log.write('two\n');
    await log.end();
    expect(await readFile(join(dir, 'b.log'), 'utf8')).toBe('one\ntwo\n');
    expect(log.dropped()).toEqual({ bytes: 0, lines: 0 });
  });

  it('past its cap: the head, a line saying how much was dropped, the tail; whole lines', async () => {
    dir = await mkdtemp(join(tmpdir(), 'rr-caplog-'));
    let capped = 0;
    const log = new CappedLog(join(dir, 'b.log'), 1000, () => capped++);
    for (let i = 0; i < 10_000; i++) log.write(`line ${String(i).padStart(5, '0')}\n`);
    await log.end();
    const text = await readFile(join(dir, 'b.log'), 'utf8');
    const [head, note, ...tail] = text.split(/(\[reprorom\] log capped at [^\n]*\n)/);
    expect(capped).toBe(1);
    expect(head?.startsWith('line 00000\n')).toBe(true);
    expect(Buffer.byteLength(head ?? '')).toBeLessThanOrEqual(500);
    expect(tail.join('').endsWith('line 09999\n')).toBe(true);
    expect(Buffer.byteLength(tail.join(''))).toBeLessThanOrEqual(500);
    const { bytes, lines } = log.dropped();
    expect(note).toContain(`${bytes} bytes (${lines} lines) of build output dropped here`);
    // Every line break is in the file or counted as dropped.
    const kept = `${head}${tail.join('')}`.split('\n').length - 1;
    expect(kept + lines).toBe(10_000);
  });

  it('one piece longer than the tail keeps only its end', async () => {
    dir = await mkdtemp(join(tmpdir(), 'rr-caplog-'));
    const log = new CappedLog(join(dir, 'b.log'), 1000);
    log.write('head\n');
    log.write(`${'x'.repeat(5000)}\n`);
    log.write('last\n');
    await log.end();
    const text = await readFile(join(dir, 'b.log'), 'utf8');
    expect(text.startsWith('head\n')).toBe(true);
    expect(text.endsWith(`${'x'.repeat(100)}\nlast\n`)).toBe(true);
    expect(Buffer.byteLength(text)).toBeLessThan(1000 + 300);
  });

  it('many lines after one long piece take linear time (the piece is cut once)', async () => {
    dir = await mkdtemp(join(tmpdir(), 'rr-caplog-'));
    const log = new CappedLog(join(dir, 'b.log'), 2 * 1024 * 1024);
    log.write('x'.repeat(4 * 1024 * 1024));
    const started = Date.now();
    for (let i = 0; i < 100_000; i++) log.write(`line ${i}\n`);
    expect(Date.now() - started).toBeLessThan(5_000);
    await log.end();
    const text = await readFile(join(dir, 'b.log'), 'utf8');
    expect(text.endsWith('line 99999\n')).toBe(true);
  });
});
