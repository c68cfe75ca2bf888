/**
 * Modules a command needs only once its containers have run (comparison, reports, run
 * records) are imported lazily, so they are not compiled before the first container is
 * created. They are loaded while the engine starts a container: the ~0.5 s the engine
 * takes would otherwise leave this process idle.
 */
const loaders = new Set<() => Promise<unknown>>();

/** Load `load` at the next warmUp(); the command still awaits its own import where it needs it. */
export function loadWhileStarting(load: () => Promise<unknown>): void {
  loaders.add(load);
}

/** Start every registered load once; a failure surfaces where the module is actually imported. */
export function warmUp(): void {
  for (const load of loaders) void load().catch(() => undefined);
  loaders.clear();
}
