/**
 * A cross-process exclusive lock file over `@effect/platform`'s `FileSystem` (so it works on
 * `NodeFileSystem` and on `MemoryFileSystem`).
 *
 * Contract:
 * - `acquire(lockPath, purpose)` creates `lockPath` with flag `"wx"` (mode 0o644), writes the
 *   holder (`{ pid, hostname, acquiredAt, purpose, instance, bootId?, startTime? }` as JSON;
 *   the last two where /proc is readable) and syncs it. It succeeds for
 *   exactly one caller at a time; the others fail with `LockHeld` naming the path and the
 *   holder. The lock is released when the scope closes: the file is removed, but only if it
 *   still holds our holder (a lock someone else took over is left alone).
 * - Within one process a registry (keyed by `FileSystem` instance and path, shared through
 *   `globalThis`) refuses a second acquire before touching the disk, and records the identity
 *   (device, inode) of every lock file this process holds: a lock reached through another
 *   path (a symlinked alias of its directory) or another `FileSystem` view is still ours.
 * - A lock file is **stale**, and recovered, when:
 *   - its holder is on this host and was written during another boot (`bootId`, from
 *     `/proc/sys/kernel/random/boot_id`, differs);
 *   - its holder is on this host and its pid is not alive (`process.kill(pid, 0)` → ESRCH);
 *   - its pid is alive but started at another time than the writer (`startTime`, field 22 of
 *     `/proc/<pid>/stat`): the pid was reused;
 *   - its pid is our own pid but this process does not hold that very file (by device and
 *     inode; a container restarted and reused pid 1);
 *   - it is empty or not valid JSON and older than `UNREADABLE_GRACE_MS` (a crash between
 *     the create and the write).
 *   A holder on another host is never judged stale: remove its file by hand.
 * - Recovery never lets two recoverers both win: it runs under a second lock,
 *   `<lockPath>.break` (taken the same way; a `.break` left by a crash during recovery is
 *   stale at once when its pid is dead on this host, otherwise when it is stale by the rules
 *   above AND older than `BREAK_STALE_MS`). Holding `.break`, the recoverer reads the lock file
 *   again and removes it only if it is still the very file it judged (same contents, device
 *   and inode): the judgement may be older than another recoverer's whole recovery, and the
 *   lock now a live holder's. Then it retries the `"wx"` create (and judges again).
 * - Nothing judged stale is removed by name (between the read and the remove, another
 *   recoverer may have replaced it): it is renamed aside to `<name>.<process id>-<n>.stale`,
 *   the renamed file is checked to be exactly what was judged, and only then removed;
 *   otherwise it is linked back and the acquire fails with `LockHeld`. While a wrong file is
 *   aside its name is free, and a third acquirer could take it (then the put-back fails and
 *   two would hold it): hence the re-read under `.break`, after which nobody but the dead
 *   holder could replace the lock file before the rename. A stale `.break` itself has no
 *   guard above it: two recoverers that both judge one stale `.break` are best effort.
 *
 * - A lock file is read without following a link, without blocking and at most
 *   `MAX_LOCK_BYTES` of it: anything at a lock path (or its `.break`) that is not a regular
 *   file of at most that size (a symbolic link, FIFO, socket, device, directory, a longer file)
 *   is not a lock this module wrote: `acquire` fails with a `LockError` naming the path and
 *   what was found, and leaves it there (never followed, renamed or removed). With a `SafeFs`
 *   (`Options.safe`, or in context) the read is `O_NOFOLLOW|O_NONBLOCK` and `fstat`; on
 *   `FileSystem` alone, a `readLink`/`stat` probe comes before the open, the open file must be
 *   the probed inode, and the read is bounded by `READ_TIMEOUT_MS` (a FIFO swapped in after
 *   the probe blocks `open(2)` in a libuv thread until a writer comes: the read fails, the
 *   thread stays).
 * - Logs name a holder by its parsed pid, host and purpose (`describeHolder`), never by the
 *   file's contents.
 *
 * What a crash leaves: the lock file (and, if the crash hit a recovery, a `.break` file,
 * or a `<name>.<id>.stale` file renamed aside). The next `acquire` on the same host heals all
 * three: the lock as above, and once it holds the lock, a stale `.break` and the `.stale` files
 * of dead processes (`healLeftovers`).
 *
 * Not supported: holders on several hosts sharing the directory (NFS and other network file
 * systems: `O_EXCL` and pid liveness are not reliable there). Without /proc (no boot id, no
 * start times) a pid reused by another, unrelated live process after a crash keeps the lock
 * held until that process exits or the file is removed by hand (`LockHeld` names the file).
 * @internal
 */
import * as FileSystem from "@effect/platform/FileSystem"
import { type PlatformError, SystemError } from "@effect/platform/Error"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as NodeFs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { LockError, LockHeld, type LockHolder } from "../../Errors.js"
import * as SafeFs from "../SafeFs.js"

export type Holder = LockHolder

/** An empty or unparseable lock file younger than this is being created by someone: held. */
export const UNREADABLE_GRACE_MS = 5_000

/**
 * A `.break` file younger than this is held unless its writer is certainly gone (a dead pid on
 * this host): an unreadable one, or one whose live pid has another start time, waits this long.
 */
export const BREAK_STALE_MS = 30_000

export interface Options {
  /** Whether a pid on this host is alive. Default: `process.kill(pid, 0)` does not throw ESRCH. */
  readonly isAlive?: (pid: number) => boolean
  /**
   * Read lock files through `SafeFs` (`O_NOFOLLOW|O_NONBLOCK`, `fstat`): the Sweeper passes
   * its own. Without it, `FileSystem` is used with a `readLink`/`stat` probe before the open
   * and a `READ_TIMEOUT_MS` bound on the read (see `read`).
   */
  readonly safe?: SafeFs.Service | undefined
}

/** `process.kill(pid, 0)`: ESRCH means gone; EPERM (another user's process) means alive. */
export const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== "ESRCH"
  }
}

/** `/proc/<pid>/stat` field 22 (start time in clock ticks since boot); `undefined` without /proc. */
export const startTimeOf = (pid: number): string | undefined => {
  try {
    const stat = NodeFs.readFileSync(`/proc/${pid}/stat`, "latin1")
    // Field 2 (the command) is in parentheses and may hold spaces: count from after it.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    return fields[22 - 3]
  } catch {
    return undefined
  }
}

/** This boot's id (`/proc/sys/kernel/random/boot_id`); `undefined` where it is not readable. */
const readBootId = (): string | undefined => {
  try {
    return NodeFs.readFileSync("/proc/sys/kernel/random/boot_id", "latin1").trim() || undefined
  } catch {
    return undefined
  }
}

let self: { readonly bootId: string | undefined; readonly startTime: string | undefined } | undefined

/** This boot's id and this process's start time, as written into its lock files (read once). */
export const selfIdentity = () => (self ??= { bootId: readBootId(), startTime: startTimeOf(process.pid) })

/** What was read from a lock file. */
export interface Observed {
  /** The exact contents, compared before removing anything. */
  readonly raw: string
  /** The parsed holder; `undefined` when the file is empty or not a holder. */
  readonly holder: Holder | undefined
  /** The random id of the process that wrote it (see `processId`), when present. */
  readonly instance: string | undefined
  /** The boot id of the host when it was written, when present. */
  readonly bootId?: string | undefined
  /** The writer's process start time (`/proc/<pid>/stat` field 22), when present. */
  readonly startTime?: string | undefined
  /** Modification time, when the file could be stat'ed. */
  readonly mtimeMs: number | undefined
  /** The file's identity, `"<dev>:<ino>"`, when the file could be stat'ed. */
  readonly identity?: string | undefined
}

/** What `isStale` needs to know about here and now. */
export interface Judge {
  readonly hostname: string
  readonly pid: number
  readonly now: number
  readonly isAlive: (pid: number) => boolean
  /** This boot's id; `undefined` when unknown (no /proc). */
  readonly bootId?: string | undefined
  /** The start time of a live pid here; `undefined` when unknown. */
  readonly startTimeOf?: (pid: number) => string | undefined
  /**
   * The observed lock file (its device and inode, whatever path or `FileSystem` view reached
   * it) is one this process created and still holds. Paths are not compared: a symlinked
   * alias of the directory names the same file under another path.
   */
  readonly heldInProcess: boolean
  readonly processId: string
}

/** Whether a lock file may be removed as abandoned. Pure. */
export const isStale = (observed: Observed, judge: Judge): boolean => {
  const holder = observed.holder
  if (holder === undefined) {
    return observed.mtimeMs !== undefined && judge.now - observed.mtimeMs > UNREADABLE_GRACE_MS
  }
  if (holder.hostname !== judge.hostname) return false
  // Written before the last boot (or container start with a fresh boot id): no holder survived.
  if (observed.bootId !== undefined && judge.bootId !== undefined && observed.bootId !== judge.bootId) return true
  if (holder.pid === judge.pid) {
    // Ours only if written by this process (our random process id) and the very file is one
    // this process holds; otherwise an earlier process with the same pid left it (containers
    // reuse pid 1), or this process failed to remove it.
    return !(observed.instance === judge.processId && judge.heldInProcess)
  }
  if (!judge.isAlive(holder.pid)) return true
  // The pid is alive, but is it the writer? A process started at another time reuses the pid.
  const now = observed.startTime === undefined ? undefined : judge.startTimeOf?.(holder.pid)
  return now !== undefined && now !== observed.startTime
}

/**
 * Whether a `.break` file may be removed: stale as a lock, and either its writer is certainly
 * gone (another process of this host whose pid is dead, or a holder from another boot: a crash
 * during a recovery, healed at once so the directory is not blocked for `BREAK_STALE_MS`) or it
 * is older than `BREAK_STALE_MS` (an unreadable `.break`, or a live pid with another start
 * time). Pure.
 */
export const isStaleBreak = (observed: Observed, judge: Judge): boolean => {
  if (!isStale(observed, judge)) return false
  const holder = observed.holder
  const gone = holder !== undefined && holder.hostname === judge.hostname && holder.pid !== judge.pid &&
    (!judge.isAlive(holder.pid) ||
      (observed.bootId !== undefined && judge.bootId !== undefined && observed.bootId !== judge.bootId))
  return gone || (observed.mtimeMs !== undefined && judge.now - observed.mtimeMs > BREAK_STALE_MS)
}

/** The process id in a renamed-aside name `<lock>.<pid>-<…>-<n>.stale` (see `removeIfSame`). Pure. */
export const asidePid = (lockName: string, name: string): number | undefined => {
  // Called for every name of the directory (a sweep's directory may hold 100,000): the cheap
  // rejections first, the prefixes built only for a name that could match.
  if (!name.endsWith(".stale") || !name.startsWith(lockName)) return undefined
  for (const prefix of [`${lockName}.`, `${lockName}.break.`]) {
    if (!name.startsWith(prefix) || !name.endsWith(".stale")) continue
    const match = /^(\d+)-/.exec(name.slice(prefix.length))
    if (match !== null) return Number(match[1])
  }
  return undefined
}

/** Parses lock file contents; `undefined` holder for anything that is not one. Pure. */
export const parse = (raw: string): Pick<Observed, "holder" | "instance" | "bootId" | "startTime"> => {
  try {
    const value: unknown = JSON.parse(raw)
    if (typeof value !== "object" || value === null) return { holder: undefined, instance: undefined }
    const v = value as Record<string, unknown>
    if (
      typeof v.pid !== "number" || !Number.isInteger(v.pid) || v.pid <= 0 || typeof v.hostname !== "string" ||
      typeof v.acquiredAt !== "string" || typeof v.purpose !== "string"
    ) return { holder: undefined, instance: undefined }
    return {
      holder: { pid: v.pid, hostname: v.hostname, acquiredAt: v.acquiredAt, purpose: v.purpose },
      instance: typeof v.instance === "string" ? v.instance : undefined,
      bootId: typeof v.bootId === "string" ? v.bootId : undefined,
      startTime: typeof v.startTime === "string" ? v.startTime : undefined
    }
  } catch {
    return { holder: undefined, instance: undefined }
  }
}

interface Registry {
  /** Locks held (or being taken) per FileSystem instance: path → holder. */
  readonly byFs: WeakMap<object, Map<string, Holder>>
  /**
   * Identities (`"<dev>:<ino>"`) of the lock files this process created and holds, with how
   * many holds each has (an inode number may be reused after a release).
   */
  readonly files: Map<string, number>
  /** A random id of this process, written into its lock files. */
  readonly processId: string
}

const registryKey = Symbol.for("effect-logrotate/LockFile/registry/v2")
const registry: Registry = ((globalThis as Record<symbol, unknown>)[registryKey] ??= {
  byFs: new WeakMap(),
  files: new Map(),
  processId: `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`
}) as Registry

/**
 * Per-view registry keys are absolute paths, whatever form the caller used. An alias (a
 * symlinked directory) gets past this first check; the `"wx"` create then finds the file and
 * the identity check in `isStale` keeps it held.
 */
const key = (path: string) => Path.resolve(path)

const heldOn = (fs: object) => {
  let held = registry.byFs.get(fs)
  if (held === undefined) registry.byFs.set(fs, held = new Map())
  return held
}

const holderHere = (fs: object, path: string) => heldOn(fs).get(key(path))

const register = (fs: object, path: string, holder: Holder) => {
  heldOn(fs).set(key(path), holder)
}

const unregister = (fs: object, path: string) => {
  heldOn(fs).delete(key(path))
}

const holdFile = (identity: string) => {
  registry.files.set(identity, (registry.files.get(identity) ?? 0) + 1)
}

const releaseFile = (identity: string | undefined) => {
  if (identity === undefined) return
  const n = (registry.files.get(identity) ?? 1) - 1
  if (n <= 0) registry.files.delete(identity)
  else registry.files.set(identity, n)
}

const identityOf = (info: FileSystem.File.Info): string | undefined =>
  info.ino._tag === "Some" ? `${info.dev}:${info.ino.value}` : undefined

const lockError = (path: string, operation: LockError["operation"]) => (cause: PlatformError) =>
  new LockError({ path, operation, cause })

const isReason = (reason: string) => (error: PlatformError) => error._tag === "SystemError" && error.reason === reason

/** Created: the file's identity, held in the registry (release it with `releaseFile`). */
interface Created {
  readonly identity: string | undefined
}

/**
 * Creates `path` exclusively with `raw` in it; `undefined` when it already exists. The new
 * file's identity is registered as held before anything is written to it, so a reader of
 * this process that sees our contents always finds the file held.
 */
const create = (fs: FileSystem.FileSystem, path: string, raw: string): Effect.Effect<Created | undefined, LockError> =>
  Effect.scoped(Effect.gen(function* () {
    const opened = yield* fs.open(path, { flag: "wx", mode: 0o644 }).pipe(
      Effect.map((file) => file as FileSystem.File | undefined),
      Effect.catchIf(isReason("AlreadyExists"), () => Effect.succeed(undefined)),
      Effect.mapError(lockError(path, "create"))
    )
    if (opened === undefined) return undefined
    let identity: string | undefined
    yield* opened.stat.pipe(
      Effect.tap((info) => Effect.sync(() => { identity = identityOf(info); if (identity !== undefined) holdFile(identity) })),
      Effect.zipRight(opened.writeAll(new TextEncoder().encode(raw))),
      Effect.zipRight(opened.sync),
      Effect.mapError(lockError(path, "write")),
      // Leave no half-written lock behind when we can help it.
      Effect.tapError(() => Effect.ignore(fs.remove(path)).pipe(Effect.zipRight(Effect.sync(() => releaseFile(identity)))))
    )
    return { identity }
  }))

/** The most a lock file of ours holds; a longer file is not one of ours and is not read past this. */
export const MAX_LOCK_BYTES = 4096

/** How long reading a lock file may take before it fails (a FIFO swapped in after the probe). */
export const READ_TIMEOUT_MS = 5_000

/** A `LockError` for something at the lock path that is not a lock file we wrote. */
export const notALock = (path: string, what: string) =>
  new LockError({
    path,
    operation: "read",
    cause: new SystemError({
      module: "FileSystem",
      method: "LockFile.read",
      reason: "BadResource",
      pathOrDescriptor: path,
      description: `${what}, not a lock file (a regular file of at most ${MAX_LOCK_BYTES} bytes); ` +
        "effect-logrotate never follows, reads or removes it: remove it by hand"
    })
  })

const kindOf = (type: string): string => {
  switch (type) {
    case "SymbolicLink":
      return "is a symbolic link"
    case "Directory":
      return "is a directory"
    case "FIFO":
      return "is a FIFO (named pipe)"
    case "Socket":
      return "is a socket"
    case "BlockDevice":
    case "CharacterDevice":
      return "is a device"
    default:
      return "is not a regular file"
  }
}

const tooLong = (path: string) => notALock(path, `is longer than ${MAX_LOCK_BYTES} bytes`)

/** Reads at most `MAX_LOCK_BYTES + 1` bytes with `readInto`; fails when there are more than the cap. */
const readCapped = (path: string, readInto: (buffer: Uint8Array) => Effect.Effect<number, PlatformError>) =>
  Effect.gen(function* () {
    const buffer = new Uint8Array(MAX_LOCK_BYTES + 1)
    let filled = 0
    while (filled < buffer.length) {
      const n = yield* readInto(buffer.subarray(filled)).pipe(Effect.mapError(lockError(path, "read")))
      if (n === 0) break
      filled += n
    }
    if (filled > MAX_LOCK_BYTES) return yield* tooLong(path)
    return new TextDecoder().decode(buffer.subarray(0, filled))
  })

interface Read {
  readonly raw: string
  readonly mtimeMs: number | undefined
  readonly identity: string | undefined
}

/**
 * Through `SafeFs` (when the caller has it): `O_NOFOLLOW|O_NONBLOCK`, then `fstat` of the open
 * file. Never follows a link, never blocks on a FIFO, and what is read is what was checked.
 */
const readSafe = (safe: SafeFs.Service, path: string): Effect.Effect<Read | undefined, LockError> =>
  Effect.scoped(Effect.gen(function* () {
    const file = yield* safe.openRead(path).pipe(
      Effect.map((f) => f as SafeFs.Handle | undefined),
      Effect.catchIf(isReason("NotFound"), () => Effect.succeed(undefined)),
      Effect.catchIf(
        (e) => e._tag === "SystemError" && e.reason === "BadResource" && e.description === "ELOOP",
        () => Effect.fail(notALock(path, kindOf("SymbolicLink")))
      ),
      Effect.catchIf(
        (e) => e._tag === "SystemError" && e.reason === "BadResource" && e.description === "EISDIR",
        () => Effect.fail(notALock(path, kindOf("Directory")))
      ),
      Effect.mapError((e) => e instanceof LockError ? e : lockError(path, "read")(e))
    )
    if (file === undefined) return undefined
    const info = yield* file.stat.pipe(Effect.mapError(lockError(path, "read")))
    if (info.type !== "File") return yield* notALock(path, info.type === "Other" ? "is not a regular file (a FIFO, socket or device)" : kindOf(info.type))
    if (info.size > MAX_LOCK_BYTES) return yield* tooLong(path)
    const raw = yield* readCapped(path, file.read)
    return { raw, mtimeMs: info.mtimeMs, identity: `${info.dev}:${info.ino}` }
  }))

/**
 * Through `FileSystem` (no `O_NOFOLLOW`, no `O_NONBLOCK`): `readLink` succeeds only on a link
 * (refused), `stat` must say a regular file of at most the cap, and only then is it opened and
 * its handle `fstat`ed (same device and inode, else it changed: read again). A swap for a FIFO
 * between the `stat` and the open would block the open: the whole read is bounded by
 * `READ_TIMEOUT_MS` (a `LockError`).
 */
const readPlain = (fs: FileSystem.FileSystem, path: string): Effect.Effect<Read | undefined, LockError> =>
  Effect.gen(function* () {
    const link = yield* fs.readLink(path).pipe(
      Effect.map(() => "link" as const),
      Effect.catchIf(isReason("NotFound"), () => Effect.succeed("gone" as const)),
      Effect.orElseSucceed(() => "not a link" as const)
    )
    if (link === "gone") return undefined
    if (link === "link") return yield* notALock(path, kindOf("SymbolicLink"))
    const probe = yield* fs.stat(path).pipe(
      Effect.map((i) => i as FileSystem.File.Info | undefined),
      Effect.catchIf(isReason("NotFound"), () => Effect.succeed(undefined)),
      Effect.mapError(lockError(path, "read"))
    )
    if (probe === undefined) return undefined
    if (probe.type !== "File") return yield* notALock(path, kindOf(probe.type))
    if (Number(probe.size) > MAX_LOCK_BYTES) return yield* tooLong(path)
    return yield* Effect.scoped(Effect.gen(function* () {
      const file = yield* fs.open(path, { flag: "r" }).pipe(
        Effect.map((f) => f as FileSystem.File | undefined),
        Effect.catchIf(isReason("NotFound"), () => Effect.succeed(undefined)),
        Effect.mapError(lockError(path, "read"))
      )
      if (file === undefined) return undefined
      const info = yield* file.stat.pipe(Effect.mapError(lockError(path, "read")))
      // Swapped between the probe and the open: not what was checked; the caller reads again.
      if (info.type !== "File" || identityOf(info) !== identityOf(probe)) return undefined
      const raw = yield* readCapped(path, (buffer) => Effect.map(file.read(buffer), Number))
      return {
        raw,
        mtimeMs: info.mtime._tag === "Some" ? info.mtime.value.getTime() : undefined,
        identity: identityOf(info)
      } satisfies Read
    }))
  }).pipe(
    Effect.timeoutFail({
      duration: READ_TIMEOUT_MS,
      onTimeout: () => notALock(path, `could not be read within ${READ_TIMEOUT_MS / 1000} s (is it a FIFO?)`)
    })
  )

/**
 * Reads a lock file; `undefined` when it is gone (or changed while being read). Never follows
 * a link, never blocks, never reads more than `MAX_LOCK_BYTES`: anything at `path` that is not
 * a regular file of at most that size fails with a `LockError` saying what it is.
 * `contentsOnly`: the mtime and identity are not needed.
 */
const read = (
  fs: FileSystem.FileSystem,
  path: string,
  contentsOnly = false,
  safe?: SafeFs.Service
): Effect.Effect<Observed | undefined, LockError> =>
  Effect.gen(function* () {
    const found = yield* (safe === undefined ? readPlain(fs, path) : readSafe(safe, path))
    if (found === undefined) return undefined
    const parsed = parse(found.raw)
    if (contentsOnly) return { raw: found.raw, ...parsed, mtimeMs: undefined }
    return { raw: found.raw, ...parsed, mtimeMs: found.mtimeMs, identity: found.identity }
  })

/** What a log line may say about a holder: its parsed fields only, quoted and cut short. */
export const describeHolder = (observed: Observed): string => {
  const h = observed.holder
  if (h === undefined) return "unreadable (empty or not a holder)"
  const q = (s: string) => JSON.stringify(s.length > 64 ? s.slice(0, 64) + "…" : s)
  return `pid ${h.pid} on ${q(h.hostname)} for ${q(h.purpose)}`
}

let asideCounter = 0

/**
 * Whether what was read is the file that was judged: the same contents and, where both are
 * known, the same device and inode (two holders of this process may write identical contents
 * within one millisecond). Pure.
 */
export const sameFile = (
  current: Pick<Observed, "raw" | "identity">,
  raw: string,
  identity: string | undefined
): boolean => current.raw === raw && (identity === undefined || current.identity === undefined || current.identity === identity)

/**
 * Removes `path` if it holds exactly `raw` (and, when `identity` is given, is that very file),
 * without removing by name what someone else put there in between: the file is first renamed
 * aside to `<path>.<process id>-<n>.stale` (atomic; only one remover gets a given file), the
 * renamed file is read, and removed only if it is what was judged. Otherwise it is linked back
 * under `path` (a link never replaces a file that appeared at `path` meanwhile) and the remove
 * fails with `LockHeld` naming its holder. Gone already: done. What a crash leaves: a `.stale`
 * file, never a lock anyone checks.
 *
 * While a wrong file is aside, `path` is free and a third party may create it: the put-back
 * then fails and two parties believe they hold it. So a caller must only hand in a file nobody
 * else may remove meanwhile: `breakStale` re-reads the lock under `.break` first (`sameFile`).
 */
const removeIfSame = (
  fs: FileSystem.FileSystem,
  path: string,
  raw: string,
  safe?: SafeFs.Service,
  identity?: string
): Effect.Effect<void, LockHeld | LockError> =>
  Effect.gen(function* () {
    const aside = `${path}.${registry.processId}-${++asideCounter}.stale`
    const moved = yield* fs.rename(path, aside).pipe(
      Effect.as(true),
      Effect.catchIf(isReason("NotFound"), () => Effect.succeed(false)),
      Effect.mapError(lockError(path, "remove"))
    )
    if (!moved) return
    // Not removed (or not readable): put it back under its name (if still free), where the
    // next acquire judges and heals it, rather than leave a `.stale` file nobody looks at.
    const putBack = Effect.ignore(Effect.flatMap(fs.exists(path), (taken) => taken ? Effect.void : fs.rename(aside, path)))
    const removeAside = fs.remove(aside).pipe(
      Effect.catchIf(isReason("NotFound"), () => Effect.void),
      Effect.mapError(lockError(aside, "remove")),
      Effect.tapError(() => putBack)
    )
    const current = yield* read(fs, aside, identity === undefined, safe).pipe(Effect.tapError(() => putBack))
    if (current === undefined || sameFile(current, raw, identity)) return yield* removeAside
    // Not what was judged: someone took `path` in between. Put it back.
    yield* fs.link(aside, path).pipe(
      Effect.zipRight(removeAside),
      Effect.catchAll((error) =>
        Effect.logError("a lock file taken over meanwhile could not be put back; it is left aside").pipe(
          Effect.annotateLogs({ path, aside, error: error.message })
        )
      )
    )
    return yield* new LockHeld({ path, holder: current.holder })
  })

const judgeOf = (observed: Observed, isAliveFn: (pid: number) => boolean) =>
  Effect.map(Clock.currentTimeMillis, (now): Judge => ({
    hostname: Os.hostname(),
    pid: process.pid,
    now,
    isAlive: isAliveFn,
    bootId: selfIdentity().bootId,
    startTimeOf,
    heldInProcess: observed.identity !== undefined && registry.files.has(observed.identity),
    processId: registry.processId
  }))

const contentOf = (holder: Holder) =>
  JSON.stringify({ ...holder, instance: registry.processId, ...selfIdentity() }) + "\n"

const newHolder = (purpose: string) =>
  Effect.map(Clock.currentTimeMillis, (now): Holder => ({
    pid: process.pid,
    hostname: Os.hostname(),
    acquiredAt: new Date(now).toISOString(),
    purpose
  }))

/** Attempts before giving up on a lock that keeps changing hands. */
const MAX_ATTEMPTS = 8
/** Waits for a live `.break` holder (another recoverer: a few file operations). */
const BREAK_WAITS = 200

/**
 * Removes the stale lock file `path` (that held `observed.raw`) under `<path>.break`.
 * Fails with `LockHeld` on the `.break` file only if a live recoverer keeps it for ~1 s.
 */
const breakStale = (
  fs: FileSystem.FileSystem,
  path: string,
  observed: Observed,
  isAliveFn: (pid: number) => boolean,
  safe: SafeFs.Service | undefined
): Effect.Effect<void, LockHeld | LockError> =>
  Effect.gen(function* () {
    const breakPath = `${path}.break`
    const holder = yield* newHolder(`break ${Path.basename(path)}`)
    const raw = contentOf(holder)
    const busy = holderHere(fs, breakPath)
    if (busy !== undefined) return yield* new LockHeld({ path: breakPath, holder: busy })
    register(fs, breakPath, holder)
    const take = Effect.gen(function* () {
      for (let attempt = 0; ; attempt++) {
        const created = yield* create(fs, breakPath, raw)
        if (created !== undefined) return created
        const other = yield* read(fs, breakPath, false, safe)
        if (other === undefined && attempt < BREAK_WAITS) continue
        if (other === undefined) return yield* new LockHeld({ path: breakPath, holder: undefined })
        if (isStaleBreak(other, yield* judgeOf(other, isAliveFn))) {
          yield* removeIfSame(fs, breakPath, other.raw, safe)
          continue
        }
        if (attempt >= BREAK_WAITS) return yield* new LockHeld({ path: breakPath, holder: other.holder })
        yield* Effect.sleep("5 millis")
      }
    })
    const created = yield* take.pipe(Effect.onError(() => Effect.sync(() => unregister(fs, breakPath))))
    // The judgement was made before `.break` was ours, maybe long before (waiting for another
    // recoverer): meanwhile that recoverer may have removed the stale file and a new holder
    // taken the lock. Re-read it under `.break`: only the very file judged is moved aside. Under
    // `.break` nobody else removes a stale lock, so it is still that file at the rename, and a
    // live holder's lock is never moved aside (while aside, its path would be free for a third
    // acquirer). Gone or replaced: nothing to do here; `take` judges it again.
    const removeJudged = Effect.gen(function* () {
      const now = yield* read(fs, path, false, safe)
      if (now === undefined || !sameFile(now, observed.raw, observed.identity)) return
      yield* removeIfSame(fs, path, observed.raw, safe, observed.identity)
    })
    yield* removeJudged.pipe(
      Effect.ensuring(Effect.ignore(removeIfSame(fs, breakPath, raw, safe, created.identity)).pipe(Effect.zipRight(Effect.sync(() => {
        unregister(fs, breakPath)
        releaseFile(created.identity)
      }))))
    )
  })

/**
 * Once the lock is ours, removes what crashed recoveries left beside it: a `.break` that is
 * stale (`isStaleBreak`), and `<lock>.<pid>-….stale` files renamed aside by a process of this
 * host that is dead. Best effort: a failure here is logged, never fails the acquire.
 */
const healLeftovers = (
  fs: FileSystem.FileSystem,
  path: string,
  isAliveFn: (pid: number) => boolean,
  safe: SafeFs.Service | undefined
) =>
  Effect.gen(function* () {
    const breakPath = `${path}.break`
    const lockName = Path.basename(path)
    const names = yield* fs.readDirectory(Path.dirname(path))
    if (names.includes(`${lockName}.break`) && holderHere(fs, breakPath) === undefined) {
      const other = yield* read(fs, breakPath, false, safe)
      if (other !== undefined && isStaleBreak(other, yield* judgeOf(other, isAliveFn))) {
        yield* removeIfSame(fs, breakPath, other.raw, safe)
      }
    }
    for (const name of names) {
      const pid = asidePid(lockName, name)
      if (pid !== undefined && pid !== process.pid && !isAliveFn(pid)) {
        yield* fs.remove(Path.join(Path.dirname(path), name))
      }
    }
  }).pipe(Effect.catchAll((error) =>
    Effect.logDebug("could not clean up after an earlier crashed lock recovery").pipe(
      Effect.annotateLogs({ path, error: error.message })
    )))

const take = (
  fs: FileSystem.FileSystem,
  path: string,
  purpose: string,
  isAliveFn: (pid: number) => boolean,
  safe: SafeFs.Service | undefined
): Effect.Effect<readonly [Holder, Created], LockHeld | LockError> =>
  Effect.gen(function* () {
    const mine = holderHere(fs, path)
    if (mine !== undefined) return yield* new LockHeld({ path, holder: mine })
    const holder = yield* newHolder(purpose)
    const raw = contentOf(holder)
    // Registered before the create: another fiber of this process that reads our fresh file
    // must see it as held, not as left by an earlier process with our pid.
    register(fs, path, holder)
    return yield* Effect.gen(function* () {
      let last: Observed | undefined
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const created = yield* create(fs, path, raw)
        if (created !== undefined) {
          yield* healLeftovers(fs, path, isAliveFn, safe)
          return [holder, created] as const
        }
        const observed = yield* read(fs, path, false, safe)
        if (observed === undefined) continue
        last = observed
        if (!isStale(observed, yield* judgeOf(observed, isAliveFn))) {
          return yield* new LockHeld({ path, holder: observed.holder })
        }
        yield* Effect.logWarning("removing a stale lock file").pipe(
          Effect.annotateLogs({ path, holder: describeHolder(observed) })
        )
        yield* breakStale(fs, path, observed, isAliveFn, safe)
      }
      return yield* new LockHeld({ path, holder: last?.holder })
    }).pipe(Effect.onError(() => Effect.sync(() => unregister(fs, path))))
  })

const release = (
  fs: FileSystem.FileSystem,
  path: string,
  [holder, created]: readonly [Holder, Created],
  safe: SafeFs.Service | undefined
) =>
  removeIfSame(fs, path, contentOf(holder), safe, created.identity).pipe(
    Effect.catchAll((error) =>
      Effect.logWarning("could not remove a lock file; the next acquire treats it as stale").pipe(
        Effect.annotateLogs({ path, error: error.message })
      )
    ),
    Effect.ensuring(Effect.sync(() => {
      unregister(fs, path)
      releaseFile(created.identity)
    }))
  )

/**
 * Takes the lock file `lockPath` for `purpose`, released (the file removed) when the scope
 * closes. Fails with `LockHeld` when a live holder has it, `LockError` on an I/O failure.
 */
export const acquire = (
  lockPath: string,
  purpose: string,
  options?: Options
): Effect.Effect<Holder, LockHeld | LockError, Scope.Scope | FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const inContext = yield* Effect.serviceOption(SafeFs.SafeFs)
    const safe = options?.safe ?? (inContext._tag === "Some" ? inContext.value : undefined)
    const [holder] = yield* Effect.acquireRelease(
      take(fs, lockPath, purpose, options?.isAlive ?? isAlive, safe),
      (taken) => release(fs, lockPath, taken, safe)
    )
    return holder
  })
