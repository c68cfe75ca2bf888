// Child process: what `image build` asks nix before assembling (the locked pin,
// the rendered flake, the `nix print-dev-env` environment, the closure), written
// to a JSON file so the assembly benchmark times the assembly alone.
// Usage: node bench/child/nixInputs.js WORKSPACE IMAGE OUT.json
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { printDevEnv, storePathsIn } from '../../dist/imagebuild/devEnv.js';
import { renderFlake } from '../../dist/imagebuild/renderFlake.js';
import { closure } from '../../dist/nix/nix.js';
import { lockedPin } from '../../dist/pins/resolve.js';
import { loadValidWorkspace } from '../../dist/workspace/load.js';

const [wsDir, image, out] = process.argv.slice(2);
const t0 = performance.now();
const ws = await loadValidWorkspace(wsDir);
const def = ws.images.get(image).value;
const main = await lockedPin(ws.root, ws.pins.get(def.pin));
const dir = await mkdtemp(join(tmpdir(), 'rr-bench-flake-'));
try {
  const flake = renderFlake(image, def, main, []);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'flake.nix'), flake.flakeNix);
  await writeFile(join(dir, 'flake.lock'), flake.flakeLock);
  const devEnv = await printDevEnv(dir, `devShells.${main.pin.system}.default`);
  const roots = storePathsIn(devEnv).filter((p) => existsSync(p)).sort();
  const paths = await closure(roots);
  const seconds = (performance.now() - t0) / 1000;
  await writeFile(out, JSON.stringify({ image, def, devEnv, paths, seconds }));
} finally {
  await rm(dir, { recursive: true, force: true });
}
