/** util/warmup.ts: loads registered for the engine's start run once, and a failing one stays quiet there. */
import { describe, expect, it } from 'vitest';
import { loadWhileStarting, warmUp } from '../../src/util/warmup.js';

describe('loading while a container starts', () => {
  it('starts each registered load once per warm-up, the same load registered twice included', async () => {
    let calls = 0;
    const load = async () => {
      calls++;
    };
    loadWhileStarting(load);
    loadWhileStarting(load);
    expect(calls).toBe(0);
    warmUp();
    expect(calls).toBe(1);
    warmUp();
    expect(calls).toBe(1);
    loadWhileStarting(load);
    warmUp();
    expect(calls).toBe(2);
  });

  it('leaves a failed load to the import that needs it: no unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      loadWhileStarting(() => Promise.reject(new Error('no such chunk')));
      warmUp();
      await new Promise((r) => setTimeout(r, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
