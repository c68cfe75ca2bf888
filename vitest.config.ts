import { defineConfig } from 'vitest/config';

// Unit tests get seconds: one that needs more waits on the machine, not on the code, and
// should be rewritten (fake timers, awaited events). Integration and robustness tests drive
// the real engine and nix, so they keep the long limit.
const UNIT_TIMEOUT = 30_000;
const INTEGRATION_TIMEOUT = 600_000;

export default defineConfig({
  test: {
    // Integration tests drive one real engine and one nix store; running files
    // one at a time keeps them from fighting over those on a 2-core machine.
    fileParallelism: false,
    reporters: ['default'],
    // This package imports its JSON schema without an import attribute, which only
    // works when vite transforms it instead of Node loading it.
    server: { deps: { inline: ['@actions/workflow-parser'] } },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: UNIT_TIMEOUT,
          hookTimeout: UNIT_TIMEOUT,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/robustness/**/*.test.ts'],
          testTimeout: INTEGRATION_TIMEOUT,
          hookTimeout: INTEGRATION_TIMEOUT,
        },
      },
    ],
  },
});
