/**
 * What a build, release or verify tells people while it works, as data: the domain emits
 * these events, the CLI renders them (live lines, heartbeats, plain log lines) and never has
 * to read meaning back out of text.
 */

/** The pipeline's stages, in order; `explain` (the culprit search) runs only on a mismatch. */
export const PIPELINE_STAGES = ['build', 'compare', 'explain', 'verdict'] as const;
export type PipelineStage = (typeof PIPELINE_STAGES)[number];

/** A run's state for live progress. */
export type RunState = 'started' | 'booting' | 'done' | 'failed';

export type ProgressEvent =
  /** The pipeline entered a stage. */
  | { type: 'stage'; stage: PipelineStage }
  /** Before the runs: an image made ready or a board's source prepared (`text` says what). */
  | { type: 'prep'; board: string; what: 'image' | 'source' | 'inputs'; text: string }
  /** A run changed state; `detail` is what the line says after "run i/N <state>". */
  | { type: 'run'; board: string; index: number; total: number; state: RunState; detail?: string }
  /** A run finished booting (a check after the build, before `done`). */
  | { type: 'boot'; board: string; index: number; total: number; ok: boolean; message: string }
  /** One line of a run's own build output. */
  | { type: 'output'; board: string; index: number; line: string }
  /** Anything else worth one line to a person (locks, orphans swept, log caps, notes). */
  | { type: 'note'; board: string; text: string };

export type ProgressListener = (event: ProgressEvent) => void;

/** The one line for people that an event reads as (`output` lines are the build's own, not ours). */
export function progressText(e: ProgressEvent): { board: string; text: string } | undefined {
  switch (e.type) {
    case 'stage':
      return undefined;
    case 'prep':
    case 'note':
      return { board: e.board, text: e.text };
    case 'run': {
      const what = e.state === 'failed' ? 'FAILED' : e.state;
      const sep = e.state === 'failed' ? ': ' : ' ';
      return {
        board: e.board,
        text: `run ${e.index}/${e.total} ${what}${e.detail ? `${sep}${e.detail}` : ''}`,
      };
    }
    case 'boot':
      return {
        board: e.board,
        text: `run ${e.index}/${e.total} boot ${e.ok ? 'ok' : 'FAILED'}: ${e.message}`,
      };
    case 'output':
      return undefined;
  }
}
