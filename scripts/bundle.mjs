// Bundles the CLI into dist/bundle/ (one main file plus one chunk per lazily imported
// command), so a start-up reads a few files instead of ~900 modules.
// Two parts of dockerode that reprorom rarely or never uses are left out of the bundle and
// loaded from node_modules on first call: the ssh:// transport (ssh2, ~75 ms to load) and
// BuildKit sessions (gRPC + protobuf, ~130 ms). Everything else is bundled as is.
import { rm } from 'node:fs/promises';
import { build } from 'esbuild';

/** Module file inside node_modules → how its default export is called lazily. */
const LAZY = {
  'docker-modem/lib/ssh.js': 'docker-modem/lib/ssh.js',
  'dockerode/lib/session.js': 'dockerode/lib/session.js',
};

const lazyModules = {
  name: 'lazy-modules',
  setup(b) {
    b.onLoad({ filter: /node_modules[\\/](docker-modem|dockerode)[\\/]lib[\\/](ssh|session)\.js$/ }, (args) => {
      const key = Object.keys(LAZY).find((k) => args.path.replaceAll('\\', '/').endsWith(`node_modules/${k}`));
      if (key === undefined) return undefined;
      // `require` here is the runtime one from the banner: it resolves from node_modules.
      return {
        loader: 'js',
        contents: `module.exports = function (...args) { return require(${JSON.stringify(LAZY[key])}).apply(this, args); };`,
      };
    });
  },
};

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
  // Bundled CommonJS code calls require(); ESM has none, so each file gets one.
  banner: { js: "import { createRequire as __rrRequire } from 'node:module'; const require = __rrRequire(import.meta.url);" },
  // Optional native add-ons of ssh2: never bundled (they are loaded, if present, with ssh2 itself).
  external: ['cpu-features', '*.node'],
  plugins: [lazyModules],
  logLevel: 'warning',
});
