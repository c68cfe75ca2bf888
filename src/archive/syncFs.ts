/**
 * The file-system calls tar-fs makes, done synchronously behind its callback interface.
 *
 * Why: tar-fs handles one entry at a time and makes about eight calls per file (an lstat of
 * each parent folder, stat, mkdir, lstat, open, write, close, chmod). Through Node's thread
 * pool each call waits for a thread hop and a turn of the event loop, and that waiting was
 * nearly all of the time: 30,000 small artifacts took 18–29 s to extract, the event loop idle
 * for three quarters of it, where `tar -x` takes 1 s. The same calls, made synchronously,
 * cost microseconds each.
 *
 * The calls, their order and their results are tar-fs's own: every check it makes (and every
 * check of extract.ts's policy, made before it) is unchanged. Callbacks still run on a later
 * tick, as tar-fs expects. Files are written chunk by chunk as they arrive, never held whole.
 */
import * as fs from 'node:fs';
import { Writable } from 'node:stream';

type Callback<T> = (err: NodeJS.ErrnoException | null, result?: T) => void;

/** `fn(...args, callback)` made from `fnSync(...args)`: the callback runs on the next tick. */
function viaSync<A extends unknown[], T>(fnSync: (...args: A) => T) {
  return (...argsAndCallback: [...A, Callback<T>]): void => {
    const done = argsAndCallback.pop() as Callback<T>;
    const args = argsAndCallback as unknown as A;
    let result: T;
    try {
      result = fnSync(...args);
    } catch (err) {
      process.nextTick(done, err as NodeJS.ErrnoException);
      return;
    }
    process.nextTick(done, null, result);
  };
}

/**
 * A file written with synchronous calls as its chunks arrive. Opened with O_NOFOLLOW: tar-fs
 * removes a symlink at the name before it writes, and an open that would still follow one fails.
 */
export class SyncFileWriter extends Writable {
  private fd: number | undefined;

  constructor(private readonly path: string) {
    super();
  }

  override _construct(done: (err?: Error | null) => void): void {
    try {
      const { O_WRONLY, O_CREAT, O_TRUNC, O_NOFOLLOW } = fs.constants;
      this.fd = fs.openSync(this.path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0o666);
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    try {
      this.writeAll(chunk);
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _final(done: (err?: Error | null) => void): void {
    try {
      this.closeFd();
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    try {
      this.closeFd();
    } catch {
      // The stream's own error (if any) is the one to report.
    }
    done(err);
  }

  private writeAll(chunk: Buffer): void {
    const fd = this.fd as number;
    let at = 0;
    while (at < chunk.length) at += fs.writeSync(fd, chunk, at, chunk.length - at);
  }

  private closeFd(): void {
    const fd = this.fd;
    this.fd = undefined;
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** tar-fs's `fs` option: Node's fs with the calls it makes on the extraction path done synchronously. */
export function syncExtractFs(opts: { copyHardLinks: boolean }) {
  return {
    ...fs,
    lstat: viaSync((p: fs.PathLike) => fs.lstatSync(p)),
    stat: viaSync((p: fs.PathLike) => fs.statSync(p)),
    mkdir: viaSync((p: fs.PathLike, o: fs.MakeDirectoryOptions) => fs.mkdirSync(p, o)),
    chmod: viaSync((p: fs.PathLike, mode: fs.Mode) => fs.chmodSync(p, mode)),
    // tar-fs prefers lchmod for a symlink when the platform has it; Linux has none, as before.
    lchmod: undefined,
    unlink: viaSync((p: fs.PathLike) => fs.unlinkSync(p)),
    symlink: viaSync((target: fs.PathLike, p: fs.PathLike) => fs.symlinkSync(target, p)),
    realpath: viaSync((p: fs.PathLike) => fs.realpathSync(p)),
    utimes: viaSync((p: fs.PathLike, a: fs.TimeLike, m: fs.TimeLike) => fs.utimesSync(p, a, m)),
    // A hard link becomes a copy (the copy owns its bytes), or is made as tar-fs would.
    link: opts.copyHardLinks
      ? viaSync((from: fs.PathLike, to: fs.PathLike) => fs.copyFileSync(from, to, fs.constants.COPYFILE_EXCL))
      : viaSync((from: fs.PathLike, to: fs.PathLike) => fs.linkSync(from, to)),
    createWriteStream: (path: string) => new SyncFileWriter(path),
  };
}
