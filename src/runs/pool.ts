/**
 * Run tasks with at most `limit` at once. The first failure stops new tasks from
 * starting; tasks already running finish (or are aborted by their own signal).
 */
export async function runPool<T>(
  tasks: Array<() => Promise<T>>,
  limit: number,
  stopOnFailure = true,
): Promise<PromiseSettledResult<T>[]> {
  return runGraph(
    tasks.map((run) => ({ run })),
    limit,
    stopOnFailure,
  );
}

export interface GraphTask<T> {
  run: () => Promise<T>;
  /** Positions (in the same list) of the tasks that must have settled before this one starts. */
  after?: readonly number[];
}

/**
 * Run tasks with at most `limit` at once, each only after the tasks it comes `after` have
 * settled (fulfilled or rejected: a consumer reports a failed producer itself). A free slot
 * takes the first task in list order that is ready, so a task waiting for its producers never
 * holds a slot while another could run; list the tasks in the order they should start. The
 * first failure stops new tasks from starting (unless `stopOnFailure` is false); tasks
 * already running finish. Results of tasks that never started are left out.
 */
export async function runGraph<T>(
  tasks: ReadonlyArray<GraphTask<T>>,
  limit: number,
  stopOnFailure = true,
): Promise<PromiseSettledResult<T>[]> {
  const results: PromiseSettledResult<T>[] = new Array(tasks.length);
  const started = new Array<boolean>(tasks.length).fill(false);
  const settled = new Array<boolean>(tasks.length).fill(false);
  const slots = Math.max(1, limit);
  let running = 0;
  let failed = false;
  return new Promise((resolve, reject) => {
    const ready = (i: number) =>
      !started[i] && (tasks[i]?.after ?? []).every((a) => a < 0 || a >= tasks.length || settled[a]);
    const pump = () => {
      while (!failed && running < slots) {
        const i = tasks.findIndex((_, k) => ready(k));
        if (i < 0) break;
        started[i] = true;
        running++;
        const task = tasks[i] as GraphTask<T>;
        Promise.resolve()
          .then(task.run)
          .then(
            (value) => {
              results[i] = { status: 'fulfilled', value };
            },
            (reason: unknown) => {
              results[i] = { status: 'rejected', reason };
              if (stopOnFailure) failed = true;
            },
          )
          .finally(() => {
            settled[i] = true;
            running--;
            pump();
          });
      }
      if (running > 0) return;
      if (!failed && started.some((s) => !s)) {
        reject(new Error('tasks wait on each other in a cycle and can never start'));
        return;
      }
      resolve(results.filter((r) => r !== undefined));
    };
    pump();
  });
}
