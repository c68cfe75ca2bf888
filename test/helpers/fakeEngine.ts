/**
 * An Engine that runs no containers: it speaks the container side of the transfer
 * protocol (runs/script.ts) in-process. It reads the source tar from stdin, calls the
 * test's `build` with what a build could observe, and sends the files it returns back as
 * the artifact tar. Records every call, so tests can assert order and specs.
 */
import { PassThrough, type Readable } from 'node:stream';
import tarStream from 'tar-stream';
import type { Engine, RunResult, RunSpec } from '../../src/engine/port.js';

export interface FakeBuild {
  /** File names the source tar held (paths as sent, e.g. src/a.c). */
  sourceFiles: string[];
  /** Contents of the source tar's small regular files (under 64 KiB), by name as sent. */
  sourceText: Record<string, string>;
  spec: RunSpec;
}

export interface FakeOutcome {
  exitCode: number;
  /** Artifact path (relative to the source folder) → content. */
  files?: Record<string, string>;
  /** Lines written to the build log (stderr). */
  log?: string[];
  /** Wait this long before exiting (to let a test interrupt). */
  delayMs?: number;
}

export interface FakeEngine extends Engine {
  calls: string[];
  specs: RunSpec[];
  running: number;
  maxRunning: number;
}

/**
 * Names in the source tar on stdin. The host never ends stdin (it pads the archive to whole
 * records instead, as GNU tar expects), so read headers until the end-of-archive block.
 */
async function readSourceNames(
  stdin: NodeJS.ReadableStream | undefined,
  text: Record<string, string> = {},
): Promise<string[]> {
  if (!stdin) return [];
  const names: string[] = [];
  let buffered = Buffer.alloc(0);
  let offset = 0;
  for await (const chunk of stdin as AsyncIterable<Buffer>) {
    buffered = Buffer.concat([buffered, chunk]);
    while (buffered.length >= offset + 512) {
      const header = buffered.subarray(offset, offset + 512);
      if (header.every((b) => b === 0)) return names;
      const name = header.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
      const prefix = header.subarray(345, 500).toString('utf8').replace(/\0.*$/s, '');
      const size = Number.parseInt(
        header.subarray(124, 136).toString('latin1').replace(/\0.*$/s, '').trim() || '0',
        8,
      );
      const type = String.fromCharCode(header[156] ?? 48);
      const full = prefix ? `${prefix}/${name}` : name;
      const end = offset + 512 + Math.ceil(size / 512) * 512;
      const small = (type === '0' || type === '\0') && size < 65536;
      // A small file's bytes are kept: wait until the whole entry is here.
      if (small && buffered.length < end) break;
      if (small) text[full] = buffered.subarray(offset + 512, offset + 512 + size).toString('utf8');
      if (type !== 'x' && type !== 'g' && type !== 'L') names.push(full);
      offset = end;
    }
  }
  return names;
}

function artifactTar(files: Record<string, string>): Readable {
  const pack = tarStream.pack();
  for (const [name, content] of Object.entries(files)) pack.entry({ name, mode: 0o644 }, content);
  pack.finalize();
  const out = new PassThrough();
  pack.pipe(out);
  return out;
}

export function fakeEngine(build: (b: FakeBuild) => FakeOutcome | Promise<FakeOutcome>): FakeEngine {
  let next = 0;
  const engine: FakeEngine = {
    endpoint: 'fake://engine',
    calls: [],
    specs: [],
    running: 0,
    maxRunning: 0,
    async ping() {
      engine.calls.push('ping');
    },
    async version() {
      return { version: 'fake', apiVersion: '1.43', os: 'linux', arch: 'amd64' };
    },
    async loadImage() {
      throw new Error('the fake engine loads no images');
    },
    async importRootfs() {
      throw new Error('the fake engine imports nothing');
    },
    async inspectImage() {
      return undefined;
    },
    async tagImage() {},
    async removeImage() {
      return false;
    },
    async runContainer(spec: RunSpec): Promise<RunResult> {
      const id = `fake-${++next}`;
      engine.specs.push(spec);
      engine.calls.push(`run ${spec.labels?.['reprorom.board']}#${spec.labels?.['reprorom.index']}`);
      engine.running++;
      engine.maxRunning = Math.max(engine.maxRunning, engine.running);
      const started = Date.now();
      try {
        await spec.beforeStart?.(id);
        spec.stdout?.write('reprorom:tar\n');
        const sourceText: Record<string, string> = {};
        const sourceFiles = await readSourceNames(spec.stdin, sourceText);
        const outcome = await build({ sourceFiles, sourceText, spec });
        for (const line of outcome.log ?? []) spec.onStderrLine?.(line);
        if (outcome.delayMs) {
          await new Promise<void>((resolve, reject) => {
            if (spec.signal?.aborted) return reject(spec.signal.reason);
            const t = setTimeout(resolve, outcome.delayMs);
            spec.signal?.addEventListener('abort', () => {
              clearTimeout(t);
              reject(spec.signal?.reason);
            });
          });
        }
        if (spec.signal?.aborted) throw spec.signal.reason;
        if (outcome.exitCode === 0 && outcome.files && spec.stdout) {
          const tar = artifactTar(outcome.files);
          await new Promise<void>((resolve, reject) => {
            tar.on('end', resolve);
            tar.on('error', reject);
            tar.pipe(spec.stdout as NodeJS.WritableStream, { end: false });
          });
        }
        await spec.afterExit?.(id, outcome.exitCode);
        return {
          containerId: id,
          runId: spec.runId ?? '',
          exitCode: outcome.exitCode,
          durationMs: Date.now() - started,
          oomKilled: false,
        };
      } finally {
        engine.running--;
        engine.calls.push(`removed ${id}`);
      }
    },
    // The executor creates containers only to ask whether the engine takes a security option.
    async createContainer(spec: RunSpec) {
      engine.calls.push(`createContainer ${spec.labels?.['reprorom.probe'] ?? ''}`.trim());
      return 'fake-probe';
    },
    async startContainer() {},
    async removeContainer() {},
    async putArchive() {
      throw new Error('the fake engine speaks the tar mode only');
    },
    async getArchive() {
      throw new Error('the fake engine speaks the tar mode only');
    },
    async listLabelled() {
      return [];
    },
    async removeLabelled() {
      return 0;
    },
    async removeOrphans() {
      engine.calls.push('removeOrphans');
      return 0;
    },
  };
  return engine;
}
