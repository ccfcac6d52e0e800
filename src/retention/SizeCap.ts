/**
 * The total-size cap of one directory (`maxTotalBytes`), as a pure step after the age rules of
 * `RetentionPlan.plan`: it turns some of the directory's planned actions into deletions with
 * reason `"size-cap"`, oldest first, until the managed files left fit under the cap.
 *
 * The rule, for one directory's actions (as the age rules planned them) and the entries' sizes:
 * - **What counts**: every managed regular file (a name the planner parsed, of type `File`) that
 *   the plan leaves on disk, at its listed size. A file the plan deletes counts 0. A file the plan
 *   compresses counts its plain (uncompressed) size: the size of its `.gz` is not known before it
 *   is written, so the cap assumes no gain, and may delete more than needed in this sweep (the
 *   next sweep sees the real `.gz` sizes). An original whose `.gz` already exists and is to be
 *   verified and removed (`FinishCompression`) counts 0; its `.gz` counts at its own size.
 *   Symbolic links, directories and names that are not managed never count. An entry without a
 *   size (its probe failed, or a listing built without sizes) counts 0: the cap acts only on
 *   what is known.
 * - **What may be deleted**: a counted file dated before today whose group was probed (not
 *   `probe-failed`). Never today's file, never a future-dated one.
 * - **Order**: oldest first by the date in the name (largest `ageDays`), then by name; the first
 *   ones are deleted until the total is at or under the cap. When even deleting every deletable
 *   file leaves the total over the cap (today's file alone is larger, say), every deletable file
 *   is deleted and the rest is left alone.
 *
 * Pure: needs nothing in context. `RetentionPlan.plan` applies it to each listing whose thresholds set `maxTotalBytes`.
 *
 * @since 0.2.0
 * @example
 * ```ts
 * import { RetentionPlan, SizeCap } from "effect-logrotate"
 *
 * // the age rules' actions for one directory (no size cap given to the planner), sizes by name
 * const sizes = new Map([["app-2026-01-01.ndjson", 6 * 1024 ** 3], ["app-2026-01-19.ndjson", 5 * 1024 ** 3]])
 * const { actions } = RetentionPlan.plan(
 *   [{ dir: "/var/log/relay", entries: [...sizes].map(([name, size]) => ({ name, type: "File" as const, size })) }],
 *   { maxAgeDays: 30, compressAgeDays: 0 },
 *   new Date("2026-01-20T10:00:00Z"))
 * const capped = SizeCap.apply(actions, (name) => sizes.get(name), 10 * 1024 ** 3)
 * capped.filter((a) => a._tag === "Delete" && a.reason === "size-cap")
 * // [{ _tag: "Delete", name: "app-2026-01-01.ndjson", reason: "size-cap", ageDays: 19, … }]: 11 GiB -> 5 GiB
 * ```
 */
import type * as RetentionPlan from "./RetentionPlan.js"

/** Skip reasons of a managed regular file the cap may delete (dated before today, probed). */
const DELETABLE_SKIPS: ReadonlySet<RetentionPlan.SkipReason> = new Set([
  "within-max-age", "within-compress-age", "already-compressed", "compressed-name-taken"
])

/** Skip reasons of a managed regular file the cap counts but never deletes. */
const KEPT_SKIPS: ReadonlySet<RetentionPlan.SkipReason> = new Set(["today", "future", "probe-failed"])

/**
 * The bytes `action`'s file still takes once the plan has run (see the module comment), and
 * whether the cap may delete it.
 *
 * @since 0.2.0
 */
export const weigh = (
  action: RetentionPlan.Action,
  size: number
): { readonly counted: number; readonly deletable: boolean } => {
  switch (action._tag) {
    case "Delete":
    case "FinishCompression":
      return { counted: 0, deletable: false }
    case "Compress":
      return { counted: size, deletable: true }
    case "Skip":
      if (DELETABLE_SKIPS.has(action.reason)) return { counted: size, deletable: true }
      if (KEPT_SKIPS.has(action.reason)) return { counted: size, deletable: false }
      return { counted: 0, deletable: false }
  }
}

/** Oldest first: larger `ageDays`, then name. */
const older = (a: RetentionPlan.Action, b: RetentionPlan.Action): number => {
  const byAge = (b.ageDays ?? 0) - (a.ageDays ?? 0)
  if (byAge !== 0) return byAge
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0
}

/**
 * Applies the cap to one directory's actions: the same actions in the same order, some turned
 * into `Delete` with reason `"size-cap"`. `sizeOf(name)` is the entry's size in bytes
 * (`undefined` = unknown, counted 0). Pure.
 *
 * @example
 * ```ts
 * SizeCap.apply(actions, (name) => entriesByName.get(name)?.size, 1_000_000)
 * ```
 *
 * @since 0.2.0
 */
export const apply = (
  actions: ReadonlyArray<RetentionPlan.Action>,
  sizeOf: (name: string) => number | undefined,
  maxTotalBytes: number,
  /** Files the cap neither counts nor deletes (`Entry.foreign`: another user's, in a shared sticky directory). */
  exempt: (name: string) => boolean = () => false
): ReadonlyArray<RetentionPlan.Action> => {
  if (maxTotalBytes <= 0) return actions // 0 = no cap, as RetentionPlan.Thresholds says
  let total = 0
  const candidates: Array<{ readonly index: number; readonly counted: number }> = []
  actions.forEach((action, index) => {
    if (exempt(action.name)) return
    const { counted, deletable } = weigh(action, sizeOf(action.name) ?? 0)
    total += counted
    if (deletable) candidates.push({ index, counted })
  })
  if (total <= maxTotalBytes) return actions
  candidates.sort((a, b) => older(actions[a.index]!, actions[b.index]!))
  const result = actions.slice()
  for (const { index, counted } of candidates) {
    if (total <= maxTotalBytes) break
    const a = actions[index]!
    result[index] = {
      _tag: "Delete", dir: a.dir, name: a.name, path: a.path, group: a.group, ageDays: a.ageDays ?? 0, reason: "size-cap"
    }
    total -= counted
  }
  return result
}

/**
 * The bytes the directory's managed files take once `actions` have run, as the cap counts them
 * (see the module comment).
 *
 * @example
 * ```ts
 * SizeCap.total(plan.actions, (name) => sizes.get(name)) // <= maxTotalBytes, when possible
 * ```
 *
 * @since 0.2.0
 */
export const total = (
  actions: ReadonlyArray<RetentionPlan.Action>,
  sizeOf: (name: string) => number | undefined
): number => actions.reduce((n, a) => n + weigh(a, sizeOf(a.name) ?? 0).counted, 0)
