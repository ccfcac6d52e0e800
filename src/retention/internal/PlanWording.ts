/**
 * The words a sweep's report and dry run use for planned actions, shared by `Sweeper` (published
 * as `Sweeper.describePlanned` / `Sweeper.deleteWhy`) and the CLI's output, which must not load
 * the Sweeper to print them.
 */
import * as Option from "effect/Option"
import type * as RetentionPlan from "../RetentionPlan.js"

/** `1 day old`, `3 days old`. */
export const daysOld = (days: number): string => `${days} ${days === 1 ? "day" : "days"} old`

/** Why a `Delete` is planned, in a few words: `31 days old`, `stale temporary file`, `over the size cap, 3 days old`. */
export const deleteWhy = (action: { readonly reason: RetentionPlan.DeleteReason; readonly ageDays: number }): string =>
  action.reason === "stale-temp" ? "stale temporary file"
  : action.reason === "size-cap" ? `over the size cap, ${daysOld(action.ageDays)}`
  : daysOld(action.ageDays)

/**
 * One line of a dry run for an action the sweep would take (none for a skip). An existing `.gz`
 * is only said to be verified, never complete: the dry run does not read it.
 */
export const describePlanned = (action: RetentionPlan.Action): Option.Option<string> => {
  switch (action._tag) {
    case "Compress":
      return Option.some(`would compress ${action.path} (${daysOld(action.ageDays)})`)
    case "Delete":
      return Option.some(`would delete   ${action.path} (${deleteWhy(action)})`)
    case "FinishCompression":
      return Option.some(`would verify   ${action.gzip} decompresses to the bytes of ${action.path}, then remove ${action.path}`)
    case "Skip":
      return Option.none()
  }
}
