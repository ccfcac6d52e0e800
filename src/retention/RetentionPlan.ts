/**
 * The retention planner: a pure function of (directory listings, policy, today) that says,
 * for every entry, whether to compress, delete, finish an interrupted compression, or leave
 * it alone, and why. `Sweeper` executes a plan; a dry run only prints it.
 *
 * Each listing is read with its `naming` (`FileNaming.default`, `<prefix>-YYYY-MM-DD.ndjson`,
 * when absent): a name it parses is managed, whatever its pattern or period. Rules, for a managed
 * name, with `age` = days from the day in its name to today (UTC; an hourly file's age is its
 * day's, so every hour of today is age 0):
 * 0. A daily file one of whose entries could not be probed (type `Unprobed`: its `lstat`
 *    failed) is left alone whole (`probe-failed`): what is not known is never acted on, so a
 *    `.gz` that could not be probed is never replaced by a new compression.
 * 1. A symbolic link is skipped (`symbolic-link`) and never followed; a directory or other
 *    non-regular entry is skipped (`not-a-file`).
 * 2. Today's file (age 0) and future-dated files are never touched (`today`, `future`).
 * 3. `age > maxAgeDays`: deleted (`older-than-max-age`), whatever the kind: a file due for
 *    deletion is deleted, not compressed first.
 * 4. A `<name>.gz.tmp` is what a crash left mid-compression: deleted (`stale-temp`); the
 *    compression is redone in the same plan when still due.
 * 5. A `<name>.gz` is never recompressed (`already-compressed`).
 * 6. A `<name>` (e.g. `.ndjson`) with compression on and `age > compressAgeDays` is compressed
 *    (`older-than-compress-age`), unless its `<name>.gz` already exists: then the plan is
 *    `FinishCompression` (check the gunzipped `.gz` is byte-equal to the original, then
 *    remove the original). Otherwise it is kept (`within-max-age` / `within-compress-age`).
 * Every other name is skipped as `not-managed` (or `invalid-date` when only the date is wrong).
 * 7. With `maxTotalBytes` set, the size cap (`SizeCap`) then deletes the oldest managed files
 *    dated before today (by the date in their name, then name) until the directory's managed
 *    files fit (`size-cap`); a planned compression counts at its plain size. Entry sizes come
 *    from the listing (`Entry.size`).
 *
 * Each listing is planned with its own `thresholds` when it has them, else with those given.
 *
 * Actions come out in a deterministic order: by listing, then by the (daily or hourly) file they
 * belong to, then temp, original, compressed. Actions on one file share a `group` and must run
 * in that order; different groups are independent.
 *
 * Pure: needs nothing in context, reads no clock (today is an argument) and no file (sizes and
 * types come in the listing), so the same input always gives the same plan. `Listing.naming`,
 * `Listing.thresholds`, `Entry.size` and `Thresholds.maxTotalBytes` since 0.2.0.
 *
 * @since 0.1.0
 * @example
 * ```ts
 * import { RetentionPlan } from "effect-logrotate"
 *
 * const plan = RetentionPlan.plan(
 *   [{ dir: "/var/log/relay", entries: [{ name: "app-2026-01-01.ndjson", type: "File" }] }],
 *   { maxAgeDays: 30, compressAgeDays: 7 },
 *   new Date("2026-01-20T10:00:00Z")
 * )
 * plan.actions[0] // { _tag: "Compress", path: "/var/log/relay/app-2026-01-01.ndjson", ageDays: 19, reason: "older-than-compress-age", … }
 * ```
 */
import * as Either from "effect/Either"
import * as Path from "node:path"
import * as FileNaming from "./FileNaming.js"
import * as SizeCap from "./SizeCap.js"

/**
 * The kind of a directory entry, as seen without following symbolic links; `Unprobed` when
 * the probe failed (its type is unknown).
 *
 * @since 0.1.0
 */
export type EntryType = "File" | "Directory" | "SymbolicLink" | "Other" | "Unprobed"

/** @since 0.1.0 */
export interface Entry {
  readonly name: string
  readonly type: EntryType
  /**
   * Bytes, as the listing's probe saw them; only the size cap reads it (absent = unknown, counted 0).
   *
   * @since 0.2.0
   */
  readonly size?: number | undefined
  /**
   * In a directory other users may write but not delete from (sticky, writable by others), a file
   * owned by another user than the sweep's: the size cap neither counts nor deletes it, so another
   * user's files (which the sweep could not remove for them) never make the cap delete yours.
   *
   * @since 0.2.0
   */
  readonly foreign?: boolean | undefined
}

/** @since 0.1.0 */
export interface Listing {
  readonly dir: string
  readonly entries: ReadonlyArray<Entry>
  /**
   * How the managed names of `dir` are written. Default `FileNaming.default` (`<prefix>-YYYY-MM-DD.ndjson`).
   *
   * @since 0.2.0
   */
  readonly naming?: FileNaming.FileNaming | undefined
  /**
   * This directory's own thresholds; when absent, the ones given to `plan`.
   *
   * @since 0.2.0
   */
  readonly thresholds?: Thresholds | undefined
}

/**
 * The part of the policy planning reads; a `RetentionPolicy.Policy` fits.
 *
 * @since 0.1.0
 */
export interface Thresholds {
  readonly maxAgeDays: number
  /** 0 = never compress. */
  readonly compressAgeDays: number
  /**
   * The most bytes the directory's managed files may take after the age rules; older files are
   * deleted (reason `"size-cap"`) until they fit. Absent or 0 = no cap (as `maxBytes` 0 is no
   * rotation and `compressAgeDays` 0 no compression; a directory's 0 switches a global cap off). See `SizeCap`.
   *
   * @since 0.2.0
   */
  readonly maxTotalBytes?: number | undefined
}

/** @since 0.1.0 */
export type CompressReason = "older-than-compress-age"
/**
 * Why a file is deleted; `"size-cap"` (`SizeCap`) since 0.2.0.
 *
 * @since 0.1.0
 */
export type DeleteReason = "older-than-max-age" | "stale-temp" | "size-cap"
/** @since 0.1.0 */
export type FinishReason = "compressed-copy-exists"
/** @since 0.1.0 */
export type SkipReason =
  | "not-managed" | "invalid-date" | "symbolic-link" | "not-a-file" | "today" | "future"
  | "already-compressed" | "within-max-age" | "within-compress-age" | "compressed-name-taken" | "probe-failed"

interface Target {
  readonly dir: string
  readonly name: string
  /** `dir` joined with `name`. */
  readonly path: string
  /** Path of the (uncompressed) file this entry belongs to (the entry's own path when unmanaged). */
  readonly group: string
}

interface Dated extends Target {
  /** Days from the date in the name to today; 0 = today, negative = future. */
  readonly ageDays: number
}

/**
 * Gzip `path` into `path.gz`, then remove `path`.
 *
 * @since 0.1.0
 */
export interface Compress extends Dated {
  readonly _tag: "Compress"
  readonly reason: CompressReason
}

/**
 * Remove `path`.
 *
 * @since 0.1.0
 */
export interface Delete extends Dated {
  readonly _tag: "Delete"
  readonly reason: DeleteReason
}

/**
 * `gzip` exists next to `path`: check the gunzipped `gzip` is byte-equal to `path`, then remove `path`.
 *
 * @since 0.1.0
 */
export interface FinishCompression extends Dated {
  readonly _tag: "FinishCompression"
  readonly gzip: string
  readonly reason: FinishReason
}

/**
 * Leave `path` alone. `ageDays` is absent when the name carries no valid date.
 *
 * @since 0.1.0
 */
export interface Skip extends Target {
  readonly _tag: "Skip"
  readonly ageDays?: number
  readonly reason: SkipReason
}

/** @since 0.1.0 */
export type Action = Compress | Delete | FinishCompression | Skip

/** @since 0.1.0 */
export interface Plan {
  /** Today's UTC date, `YYYY-MM-DD`. */
  readonly today: string
  readonly actions: ReadonlyArray<Action>
}

const KIND_ORDER = { temp: 0, plain: 1, gzip: 2 } as const

interface Classified {
  readonly entry: Entry
  readonly parsed: Either.Either<FileNaming.Named, FileNaming.NotManaged>
  readonly group: string
  /** `KIND_ORDER` of the parsed kind; 3 for a name that is not managed. */
  readonly order: number
}

const compare = (a: Classified, b: Classified): number => {
  if (a.group !== b.group) return a.group < b.group ? -1 : 1
  if (a.order !== b.order) return a.order - b.order
  return a.entry.name < b.entry.name ? -1 : a.entry.name > b.entry.name ? 1 : 0
}

/**
 * `Path.join(dir, name)` for every name of one directory: `dir` is normalized once, and a plain
 * name (no `/`, not `.` or `..`) is appended; anything else goes through `Path.join`. Planning
 * 100,000 names spent a fifth of its time in `Path.join` (docs/performance.md, "Sweep").
 */
const joiner = (dir: string): ((name: string) => string) => {
  const base = Path.join(dir, "x")
  const prefix = base.slice(0, -1)
  return (name) => name.length === 0 || name === "." || name === ".." || name.includes("/") ? Path.join(dir, name) : prefix + name
}

// Actions are built as literals (no object spread): spreading made planning 100,000 names
// several times slower, and kept more garbage.
const skip = (dir: string, name: string, path: string, group: string, reason: SkipReason): Skip =>
  ({ _tag: "Skip", dir, name, path, group, reason })
const skipDated = (dir: string, name: string, path: string, group: string, ageDays: number, reason: SkipReason): Skip =>
  ({ _tag: "Skip", dir, name, path, group, ageDays, reason })

const planEntry = (
  dir: string,
  join: (name: string) => string,
  { entry, parsed, group }: Classified,
  byName: ReadonlyMap<string, Entry>,
  thresholds: Thresholds,
  today: FileNaming.Day,
  unprobed: ReadonlySet<string>
): Action => {
  const name = entry.name
  const path = join(name)
  if (Either.isLeft(parsed)) return skip(dir, name, path, group, parsed.left)
  const file = parsed.right
  const ageDays = FileNaming.ageInDays(file.period, today)
  if (unprobed.has(group)) return skipDated(dir, name, path, group, ageDays, "probe-failed")
  if (entry.type === "SymbolicLink") return skipDated(dir, name, path, group, ageDays, "symbolic-link")
  if (entry.type !== "File") return skipDated(dir, name, path, group, ageDays, "not-a-file")
  if (ageDays === 0) return skipDated(dir, name, path, group, ageDays, "today")
  if (ageDays < 0) return skipDated(dir, name, path, group, ageDays, "future")
  if (ageDays > thresholds.maxAgeDays) return { _tag: "Delete", dir, name, path, group, ageDays, reason: "older-than-max-age" }
  if (file.kind === "temp") return { _tag: "Delete", dir, name, path, group, ageDays, reason: "stale-temp" }
  if (file.kind === "gzip") return skipDated(dir, name, path, group, ageDays, "already-compressed")
  if (thresholds.compressAgeDays <= 0) return skipDated(dir, name, path, group, ageDays, "within-max-age")
  if (ageDays <= thresholds.compressAgeDays) return skipDated(dir, name, path, group, ageDays, "within-compress-age")
  const gzipName = file.name + FileNaming.GZIP_SUFFIX
  const gzip = byName.get(gzipName)
  if (gzip === undefined) return { _tag: "Compress", dir, name, path, group, ageDays, reason: "older-than-compress-age" }
  if (gzip.type !== "File") return skipDated(dir, name, path, group, ageDays, "compressed-name-taken")
  return { _tag: "FinishCompression", dir, name, path, group, ageDays, gzip: join(gzipName), reason: "compressed-copy-exists" }
}

/**
 * Plans one sweep. Pure and total: the same listings (with their sizes and own thresholds),
 * thresholds and day give the same plan, whatever the order of the entries. Linear in the names apart from one sort (n log n).
 *
 * @example
 * ```ts
 * const { actions } = RetentionPlan.plan(listings, policy, new Date(yield* Clock.currentTimeMillis))
 * ```
 *
 * @since 0.1.0
 */
export const plan = (listings: ReadonlyArray<Listing>, thresholds: Thresholds, today: Date): Plan => {
  const day = FileNaming.default.periodOf(today)
  const actions: Array<Action> = []
  for (const listing of listings) {
    const { dir, entries, naming = FileNaming.default } = listing
    const own = listing.thresholds ?? thresholds
    const join = joiner(dir)
    const byName = new Map<string, Entry>()
    for (const e of entries) byName.set(e.name, e)
    const classified: Array<Classified> = []
    const unprobed = new Set<string>()
    for (const entry of byName.values()) {
      const parsed = naming.parse(entry.name)
      const right = Either.isRight(parsed)
      const group = join(right ? parsed.right.original : entry.name)
      if (entry.type === "Unprobed") unprobed.add(group)
      classified.push({ entry, parsed, group, order: right ? KIND_ORDER[parsed.right.kind] : 3 })
    }
    classified.sort(compare)
    const cap = own.maxTotalBytes
    if (cap === undefined || cap === 0) {
      for (const c of classified) actions.push(planEntry(dir, join, c, byName, own, day, unprobed))
      continue
    }
    const mine = classified.map((c) => planEntry(dir, join, c, byName, own, day, unprobed))
    for (const a of SizeCap.apply(mine, (name) => {
      const e = byName.get(name)
      return e?.type === "File" ? e.size : undefined
    }, cap, (name) => byName.get(name)?.foreign === true)) actions.push(a)
  }
  return { today: FileNaming.formatDay(day), actions }
}

/**
 * Splits a plan into its groups (the actions on one daily file, in order), skips left out.
 *
 * @example
 * ```ts
 * RetentionPlan.groups(plan) // [[Delete(app-…ndjson.gz.tmp), Compress(app-…ndjson)], [Delete(app-…ndjson.gz)]]
 * ```
 *
 * @since 0.1.0
 */
export const groups = (plan: Plan): ReadonlyArray<ReadonlyArray<Exclude<Action, Skip>>> => {
  const byGroup = new Map<string, Array<Exclude<Action, Skip>>>()
  for (const action of plan.actions) {
    if (action._tag === "Skip") continue
    const group = byGroup.get(action.group)
    if (group) group.push(action)
    else byGroup.set(action.group, [action])
  }
  return [...byGroup.values()]
}

/**
 * How many actions of each kind a plan has.
 *
 * @example
 * ```ts
 * RetentionPlan.summary(plan) // { compress: 12, delete: 3, finish: 0, skip: 40 }
 * ```
 *
 * @since 0.1.0
 */
export const summary = (plan: Plan) => {
  const counts = { compress: 0, delete: 0, finish: 0, skip: 0 }
  for (const a of plan.actions) {
    if (a._tag === "Compress") counts.compress++
    else if (a._tag === "Delete") counts.delete++
    else if (a._tag === "FinishCompression") counts.finish++
    else counts.skip++
  }
  return counts
}
