/**
 * Rotation by renaming: `<name>` becomes `<name>.1`, `<name>.1` becomes `<name>.2`, …,
 * up to `<name>.<maxFiles>`; what would pass `maxFiles` is removed.
 *
 * Deciding is pure (`planShift`, a function of the directory listing and `maxFiles`);
 * executing is the `RenameShift` service. The plan also:
 * - closes gaps (only `.1` and `.3` present → they become `.2` and `.3`), so the backups
 *   are always `.1 … .n` with the newest in `.1`;
 * - removes backups left over from a larger earlier `maxFiles`;
 * - never renames onto a name the listing has: the plan removes or moves every destination
 *   first (rename-over-existing is not portable: Plan #2268's cross-platform risk). A file that
 *   appears at a destination after the listing is replaced by `rename` itself (atomic on POSIX),
 *   as the remove-then-rename of earlier versions would have deleted it;
 * - skips a directory found under a leftover backup's name (it is not a backup and not ours to
 *   delete), so it never blocks rotation; a directory at a rename's destination fails the
 *   rotation with a `RotateError` (`rename`; its cause names both paths) and nothing is lost: the
 *   active file keeps appending.
 * Each step is a rename or remove of a whole file, so a failure part-way leaves every
 * byte that was on disk in some file; the next rotation closes any gap it left.
 *
 * Gzipped backups (`shift(path, maxFiles, { compressed: true })`, what `RotatingAppender`
 * does under a policy with `compress`): a backup is then `<name>.<N>` or `<name>.<N>.gz`, and
 * moves in its own form (`.2.gz` → `.3.gz`; the active file always becomes a plain `.1`).
 * `maxFiles` counts backups whatever their form. Where both `.N` and `.N.gz` exist (a
 * compression stopped between publishing the `.gz` and removing the original) they are one
 * backup: the plain original is kept and the `.gz` removed (the compression is done again
 * later), so nothing is counted twice. A `<name>.<N>.gz.tmp` is an unfinished compression's
 * temp (the caller stops compressions before shifting) and is removed. Without `compressed`,
 * `.gz` and `.gz.tmp` names are other files, left alone, exactly as before.
 *
 * In context: `RenameShift.layer` needs a `FileSystem`. `RotatingAppender` calls it under its claim
 * on the file; called on its own, nothing else may shift the same file at the same time.
 *
 * @since 0.1.0
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RenameShift } from "effect-logrotate"
 *
 * const rotateNow = Effect.flatMap(RenameShift.RenameShift, (r) => r.shift("logs/app.jsonl", 5))
 * ```
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Path from "node:path"
import { RotateError } from "../Errors.js"

/** @since 0.1.0 */
export interface ShiftPlan {
  /** Backups to delete (base names), because they would pass `maxFiles`. */
  readonly remove: ReadonlyArray<string>
  /** Renames to do in this order (base names); the active file's rename is last. */
  readonly rename: ReadonlyArray<readonly [from: string, to: string]>
  /** `true` when `maxFiles` is 0: the active file is deleted instead of renamed. */
  readonly removeActive: boolean
}

/**
 * The index of a backup of `name` (`app.jsonl.3` → 3), or undefined for any other entry.
 *
 * @since 0.1.0
 */
export const backupIndex = (name: string, entry: string): number | undefined => {
  if (!entry.startsWith(name + ".")) return undefined
  const suffix = entry.slice(name.length + 1)
  return /^[1-9]\d{0,8}$/.test(suffix) ? Number(suffix) : undefined
}

/**
 * What a directory entry is to `name`'s backups; see `parseBackup`.
 *
 * @since 0.2.0
 */
export interface BackupEntry {
  /** `app.jsonl.3`, `app.jsonl.3.gz` and `app.jsonl.3.gz.tmp` are all index 3. */
  readonly index: number
  /** `"plain"`: `<name>.<N>`; `"gzip"`: `<name>.<N>.gz`; `"temp"`: `<name>.<N>.gz.tmp`, a compression's temp. */
  readonly form: "plain" | "gzip" | "temp"
}

/**
 * A backup of `name` in any form (`app.jsonl.3`, `app.jsonl.3.gz`, `app.jsonl.3.gz.tmp`), or
 * undefined for any other entry. Pure.
 *
 * @since 0.2.0
 */
export const parseBackup = (name: string, entry: string): BackupEntry | undefined => {
  if (!entry.startsWith(name + ".")) return undefined
  const match = /^([1-9]\d{0,8})(\.gz|\.gz\.tmp)?$/.exec(entry.slice(name.length + 1))
  if (match === null) return undefined
  return { index: Number(match[1]), form: match[2] === undefined ? "plain" : match[2] === ".gz" ? "gzip" : "temp" }
}

/**
 * Options of `planShift` and `RenameShift.shift`.
 *
 * @since 0.2.0
 */
export interface ShiftOptions {
  /**
   * Backups may be gzipped: `<name>.<N>.gz` counts, moves and is removed as a backup, and
   * `<name>.<N>.gz.tmp` is removed. Default false: only `<name>.<N>` is a backup.
   */
  readonly compressed?: boolean
  /** Stat each file before removing it, for `ShiftResult.removedBytes` (what `LogEvents` reports). Default false. */
  readonly measureRemoved?: boolean
}

/**
 * Plans one rotation of `name` given the entries of its directory. Pure.
 * The rename order never renames onto a file that is still to be moved.
 *
 * @since 0.1.0
 */
export const planShift = (
  name: string,
  entries: ReadonlyArray<string>,
  maxFiles: number,
  options?: ShiftOptions
): ShiftPlan => {
  if (options?.compressed === true) return planCompressedShift(name, entries, maxFiles)
  const indices = entries.flatMap((entry) => {
    const index = backupIndex(name, entry)
    return index === undefined ? [] : [index]
  }).sort((a, b) => a - b)
  const backup = (index: number) => `${name}.${index}`
  // The j-th oldest-but-kept backup (1-based, ascending index) becomes j+1.
  const keep = indices.slice(0, Math.max(0, maxFiles - 1))
  const remove = indices.slice(keep.length).map(backup)
  // keep[0..m) are exactly 1..m (contiguous prefix): they move up, highest first.
  // The rest have a gap below them and move down into place, lowest first.
  let prefix = 0
  while (prefix < keep.length && keep[prefix] === prefix + 1) prefix++
  const down = keep.slice(prefix).flatMap((index, k) => {
    const target = prefix + k + 2
    return index === target ? [] : [[backup(index), backup(target)] as const]
  })
  const up = keep.slice(0, prefix).reverse().map((index) => [backup(index), backup(index + 1)] as const)
  return maxFiles === 0
    ? { remove, rename: [], removeActive: true }
    : { remove, rename: [...down, ...up, [name, backup(1)] as const], removeActive: false }
}

/**
 * The rename order of `planShift` for the kept backup indices `keep` (ascending): `[from, to]`
 * index pairs, the active file's rename not included.
 */
const shiftOrder = (keep: ReadonlyArray<number>): ReadonlyArray<readonly [from: number, to: number]> => {
  let prefix = 0
  while (prefix < keep.length && keep[prefix] === prefix + 1) prefix++
  const down = keep.slice(prefix).flatMap((index, k) => {
    const target = prefix + k + 2
    return index === target ? [] : [[index, target] as const]
  })
  const up = keep.slice(0, prefix).reverse().map((index) => [index, index + 1] as const)
  return [...down, ...up]
}

/** `planShift` with `compressed`: a backup is `.N` or `.N.gz`, one per index. */
const planCompressedShift = (name: string, entries: ReadonlyArray<string>, maxFiles: number): ShiftPlan => {
  const temps: Array<string> = []
  const slots = new Map<number, { plain: boolean; gzip: boolean }>()
  for (const entry of entries) {
    const backup = parseBackup(name, entry)
    if (backup === undefined) continue
    if (backup.form === "temp") {
      temps.push(entry)
      continue
    }
    const slot = slots.get(backup.index) ?? { plain: false, gzip: false }
    slot[backup.form] = true
    slots.set(backup.index, slot)
  }
  const indices = [...slots.keys()].sort((a, b) => a - b)
  const plain = (index: number) => `${name}.${index}`
  const gzip = (index: number) => `${name}.${index}.gz`
  // Both forms of one index: one backup, the plain original (the .gz is made again later).
  const duplicates = indices.filter((index) => slots.get(index)!.plain && slots.get(index)!.gzip).map(gzip)
  const formOf = (index: number) => (slots.get(index)!.plain ? plain : gzip)
  const keep = indices.slice(0, Math.max(0, maxFiles - 1))
  const dropped = indices.slice(keep.length).flatMap((index) => {
    const slot = slots.get(index)!
    return [...(slot.plain ? [plain(index)] : []), ...(slot.gzip && !slot.plain ? [gzip(index)] : [])]
  })
  const remove = [...temps.sort(), ...duplicates, ...dropped]
  const rename = shiftOrder(keep).map(([from, to]) => [formOf(from)(from), formOf(from)(to)] as const)
  return maxFiles === 0
    ? { remove, rename: [], removeActive: true }
    : { remove, rename: [...rename, [name, plain(1)] as const], removeActive: false }
}

/** @since 0.1.0 */
export interface ShiftResult {
  readonly removed: ReadonlyArray<string>
  /**
   * The size of each `removed` path just before its removal (same order): measured (one `stat`
   * each) only with `ShiftOptions.measureRemoved`, otherwise undefined.
   *
   * @since 0.2.0
   */
  readonly removedBytes: ReadonlyArray<number | undefined>
  readonly renamed: ReadonlyArray<readonly [from: string, to: string]>
}

/** @since 0.1.0 */
export class RenameShift extends Context.Tag("effect-logrotate/RenameShift")<RenameShift, {
  /**
   * Rotates `path` (which must exist) into `path.1`, keeping at most `maxFiles` backups
   * (with `compressed`, gzipped ones count too; see the module comment).
   */
  readonly shift: (path: string, maxFiles: number, options?: ShiftOptions) => Effect.Effect<ShiftResult, RotateError>
}>() {}

/**
 * `RenameShift` over whatever `FileSystem` is provided (Node or in-memory).
 *
 * @since 0.1.0
 */
export const make = Effect.gen(function* () {
  const fs = yield* FileSystem.FileSystem
  const sizeOf = (path: string, measure: boolean) =>
    measure ? fs.stat(path).pipe(Effect.map((info) => Number(info.size)), Effect.orElseSucceed(() => undefined)) : Effect.succeed(undefined)
  const shift = (path: string, maxFiles: number, options?: ShiftOptions) =>
    Effect.gen(function* () {
      const dir = Path.dirname(path)
      const at = (name: string) => Path.join(dir, name)
      const fail = (operation: RotateError["operation"], target: string) =>
        Effect.mapError((cause: RotateError["cause"]) => new RotateError({ path, operation, target, cause }))
      const entries = yield* fs.readDirectory(dir).pipe(fail("readDirectory", dir))
      const plan = planShift(Path.basename(path), entries, maxFiles, options)
      const removedBytes: Array<number | undefined> = []
      const measure = options?.measureRemoved === true
      // The names the listing has, as the steps below move and remove them.
      const present = new Set(entries)
      const removed: Array<string> = []
      for (const name of plan.remove) {
        const bytes = yield* sizeOf(at(name), measure)
        // A directory under a backup's name is not a backup and not ours to delete: a failed
        // removal of one is skipped (looked up only then), or every later rotation would fail on it.
        const gone = yield* fs.remove(at(name), { force: true }).pipe(
          Effect.as(true),
          Effect.catchAll((cause) =>
            fs.stat(at(name)).pipe(
              Effect.flatMap((info) => info.type === "Directory" ? Effect.succeed(false) : Effect.fail(cause)),
              Effect.orElse(() => Effect.fail(cause))
            )),
          fail("remove", at(name))
        )
        if (!gone) continue
        removed.push(name)
        removedBytes.push(bytes)
        present.delete(name)
      }
      for (const [from, to] of plan.rename) {
        // A destination the listing has is removed first (rename-over-existing is not portable);
        // one it does not have (the usual case: the previous step moved it away) costs nothing.
        if (present.has(to)) yield* fs.remove(at(to), { force: true }).pipe(fail("remove", at(to)))
        yield* fs.rename(at(from), at(to)).pipe(fail("rename", at(from)))
        present.delete(from)
        present.add(to)
      }
      if (plan.removeActive) {
        removedBytes.push(yield* sizeOf(path, measure))
        yield* fs.remove(path).pipe(fail("remove", path))
      }
      return {
        removed: [...removed, ...(plan.removeActive ? [Path.basename(path)] : [])].map(at),
        removedBytes,
        renamed: plan.rename.map(([from, to]) => [at(from), at(to)] as const)
      }
    })
  return RenameShift.of({ shift })
})

/**
 * `Layer<RenameShift, never, FileSystem>`.
 *
 * @since 0.1.0
 */
export const layer: Layer.Layer<RenameShift, never, FileSystem.FileSystem> = Layer.effect(RenameShift, make)
