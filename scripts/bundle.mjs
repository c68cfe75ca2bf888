// Bundles the CLI into dist/bundle/: one main file plus one chunk per lazily imported command,
// so `reprorom check` reads a few files instead of the ~180 modules of yaml, zod and commander
// (measured: about 1.5× faster than running tsc's dist/ directly; see bench/README.md).
// dockerode stays out: it is CommonJS that finds ssh2's files by __dirname, and it loads from
// node_modules (as a direct dependency, in any install layout) only when a command talks to
// the engine.
import { rm } from 'node:fs/promises';
import { build } from 'esbuild';

// Chunk names carry content hashes: without this, old chunks would pile up beside the new ones.
await rm('dist/bundle', { recursive: true, force: true });

await build({
  entryPoints: { main: 'src/cli/main.ts' },
  outdir: 'dist/bundle',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minify: true,
  sourcemap: 'linked',
  legalComments: 'linked',
  // Bundled CommonJS packages (commander, yaml, tar-stream) call require() for Node's own
  // modules; ESM has none, so each file gets one.
  banner: { js: "import { createRequire as __rrRequire } from 'node:module'; const require = __rrRequire(import.meta.url);" },
  external: ['dockerode'],
  logLevel: 'warning',
});
