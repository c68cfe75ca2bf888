export async function runDoctor(_opts: { workspace: string; json?: boolean }): Promise<number> {
  throw new Error('doctor: being written');
}
