/**
 * The one apt adapter: the only module that runs apt-get and apt-cache. Every caller names
 * the apt state it runs on (its own lists and caches, sources, dpkg status, architecture),
 * spelled here as `-o` options, so reprorom reads the host's /var/lib/apt at most and never
 * changes it. apt speaks English here (LC_ALL=C): the callers read its complaints.
 */
import { runToolResult, type ToolResult } from '../util/tool.js';

export type AptTool = 'apt-get' | 'apt-cache';

/** A state of apt's own; a field left out is the host's. */
export interface AptState {
  /** The one architecture apt uses and indexes. */
  architecture?: string;
  /** Sources list and parts folder (deb-src entries derived from the host's, say). */
  sources?: { list: string; parts: string };
  /** The folder of index lists. */
  lists?: string;
  /** The dpkg status apt resolves against (an empty one: nothing installed). */
  status?: string;
  /** The folder of package caches and downloads. */
  cache?: string;
  /** Further settings, `Name=value`, after the above. */
  settings?: readonly string[];
}

/** The `-o` options that select `state`, in a fixed order (a later option wins over an earlier one). */
export function aptStateOptions(state: AptState): string[] {
  const arch = state.architecture;
  return [
    ...(arch !== undefined ? [`APT::Architecture=${arch}`, `APT::Architectures=${arch}`] : []),
    ...(state.sources
      ? [`Dir::Etc::SourceList=${state.sources.list}`, `Dir::Etc::SourceParts=${state.sources.parts}`]
      : []),
    ...(state.lists !== undefined ? [`Dir::State::Lists=${state.lists}`] : []),
    ...(state.status !== undefined ? [`Dir::State::status=${state.status}`] : []),
    ...(state.cache !== undefined ? [`Dir::Cache=${state.cache}`] : []),
    ...(state.settings ?? []),
  ].flatMap((o) => ['-o', o]);
}

export interface AptRunOptions {
  cwd?: string;
  signal?: AbortSignal;
  /** Why this machine needs apt: the hint when apt is not installed. */
  install: string;
}

/** apt's exit code is an answer here (a version it lacks): only "not installed" and cancellation throw. */
export function aptResult(tool: AptTool, args: readonly string[], opts: AptRunOptions): Promise<ToolResult> {
  return runToolResult(tool, args, {
    ...opts,
    env: { LC_ALL: 'C', DEBIAN_FRONTEND: 'noninteractive' },
    // apt-cache show of a whole package set is many megabytes.
    maxBuffer: 256 * 1024 * 1024,
  });
}

/** apt failed: both of its streams, for the callers that read its complaints. */
export class AptFailedError extends Error {
  readonly stdout: string;
  readonly stderr: string;
  /** `exit code N` (or how it was killed), for a message when apt said nothing. */
  readonly exit: string;
  constructor(tool: AptTool, args: readonly string[], r: ToolResult) {
    const exit = r.killed ?? `exit code ${r.exitCode}`;
    super(`${tool} ${args.find((a) => !a.startsWith('-')) ?? ''} failed: ${exit}`);
    this.stdout = r.stdout;
    this.stderr = r.stderr;
    this.exit = exit;
  }

  /** What apt printed, both streams. */
  get output(): string {
    return `${this.stdout}\n${this.stderr}`;
  }

  /** apt's last lines (at most `lines`), or the exit when it printed nothing. */
  tail(lines = 4): string {
    return this.output.trim().split('\n').slice(-lines).join('\n  ') || this.exit;
  }
}

/** apt whose failure is an error (AptFailedError); its stdout otherwise. */
export async function aptRun(tool: AptTool, args: readonly string[], opts: AptRunOptions): Promise<string> {
  const r = await aptResult(tool, args, opts);
  if (r.exitCode !== 0) throw new AptFailedError(tool, args, r);
  return r.stdout;
}
