/**
 * Gzip of a `RotatingAppender`'s numbered backups (a policy with `compress`), off the write
 * path: `<name>.2` … become `<name>.2.gz` …, the newest backup `<name>.1` stays plain (as
 * logrotate's `delaycompress`: a reader, or a writer still holding the file open, may want it).
 *
 * - What to do is a pure plan (`planCompression`) of the directory listing.
 * - A *round* runs it in a background fiber: it removes leftover `.N.gz.tmp` files, finishes
 *   a backup found in both forms (`Compressor.finishCompression`: the plain one is removed
 *   only when the `.gz` decompresses to its bytes), and gzips every plain backup from `.2` up,
 *   lowest index first, each through `Compressor.gzipFile` (temp + fsync + link publish; at
 *   every instant the plain file, a complete `.gz`, or both). It lists the directory again
 *   after each file, and gives up on a file for the round after one failure (a warning).
 * - A rotation calls `pause` before shifting and `resume` after it: `pause` interrupts the
 *   round (the `Compressor` then removes its temp and keeps the plain file; only its short
 *   publish step, link to unlink, is waited for) and `resume` starts a new round on the
 *   shifted names. The shift never meets a compression in progress, and a write never waits
 *   for gzip. If rotations come faster than one backup can be gzipped, each restarts it: the
 *   backups stay plain (still counted by `maxFiles`, never lost) until writing slows down.
 * - `finish` (at close) waits for the round in progress to end: the backups due are
 *   compressed before the appender's scope is closed. After a crash or kill, what was due is
 *   a plain backup (and maybe a `.gz.tmp`, or a `.gz` next to its original), and the next
 *   open's round completes it.
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Scope from "effect/Scope"
import * as Path from "node:path"
import type * as Compressor from "../../retention/Compressor.js"
import { parseBackup } from "../RenameShift.js"

/** What a round does next, from a listing of the backups' directory. */
export interface CompressionPlan {
  /** Leftover compression temps (`<name>.<N>.gz.tmp`): nothing compresses while a plan is made. */
  readonly removeTemp: ReadonlyArray<string>
  /** Plain backups whose `.gz` exists too: compare, then remove the plain one. Lowest index first. */
  readonly finish: ReadonlyArray<string>
  /** Plain backups from `.2` up to gzip, lowest index first. */
  readonly compress: ReadonlyArray<string>
}

/** Plans the compression of `name`'s backups given the entries of its directory. Pure. */
export const planCompression = (name: string, entries: ReadonlyArray<string>): CompressionPlan => {
  const removeTemp: Array<string> = []
  const plain = new Set<number>()
  const gzip = new Set<number>()
  for (const entry of entries) {
    const backup = parseBackup(name, entry)
    if (backup === undefined) continue
    if (backup.form === "temp") removeTemp.push(entry)
    else (backup.form === "plain" ? plain : gzip).add(backup.index)
  }
  const due = [...plain].filter((index) => index >= 2).sort((a, b) => a - b)
  return {
    removeTemp: removeTemp.sort(),
    finish: due.filter((index) => gzip.has(index)).map((index) => `${name}.${index}`),
    compress: due.filter((index) => !gzip.has(index)).map((index) => `${name}.${index}`)
  }
}

export interface BackupCompression {
  /** Stops the round in progress, if any; waits only for its publish step. */
  readonly pause: Effect.Effect<void>
  /** Starts a round in the background (after a `pause`, or at open). */
  readonly resume: Effect.Effect<void>
  /** Waits for the round in progress to end (at close). */
  readonly finish: Effect.Effect<void>
}

/**
 * The rounds for the backups of `path`. `onCompressed` runs after each backup compressed
 * (the place a `Compressed` event is published). Rounds run in a scope of their own, closed
 * with the caller's scope after `finish`.
 */
export const make = (
  path: string,
  compressor: Compressor.Service,
  onCompressed: (compressed: Compressor.Compressed) => Effect.Effect<void>
): Effect.Effect<BackupCompression, never, FileSystem.FileSystem | Scope.Scope> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const dir = Path.dirname(path)
    const name = Path.basename(path)
    const at = (entry: string) => Path.join(dir, entry)
    const warn = (message: string, target: string, error: { readonly message: string }) =>
      Effect.logWarning(message).pipe(Effect.annotateLogs({ path: target, error: error.message }))

    const round: Effect.Effect<void> = Effect.gen(function* () {
      const gaveUp = new Set<string>()
      while (true) {
        const entries = yield* Effect.either(fs.readDirectory(dir))
        if (entries._tag === "Left") return yield* warn("listing the backups to compress failed", dir, entries.left)
        const plan = planCompression(name, entries.right)
        for (const temp of plan.removeTemp) {
          yield* fs.remove(at(temp), { force: true }).pipe(
            Effect.catchAll((error) => warn("could not remove a compression's leftover temp", at(temp), error))
          )
        }
        const finish = plan.finish.find((entry) => !gaveUp.has(entry))
        const next = finish ?? plan.compress.find((entry) => !gaveUp.has(entry))
        if (next === undefined) return
        const done = yield* Effect.either(finish !== undefined
          ? compressor.finishCompression(at(next))
          : compressor.gzipFile(at(next)))
        if (done._tag === "Left") {
          gaveUp.add(next)
          yield* warn("compressing a backup failed; it stays plain until the next rotation or open", at(next), done.left)
        } else {
          yield* onCompressed(done.right)
        }
      }
    })

    const rounds = yield* Scope.make()
    let current: Fiber.RuntimeFiber<void> | undefined

    // Interruptible even when started from an uninterruptible region (a rotation inside a write):
    // a fork inherits it, and `pause` must be able to stop the round.
    const resume = Effect.suspend(() =>
      Effect.map(Effect.forkIn(Effect.interruptible(round), rounds), (fiber) => void (current = fiber)))

    const pause = Effect.suspend(() => {
      const fiber = current
      current = undefined
      return fiber === undefined ? Effect.void : Fiber.interrupt(fiber).pipe(Effect.asVoid)
    })

    const finish = Effect.suspend(() => (current === undefined ? Effect.void : Fiber.await(current).pipe(Effect.asVoid)))

    yield* Effect.addFinalizer(() => Scope.close(rounds, Exit.void))
    return { pause, resume, finish }
  })
