// Bundles the CLI into dist/bundle/ (one main file plus one chunk per lazily imported
// command), so a start-up reads a few files instead of ~900 modules.
// Parts of dockerode that reprorom rarely or never uses are left out of the bundle and
// loaded from node_modules on first use: the ssh:// transport (ssh2, ~75 ms to load),
// BuildKit sessions (gRPC, ~130 ms), BuildKit progress decoding (protobufjs, 80 kB) and the
// `docker build` context packer (LAZY_DEPENDENCIES). One line of docker-modem is changed
// (see REQUEST_LOG); everything else is bundled as is.
import { readFile, rm } from 'node:fs/promises';
import { build } from 'esbuild';

// `require` in these stubs is the runtime one from the banner. The real file is resolved the
// way dockerode itself resolves it (docker-modem is dockerode's dependency, not ours), so
// installs that do not hoist packages work too.
const realRequire = (file) =>
  `require('node:module').createRequire(require.resolve('dockerode/package.json'))(${JSON.stringify(file)})`;
/** Required when dockerode loads, called later: a function that loads the real one on its first call. */
const lazyFunction = (file) =>
  `module.exports = function (...args) { return ${realRequire(file)}.apply(this, args); };`;
/** Required only where it is used: the stub loads the real module at that moment. */
const lazyModule = (file) => `module.exports = ${realRequire(file)};`;

/** Used as an object (`tar.pack(…)`): each property read loads the real module. */
const lazyObject = (file) => `module.exports = new Proxy({}, { get: (_t, key) => ${realRequire(file)}[key] });`;

const LAZY = {
  'docker-modem/lib/ssh.js': lazyFunction,
  'docker-modem/lib/http_duplex.js': lazyFunction,
  'dockerode/lib/session.js': lazyFunction,
  'dockerode/lib/buildkit.js': lazyModule,
};

const lazyModules = {
  name: 'lazy-modules',
  setup(b) {
    b.onLoad({ filter: /node_modules[\\/](docker-modem|dockerode)[\\/]lib[\\/]\w+\.js$/ }, (args) => {
      const file = Object.keys(LAZY).find((k) => args.path.replaceAll('\\', '/').endsWith(`node_modules/${k}`));
      return file === undefined ? undefined : { loader: 'js', contents: LAZY[file](file) };
    });
  },
};

// Packages dockerode's util.js requires only to pack `docker build` contexts, which reprorom
// never sends (images are assembled by reprorom and loaded): tar-fs 2 with its own tar-stream,
// bl and readable-stream (~70 kB).
const LAZY_DEPENDENCIES = { 'tar-fs': lazyObject, '@balena/dockerignore': lazyFunction };

const lazyDependencies = {
  name: 'lazy-dependencies',
  setup(b) {
    b.onResolve({ filter: /^(tar-fs|@balena\/dockerignore)$/ }, (args) =>
      /node_modules[\\/]dockerode[\\/]lib[\\/]util\.js$/.test(args.importer)
        ? { path: args.path, namespace: 'lazy-dependency' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-dependency' }, (args) => ({
      loader: 'js',
      contents: LAZY_DEPENDENCIES[args.path](args.path),
    }));
  },
};

// docker-modem formats every request's options (agent and sockets included, no depth limit)
// for its debug log even when that log is off: ~3 ms per request, 20 ms of a short build.
// Guarded here, so the text is only built when DEBUG names `modem`. A docker-modem release
// that changes the line fails the build instead of silently losing the guard.
const REQUEST_LOG = "debug('Sending: %s', util.inspect(";
const quietRequestLog = {
  name: 'quiet-request-log',
  setup(b) {
    b.onLoad({ filter: /node_modules[\\/]docker-modem[\\/]lib[\\/]modem\.js$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      if (source.split(REQUEST_LOG).length !== 2)
        throw new Error(`${args.path}: expected exactly one "${REQUEST_LOG}" (docker-modem changed: update scripts/bundle.mjs)`);
      return { loader: 'js', contents: source.replace(REQUEST_LOG, `debug.enabled && ${REQUEST_LOG}`) };
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
  plugins: [lazyModules, lazyDependencies, quietRequestLog],
  logLevel: 'warning',
});
