/**
 * Rotation by renaming: `<name>` becomes `<name>.1`, `<name>.1` becomes `<name>.2`, …,
 * up to `<name>.<maxFiles>`; what would pass `maxFiles` is removed.
 *
 * Deciding is pure (`planShift`, a function of the directory listing and `maxFiles`);
 * executing is the `RenameShift` service. The plan also:
 * - closes gaps (only `.1` and `.3` present → they become `.2` and `.3`), so the backups
 *   are always `.1 … .n` with the newest in `.1`;
 * - removes backups left over from a larger earlier `maxFiles`;
 * - removes the destination of every rename first, because rename-over-existing is not
 *   portable (Plan #2268's cross-platform risk).
 * Each step is a rename or remove of a whole file, so a failure part-way leaves every
 * byte that was on disk in some file; the next rotation closes any gap it left.
 *
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
import { RotateError } from "./Errors.js"

export interface ShiftPlan {
  /** Backups to delete (base names), because they would pass `maxFiles`. */
  readonly remove: ReadonlyArray<string>
  /** Renames to do in this order (base names); the active file's rename is last. */
  readonly rename: ReadonlyArray<readonly [from: string, to: string]>
  /** `true` when `maxFiles` is 0: the active file is deleted instead of renamed. */
  readonly removeActive: boolean
}

/** The index of a backup of `name` (`app.jsonl.3` → 3), or undefined for any other entry. */
export const backupIndex = (name: string, entry: string): number | undefined => {
  if (!entry.startsWith(name + ".")) return undefined
  const suffix = entry.slice(name.length + 1)
  return /^[1-9]\d{0,8}$/.test(suffix) ? Number(suffix) : undefined
}

/**
 * Plans one rotation of `name` given the entries of its directory. Pure.
 * The rename order never renames onto a file that is still to be moved.
 */
export const planShift = (name: string, entries: ReadonlyArray<string>, maxFiles: number): ShiftPlan => {
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

export interface ShiftResult {
  readonly removed: ReadonlyArray<string>
  /**
   * The size of each `removed` path just before its removal (same order): measured (one `stat`
   * each) only with `ShiftOptions.measureRemoved`, otherwise undefined.
   */
  readonly removedBytes: ReadonlyArray<number | undefined>
  readonly renamed: ReadonlyArray<readonly [from: string, to: string]>
}

export interface ShiftOptions {
  /** Stat each file before removing it, for `ShiftResult.removedBytes` (what `LogEvents` reports). Default false. */
  readonly measureRemoved?: boolean
}

export class RenameShift extends Context.Tag("effect-logrotate/RenameShift")<RenameShift, {
  /** Rotates `path` (which must exist) into `path.1`, keeping at most `maxFiles` backups. */
  readonly shift: (path: string, maxFiles: number, options?: ShiftOptions) => Effect.Effect<ShiftResult, RotateError>
}>() {}

/** `RenameShift` over whatever `FileSystem` is provided (Node or in-memory). */
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
      const plan = planShift(Path.basename(path), entries, maxFiles)
      const removedBytes: Array<number | undefined> = []
      const measure = options?.measureRemoved === true
      for (const name of plan.remove) {
        removedBytes.push(yield* sizeOf(at(name), measure))
        yield* fs.remove(at(name), { force: true }).pipe(fail("remove", at(name)))
      }
      for (const [from, to] of plan.rename) {
        yield* fs.remove(at(to), { force: true }).pipe(fail("remove", at(to)))
        yield* fs.rename(at(from), at(to)).pipe(fail("rename", at(from)))
      }
      if (plan.removeActive) {
        removedBytes.push(yield* sizeOf(path, measure))
        yield* fs.remove(path).pipe(fail("remove", path))
      }
      return {
        removed: [...plan.remove, ...(plan.removeActive ? [Path.basename(path)] : [])].map(at),
        removedBytes,
        renamed: plan.rename.map(([from, to]) => [at(from), at(to)] as const)
      }
    })
  return RenameShift.of({ shift })
})

/** `Layer<RenameShift, never, FileSystem>`. */
export const layer: Layer.Layer<RenameShift, never, FileSystem.FileSystem> = Layer.effect(RenameShift, make)
