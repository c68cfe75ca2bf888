#!/usr/bin/env node
// Thin launcher: the CLI is bundled into dist/bundle/ (by `npm run build`, which `npm ci` runs
// through the prepare script) so it starts without resolving hundreds of modules.
import('../dist/bundle/main.js').then((m) => m.main(process.argv));
