/** The outcome of one case of a campaign (one kill, one race, one harness check). */
export interface CaseResult {
  /** e.g. `sweep-kills #17`. */
  readonly name: string
  /** The case's own seed (derived from the run's master seed, the campaign and the index). */
  readonly seed: number
  /** How it was run, for a failure message: kill mode and delay, sizes, offsets. */
  readonly detail: string
  /** Invariant violations; empty = passed. */
  readonly violations: ReadonlyArray<string>
  /** For kill cases: whether the SIGKILL hit a running process (false: it had already finished). */
  readonly landed?: boolean
  /** What the kill left behind, counted in the campaign summary (e.g. `temp`, `lock`, `torn`). */
  readonly left?: ReadonlyArray<string>
  /** How the case was set up, counted in the campaign summary (e.g. `started with a stale lock`). */
  readonly notes?: ReadonlyArray<string>
}

export interface Context {
  readonly master: number
  /** Root of this run's temp dirs. */
  readonly root: string
  /** Keep the dirs of failed cases for inspection. */
  readonly keep: boolean
  /** Only this case index, when rerunning one case. */
  readonly only?: number
  /** Cases running at once. */
  readonly concurrency: number
  readonly log: (line: string) => void
}

/** The dirs of a passed case are removed; a failed one's too unless `--keep`. */
export const cleanup = async (ctx: Context, dir: string, failed: boolean) => {
  const { rm } = await import("node:fs/promises")
  if (failed && ctx.keep) ctx.log(`    kept ${dir}`)
  else await rm(dir, { recursive: true, force: true })
}
