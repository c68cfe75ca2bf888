/**
 * Run tasks with at most `limit` at once. The first failure stops new tasks from
 * starting; tasks already running finish (or are aborted by their own signal).
 */
export async function runPool<T>(
  tasks: Array<() => Promise<T>>,
  limit: number,
  stopOnFailure = true,
): Promise<PromiseSettledResult<T>[]> {
  const results: PromiseSettledResult<T>[] = new Array(tasks.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < tasks.length) {
      const i = next++;
      const task = tasks[i]!;
      try {
        results[i] = { status: 'fulfilled', value: await task() };
      } catch (reason) {
        results[i] = { status: 'rejected', reason };
        if (stopOnFailure) failed = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, tasks.length)) }, worker));
  return results.filter((r) => r !== undefined);
}
