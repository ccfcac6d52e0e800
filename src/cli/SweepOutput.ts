/**
 * What `effect-logrotate sweep` prints for a `SweepReport` (without `--json`): a pure function of
 * the report, so every line is fixed by a table test.
 *
 * - stdout, unless `quiet`: one line per file acted on, in the plan's order, as `logrotate -v`
 *   does: `compressed <path> (<before> -> <after>)`, `deleted <path> (<why>)` (`N days old`,
 *   `stale temporary file`, `over the size cap, N days old`); in a dry run the
 *   plan instead (`would compress …`, `would delete …`, `would verify …`).
 * - stdout, always: the summary. A real run counts `compressed`, `deleted`, `skipped` (broken
 *   down by reason), `failed` and `freed`; a dry run says `would compress N`, `would delete N`
 *   (and `would verify N` when there are any), never "compressed 0".
 * - stderr, always (also with `quiet`): one line per failure, `failed <path>: <operation>: <reason>`,
 *   except a directory that does not exist, which is the one short line `<dir>: no such directory`.
 */
import * as Option from "effect/Option"
import type * as RetentionPlan from "../retention/RetentionPlan.js"
import type * as Sweeper from "../retention/Sweeper.js"
import { daysOld, describePlanned } from "../retention/internal/PlanWording.js"

/** The lines to print, without their `\n`. */
export interface Output {
  readonly stdout: ReadonlyArray<string>
  readonly stderr: ReadonlyArray<string>
}

/** `512 B`, `1.1 KiB`, `10.0 MiB`. */
export const formatBytes = (n: number): string =>
  n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`

/** Skip reasons in the order the summary lists them, with their words. */
export const SKIP_REASONS: ReadonlyArray<readonly [RetentionPlan.SkipReason, string]> = [
  ["today", "today"],
  ["future", "future-dated"],
  ["within-compress-age", "within compress age"],
  ["within-max-age", "within max age"],
  ["already-compressed", "already compressed"],
  ["compressed-name-taken", "compressed name taken"],
  ["not-managed", "not managed"],
  ["invalid-date", "invalid date"],
  ["symbolic-link", "symbolic link"],
  ["not-a-file", "not a file"],
  ["probe-failed", "could not be examined"]
]

/** `3 (1 today, 2 not managed)`; `0`. */
export const skippedBreakdown = (skipped: ReadonlyArray<Sweeper.SkippedFile>): string => {
  const parts = SKIP_REASONS.flatMap(([reason, words]) => {
    const n = skipped.filter((s) => s.reason === reason).length
    return n === 0 ? [] : [`${n} ${words}`]
  })
  return parts.length === 0 ? `${skipped.length}` : `${skipped.length} (${parts.join(", ")})`
}

const SYSTEM_REASONS: Record<string, string> = {
  NotFound: "no such file or directory",
  PermissionDenied: "permission denied",
  AlreadyExists: "already exists",
  Busy: "resource busy",
  TimedOut: "timed out",
  BadResource: "bad resource",
  UnexpectedEof: "unexpected end of file",
  WouldBlock: "would block"
}

/** The failure's reason in a few words: a platform error's kind, else the error's own message. */
export const failureReason = (failure: Sweeper.SweepReport["failed"][number]): string => {
  const error = failure.error
  if (error._tag === "SystemError") return SYSTEM_REASONS[error.reason] ?? error.description ?? error.reason
  if (error._tag === "BadArgument") return error.description ?? "bad argument"
  return error.message
}

/** A directory given to the sweep that does not exist. */
const isMissingDirectory = (failure: Sweeper.SweepReport["failed"][number]) =>
  failure.operation === "list" && failure.error._tag === "SystemError" && failure.error.reason === "NotFound"

/** One stderr line for a failure. */
export const describeFailure = (failure: Sweeper.SweepReport["failed"][number]): string =>
  isMissingDirectory(failure)
    ? `${failure.path}: no such directory`
    : `failed ${failure.path}: ${failure.operation}: ${failureReason(failure)}`

const age = (action: RetentionPlan.Action | undefined) =>
  action !== undefined && action._tag !== "Skip" ? daysOld(action.ageDays) : undefined

/** The stdout lines for the files a real sweep acted on, in the plan's order. */
const actedOn = (report: Sweeper.SweepReport): Array<string> => {
  const compressed = new Map(report.compressed.map((f) => [f.path, f]))
  const deleted = new Map(report.deleted.map((f) => [f.path, f]))
  const lines: Array<string> = []
  for (const action of report.plan.actions) {
    if (action._tag === "Compress" || action._tag === "FinishCompression") {
      const f = compressed.get(action.path)
      if (f === undefined) continue
      compressed.delete(action.path)
      const verified = f.check === "compared" ? ", existing .gz verified" : ""
      lines.push(`compressed ${f.path} (${formatBytes(f.bytesBefore)} -> ${formatBytes(f.bytesAfter)}${verified})`)
    } else if (action._tag === "Delete") {
      const f = deleted.get(action.path)
      if (f === undefined) continue
      deleted.delete(action.path)
      lines.push(`deleted ${f.path} (${f.reason === "stale-temp" ? "stale temporary file" : f.reason === "size-cap" ? `over the size cap, ${age(action)}` : age(action) ?? "older than max age"})`)
    }
  }
  // Anything the plan did not list (not expected) is still reported.
  for (const f of compressed.values()) lines.push(`compressed ${f.path} (${formatBytes(f.bytesBefore)} -> ${formatBytes(f.bytesAfter)})`)
  for (const f of deleted.values()) lines.push(`deleted ${f.path} (${f.reason === "stale-temp" ? "stale temporary file" : f.reason === "size-cap" ? "over the size cap" : "older than max age"})`)
  return lines
}

/** A dry run's plan, one line per action it would take. */
const planned = (report: Sweeper.SweepReport): Array<string> =>
  report.plan.actions.flatMap((action) => Option.toArray(describePlanned(action)))

const table = (rows: ReadonlyArray<readonly [string, string]>) => {
  const width = Math.max(...rows.map(([label]) => label.length))
  return rows.map(([label, value]) => `  ${label.padEnd(width)} ${value}`)
}

/** The summary lines. */
export const summary = (report: Sweeper.SweepReport): Array<string> => {
  const n = report.dirs.length
  const head = `${report.dryRun ? "dry run: " : ""}swept ${n} director${n === 1 ? "y" : "ies"} in ${report.durationMs} ms`
  if (report.dryRun) {
    const count = (tag: RetentionPlan.Action["_tag"]) => report.plan.actions.filter((a) => a._tag === tag).length
    const verify = count("FinishCompression")
    return [head, ...table([
      ["would compress", `${count("Compress")}`],
      ["would delete", `${count("Delete")}`],
      ...(verify > 0 ? [["would verify", `${verify}`] as const] : []),
      ["skipped", skippedBreakdown(report.skipped)],
      ["failed", `${report.failed.length}`]
    ])]
  }
  const before = report.compressed.reduce((sum, f) => sum + f.bytesBefore, 0)
  const after = report.compressed.reduce((sum, f) => sum + f.bytesAfter, 0)
  return [head, ...table([
    ["compressed", `${report.compressed.length}${report.compressed.length > 0 ? ` (${formatBytes(before)} -> ${formatBytes(after)})` : ""}`],
    ["deleted", `${report.deleted.length}`],
    ["skipped", skippedBreakdown(report.skipped)],
    ["failed", `${report.failed.length}`],
    ["freed", formatBytes(report.bytesFreed)]
  ])]
}

/** Everything `sweep` prints for a report; with `quiet`, the summary and the failures only. */
export const render = (report: Sweeper.SweepReport, options: { readonly quiet?: boolean } = {}): Output => ({
  stdout: [...(options.quiet ? [] : report.dryRun ? planned(report) : actedOn(report)), ...summary(report)],
  stderr: report.failed.map(describeFailure)
})
