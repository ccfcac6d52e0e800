/**
 * Descriptor-level file operations that act on the file that was checked, for code that
 * works in directories other users can write (retention, often run as root).
 * `@effect/platform`'s `FileSystem` works by path and has none of them.
 *
 * - `openRead` never blocks (`O_NONBLOCK`: a FIFO opens at once, and `stat` tells it is not a
 *   regular file).
 * - `openRead` and `createExclusive` never follow a symbolic link (`O_NOFOLLOW`; a link fails
 *   with reason `"BadResource"` and description `ELOOP`), and `createExclusive` never opens an
 *   existing file (`O_CREAT|O_EXCL`: `"AlreadyExists"`).
 * - A `Handle`'s `stat`, `chmod`, `chown`, `utimes`, `sync`, `read` and `write` act on the open
 *   descriptor (`fstat`, `fchmod`, `fchown`, `futimes`, `fsync`), so swapping the name for
 *   something else after the open changes nothing they do.
 * - `link(from, to)` never replaces `to` (`"AlreadyExists"`); `lstat`, `unlink` never follow.
 * - `readDirectory` returns names as bytes, so a name that is not valid UTF-8 stays exact.
 * - `composite` (optional, `Composite`) makes a run of these calls as one step, for callers
 *   that make them for many files; `composite(service)` builds it from the single calls for a
 *   service without it. `layerNode` has its own (one synchronous system-call run per step).
 *
 * Every failure is a `SystemError` from `@effect/platform/Error` (module `"SafeFs"`) whose
 * `reason` is the one `NodeFileSystem` would give, with the method and path.
 *
 * Two implementations: `layerNode` (over `node:fs`) and `layerMemory` (over the
 * `MemoryFileSystem` in context, so tests see one file system through both services).
 *
 * @since 0.1.0
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { SafeFs } from "effect-logrotate"
 *
 * const program = Effect.gen(function* () {
 *   const safe = yield* SafeFs.SafeFs
 *   const file = yield* safe.openRead("/var/log/relay/app-2026-01-01.ndjson")
 *   const info = yield* file.stat // the file that is open, never what the name points to now
 * }).pipe(Effect.scoped, Effect.provide(SafeFs.layerNode))
 * ```
 */
import { type PlatformError, SystemError, type SystemErrorReason } from "@effect/platform/Error"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Scope from "effect/Scope"
import * as NodeFs from "node:fs"
import * as Path from "node:path"
import { MemoryFileSystem, type MemoryNode } from "./MemoryFileSystem.js"

/**
 * What `fstat`/`lstat` say about a file. Times in milliseconds since the epoch.
 *
 * @since 0.1.0
 */
export interface Stat {
  readonly type: "File" | "Directory" | "SymbolicLink" | "Other"
  readonly dev: number
  readonly ino: number
  /** Permission bits and type bits, as `st_mode`. */
  readonly mode: number
  readonly uid: number
  readonly gid: number
  readonly size: number
  readonly atimeMs: number
  readonly mtimeMs: number
}

/**
 * An open file. Every call acts on the descriptor, not on the name it was opened by.
 *
 * @since 0.1.0
 */
export interface Handle {
  readonly path: string
  readonly stat: Effect.Effect<Stat, PlatformError>
  /** Reads into `buffer` at the current position; 0 at the end. */
  readonly read: (buffer: Uint8Array) => Effect.Effect<number, PlatformError>
  /** Writes all of `buffer` at the current position. */
  readonly write: (buffer: Uint8Array) => Effect.Effect<void, PlatformError>
  readonly chmod: (mode: number) => Effect.Effect<void, PlatformError>
  readonly chown: (uid: number, gid: number) => Effect.Effect<void, PlatformError>
  readonly utimes: (atimeMs: number, mtimeMs: number) => Effect.Effect<void, PlatformError>
  readonly sync: Effect.Effect<void, PlatformError>
}

/** @since 0.1.0 */
export interface Service {
  /**
   * `O_RDONLY|O_NOFOLLOW|O_NONBLOCK`; closed with the scope. `O_NONBLOCK` changes nothing for a
   * regular file, and makes the open of a FIFO return at once instead of waiting for a writer
   * (so a FIFO swapped in for a file never hangs the caller; its `stat` says `"Other"`).
   */
  readonly openRead: (path: string) => Effect.Effect<Handle, PlatformError, Scope.Scope>
  /** `O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW` with `mode`; closed with the scope. */
  readonly createExclusive: (path: string, mode: number) => Effect.Effect<Handle, PlatformError, Scope.Scope>
  /** Hard-links `from` (not followed) as `to`; fails `"AlreadyExists"` rather than replace `to`. */
  readonly link: (from: string, to: string) => Effect.Effect<void, PlatformError>
  readonly lstat: (path: string) => Effect.Effect<Stat, PlatformError>
  /** Removes the name `path` (never a directory, never follows). */
  readonly unlink: (path: string) => Effect.Effect<void, PlatformError>
  /** Opens the directory and `fsync`s it, so links and unlinks in it are durable. */
  readonly syncDirectory: (path: string) => Effect.Effect<void, PlatformError>
  /** The names in `path`, as bytes, unsorted. */
  readonly readDirectory: (path: string) => Effect.Effect<ReadonlyArray<Uint8Array>, PlatformError>
  /**
   * Runs of the calls above as one step each (see `Composite`). Optional: `composite(service)`
   * builds them from the calls above, which is what a service without it gets (the in-memory
   * layer, and any wrapper that sees or fails each call). `layerNode` has its own: each run of
   * synchronous system calls in one effect.
   *
   * @since 0.2.0
   */
  readonly composite?: Composite
}

/**
 * A device and inode: which file a composite call may act on.
 *
 * @since 0.2.0
 */
export interface Identity {
  readonly dev: number
  readonly ino: number
}

/**
 * The call of `Service`/`Handle` a composite step failed in: `"open"` (`openRead`),
 * `"create"` (`createExclusive`), `"fstat"` (`Handle.stat`), `"read"`, `"write"`, `"fchown"`,
 * `"fchmod"`, `"futimes"`, `"link"`, `"lstat"`, `"unlink"`.
 *
 * @since 0.2.0
 */
export type Call = "open" | "create" | "fstat" | "read" | "write" | "fchown" | "fchmod" | "futimes" | "link" | "lstat" | "unlink"

/**
 * A composite step failed: `call` names the call, `error` is that call's own error, exactly
 * as the call alone would have failed. The calls before it were made; none after it.
 *
 * @since 0.2.0
 */
export class CallError extends Data.TaggedError("SafeFsCallError")<{
  readonly call: Call
  readonly error: PlatformError
}> {
  override get message() {
    return `${this.call}: ${this.error.message}`
  }
}

/**
 * What `openReadWhole` found: the open file, its `fstat`, and its bytes when it was read.
 *
 * @since 0.2.0
 */
export interface OpenedWhole {
  readonly handle: Handle
  readonly stat: Stat
  /**
   * The bytes read (fewer than `stat.size` if the file shrank meanwhile), when the file is a
   * regular file of at most `maxBytes`, with the identity `expect` (if given); otherwise
   * `undefined` and nothing was read.
   */
  readonly data: Uint8Array | undefined
}

/**
 * Runs of `Service` and `Handle` calls made as one step, for callers that make them for many
 * files (the `Compressor`). Each does exactly the calls its description lists, in that order,
 * stops at the first failure and fails with a `CallError` naming it. What one opens is open
 * while its `use` runs and closed when `use` ends, however it ends (no `Scope`: a scope costs a
 * fiber about 40 runtime steps, plus 30 a resource, where a step of its own costs 2).
 *
 * @since 0.2.0
 */
export interface Composite {
  /**
   * `openRead(path)`, `stat`; then, if it is a regular file of at most `maxBytes` bytes (and
   * the file `expect` names, when given), `read`s until it is full or at its end. Then `use`,
   * with the file open.
   */
  readonly openReadWhole: <A, E, R>(
    path: string,
    options: {
      readonly maxBytes: number
      readonly expect?: Identity | undefined
      /** Where to read a file of `size` bytes: a buffer of at least `size` bytes. Default: a new one. */
      readonly buffer?: ((size: number) => Uint8Array) | undefined
    },
    use: (opened: OpenedWhole) => Effect.Effect<A, E, R>
  ) => Effect.Effect<A, CallError | E, R>
  /**
   * `createExclusive(path, 0o600)`, `write(data)`, `stat`, `chown(like.uid, like.gid)` (only
   * when the new file's owner or group differs), `chmod(like.mode & 0o7777)`,
   * `utimes(like.atimeMs, like.mtimeMs)`. Then `use`, with the file open and its `stat` (taken
   * before the chown). No fsync: `use` `sync`s the handle.
   */
  readonly createWritten: <A, E, R>(
    path: string,
    data: Uint8Array,
    like: Stat,
    use: (created: { readonly handle: Handle; readonly stat: Stat }) => Effect.Effect<A, E, R>
  ) => Effect.Effect<A, CallError | E, R>
  /**
   * `link(from, to)`, `lstat(to)`; then, if `to` is a regular file with the identity
   * `expect`, `unlink(from)` (a quick call: the inode keeps its name `to`). Returns what
   * `lstat(to)` said; the caller compares it to `expect` to know whether `from` was removed.
   */
  readonly linkPublish: (from: string, to: string, expect: Identity) => Effect.Effect<Stat, CallError>
  /**
   * `lstat(path)`; then, if `path` names the file `expect` names, `unlink(path)`. Returns what
   * `lstat` said; the caller compares it to `expect` to know whether it was removed.
   */
  readonly unlinkIfSame: (path: string, expect: Identity) => Effect.Effect<Stat, CallError>
}

/**
 * The service tag.
 *
 * @since 0.1.0
 */
export class SafeFs extends Context.Tag("effect-logrotate/SafeFs")<SafeFs, Service>() {}

const REASONS: Record<string, SystemErrorReason> = {
  ENOENT: "NotFound", ENOTDIR: "NotFound", EEXIST: "AlreadyExists", EACCES: "PermissionDenied",
  EPERM: "PermissionDenied", EBUSY: "Busy", ELOOP: "BadResource", EISDIR: "BadResource", EBADF: "BadResource",
  EINVAL: "InvalidData", ETIMEDOUT: "TimedOut", EAGAIN: "WouldBlock", ENOSPC: "WriteZero", EDQUOT: "WriteZero"
}

const systemError = (method: string, path: string, reason: SystemErrorReason, description?: string) =>
  new SystemError({
    module: "FileSystem", method: `SafeFs.${method}`, reason, pathOrDescriptor: path,
    ...(description === undefined ? {} : { description })
  })

const fromNode = (method: string, path: string) => (cause: unknown): SystemError => {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code ?? ""
  return systemError(method, path, REASONS[code] ?? "Unknown", code === "" ? String(cause) : code)
}

const call = <A>(method: string, path: string, f: () => Promise<A>): Effect.Effect<A, SystemError> =>
  Effect.tryPromise({ try: f, catch: fromNode(method, path) })

const C = NodeFs.constants

const typeOf = (s: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean }): Stat["type"] =>
  s.isFile() ? "File" : s.isDirectory() ? "Directory" : s.isSymbolicLink() ? "SymbolicLink" : "Other"

const nodeStat = (s: NodeFs.Stats): Stat => ({
  type: typeOf(s), dev: s.dev, ino: s.ino, mode: s.mode, uid: s.uid, gid: s.gid, size: s.size,
  atimeMs: s.atimeMs, mtimeMs: s.mtimeMs
})

/** A synchronous system call as an effect; a thrown errno becomes the `SystemError` of `method` on `path`. */
const sys = <A>(method: string, path: string, f: () => A): Effect.Effect<A, SystemError> =>
  Effect.try({ try: f, catch: fromNode(method, path) })

const nodeHandle = (path: string, fd: number): Handle => ({
  path,
  stat: sys("fstat", path, () => nodeStat(NodeFs.fstatSync(fd))),
  read: (buffer) => sys("read", path, () => NodeFs.readSync(fd, buffer, 0, buffer.length, null)),
  write: (buffer) => sys("write", path, () => {
    let done = 0
    while (done < buffer.length) done += NodeFs.writeSync(fd, buffer, done, buffer.length - done, null)
  }),
  chmod: (mode) => sys("fchmod", path, () => NodeFs.fchmodSync(fd, mode)),
  chown: (uid, gid) => sys("fchown", path, () => NodeFs.fchownSync(fd, uid, gid)),
  utimes: (atimeMs, mtimeMs) => sys("futimes", path, () => NodeFs.futimesSync(fd, atimeMs / 1000, mtimeMs / 1000)),
  // The one call that waits on the disk: on libuv's thread pool, never on the event loop.
  sync: pooled<void>("fsync", path, (done) => NodeFs.fsync(fd, (e) => done(e, undefined)))
})

/** A system call on libuv's thread pool, for the calls that may wait on the disk or the journal. */
const pooled = <A>(method: string, path: string, f: (done: (e: NodeJS.ErrnoException | null, a: A) => void) => void) =>
  // Straight from the callback to the fiber: no promise between them.
  Effect.async<A, SystemError>((resume) => {
    try {
      f((e, a) => resume(e ? Effect.fail(fromNode(method, path)(e)) : Effect.succeed(a)))
    } catch (e) {
      resume(Effect.fail(fromNode(method, path)(e)))
    }
  })

/**
 * A file opened for reading that has been unlinked meanwhile (one `fstat` tells) is closed on
 * the thread pool: the last close of an unlinked file frees its blocks (a journal transaction:
 * under write load it blocked the event loop for milliseconds). A file that still has a name,
 * and a file we created (it stays linked as the `.gz`), closes at once, synchronously.
 */
const closeFd = (pooledClose: boolean) => (fd: number): Effect.Effect<void> =>
  Effect.suspend(() => {
    if (pooledClose) {
      // Only the last close of an unlinked file frees blocks: a file that still has a name
      // (checked by one fstat) closes at once, synchronously, without a thread-pool round trip.
      let linked = false
      try {
        linked = NodeFs.fstatSync(fd).nlink > 0
      } catch {
        // the close below reports nothing either
      }
      if (!linked) return Effect.async<void>((resume) => NodeFs.close(fd, () => resume(Effect.void)))
    }
    try {
      NodeFs.closeSync(fd)
    } catch {
      // close(2) fails only on I/O errors, which the fsync before it has reported
    }
    return Effect.void
  })

const openNode = (method: string, path: string, flags: number, mode?: number) => {
  const creates = (flags & C.O_CREAT) !== 0
  return Effect.acquireRelease(
    creates
      ? pooled<number>(method, path, (done) => NodeFs.open(path, flags, mode, done))
      : sys(method, path, () => NodeFs.openSync(path, flags, mode)),
    closeFd(!creates)
  ).pipe(Effect.map((fd) => nodeHandle(path, fd)))
}

/**
 * Group commit of directory fsyncs: a caller waits for an `fsync` of the directory that
 * started after it called (so it covers every link and unlink the caller made before), but
 * callers arriving while one runs share the next one. With N compressions in flight this
 * costs about one directory fsync per N publishes instead of one each.
 */
const directorySyncer = () => {
  interface State {
    /** The fsync in progress. */
    running: Promise<void>
    /** The fsync that starts when `running` ends, shared by everyone who called meanwhile. */
    next: Promise<void> | undefined
  }
  const states = new Map<string, State>()
  const syncOnce = (path: string): Promise<void> => new Promise<void>((resolve, reject) => {
    let fd: number
    try {
      fd = NodeFs.openSync(path, C.O_RDONLY | C.O_DIRECTORY)
    } catch (e) {
      return reject(e)
    }
    NodeFs.fsync(fd, (e) => {
      try {
        NodeFs.closeSync(fd)
      } catch {
        // as above
      }
      if (e) reject(e)
      else resolve()
    })
  })
  const run = (path: string, state: State): Promise<void> => {
    const running = syncOnce(path)
    state.running = running
    const settled = () => {
      if (state.running === running && state.next === undefined && states.get(path) === state) states.delete(path)
    }
    running.then(settled, settled)
    return running
  }
  const ignore = () => undefined
  return (path: string): Promise<void> => {
    const state = states.get(path)
    if (state === undefined) {
      const fresh: State = { running: Promise.resolve(), next: undefined }
      states.set(path, fresh)
      return run(path, fresh)
    }
    if (state.next !== undefined) return state.next
    const next = state.running.then(ignore, ignore).then(() => {
      state.next = undefined
      return run(path, state)
    })
    state.next = next
    return next
  }
}

/**
 * The Node implementation, over `node:fs`. Calls that return at once on a local file system
 * (open for reading, fstat, read, write, fchmod, fchown, futimes, link, lstat, readdir, the
 * unlink of a name whose file keeps another, and the close of a file that still has a name)
 * are synchronous system calls on the calling fiber: each costs the event loop one system call
 * (microseconds from the page cache) and saves a thread-pool round trip and a fiber
 * suspension, which cost more. The calls that may wait on the disk or on the journal run on
 * libuv's thread pool, and resume the fiber from their callback: `fsync`, the exclusive create,
 * `unlink`, and the close of an unlinked file (its last close frees its blocks). Its
 * `composite` calls make each run of quick calls in one effect (`Composite`). Directory fsyncs
 * are group-committed: `syncDirectory` waits for an fsync that started after it was called,
 * shared with every caller that arrived meanwhile. Each layer built has its own group-commit
 * state. Figures: docs/performance.md, "Sweep".
 *
 * @example
 * ```ts
 * Compressor.layer.pipe(Layer.provide(SafeFs.layerNode))
 * ```
 *
 * @since 0.1.0
 */
export const layerNode: Layer.Layer<SafeFs> = Layer.sync(SafeFs, (): Service => {
  const syncDirectory = directorySyncer()
  return {
    openRead: (path) => openNode("openRead", path, C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK),
    createExclusive: (path, mode) =>
      openNode("createExclusive", path, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, mode),
    link: (from, to) => sys("link", to, () => NodeFs.linkSync(from, to)),
    lstat: (path) => sys("lstat", path, () => nodeStat(NodeFs.lstatSync(path))),
    unlink: (path) => pooled<void>("unlink", path, (done) => NodeFs.unlink(path, (e) => done(e, undefined))),
    syncDirectory: (path) => call("syncDirectory", path, () => syncDirectory(path)),
    readDirectory: (path) => sys("readDirectory", path, () => NodeFs.readdirSync(path, { encoding: "buffer" })),
    composite: nodeComposite()
  }
})


const sameIdentity = (a: Identity, b: Identity) => a.dev === b.dev && a.ino === b.ino

const at = (call: Call) => (error: PlatformError) => new CallError({ call, error })

/** Runs `open` in a scope of its own, then `use` with what it opened; the scope closes when `use` ends. */
const withScope = <O, A, E, R>(
  open: Effect.Effect<O, CallError, Scope.Scope>,
  use: (opened: O) => Effect.Effect<A, E, R>
): Effect.Effect<A, CallError | E, R> =>
  Effect.acquireUseRelease(
    Scope.make(),
    (scope) => Effect.flatMap(Scope.extend(open, scope), use),
    (scope, exit) => Scope.close(scope, exit)
  )

/**
 * The composite calls built from `service`'s own calls, one effect each: what a service
 * without `composite` gets, so an in-memory layer or a wrapper that sees (or fails) each call
 * still sees every one of them.
 *
 * @example
 * ```ts
 * const steps = safe.composite ?? SafeFs.composite(safe)
 * const { stat, data } = yield* steps.openReadWhole(path, { maxBytes: 1024 * 1024 })
 * ```
 *
 * @since 0.2.0
 */
export const composite = (service: Service): Composite => ({
  openReadWhole: (path, { buffer, expect, maxBytes }, use) =>
    withScope(Effect.gen(function* () {
      const handle = yield* Effect.mapError(service.openRead(path), at("open"))
      const stat = yield* Effect.mapError(handle.stat, at("fstat"))
      if (stat.type !== "File" || stat.size > maxBytes || (expect !== undefined && !sameIdentity(stat, expect))) {
        return { handle, stat, data: undefined }
      }
      const data = buffer === undefined ? new Uint8Array(stat.size) : buffer(stat.size).subarray(0, stat.size)
      let filled = 0
      while (filled < data.length) {
        const n = yield* Effect.mapError(handle.read(data.subarray(filled)), at("read"))
        if (n === 0) break
        filled += n
      }
      return { handle, stat, data: filled === data.length ? data : data.subarray(0, filled) }
    }), use),
  createWritten: (path, data, like, use) =>
    withScope(Effect.gen(function* () {
      const handle = yield* Effect.mapError(service.createExclusive(path, 0o600), at("create"))
      yield* Effect.mapError(handle.write(data), at("write"))
      const stat = yield* Effect.mapError(handle.stat, at("fstat"))
      if (stat.uid !== like.uid || stat.gid !== like.gid) yield* Effect.mapError(handle.chown(like.uid, like.gid), at("fchown"))
      yield* Effect.mapError(handle.chmod(like.mode & 0o7777), at("fchmod"))
      yield* Effect.mapError(handle.utimes(like.atimeMs, like.mtimeMs), at("futimes"))
      return { handle, stat }
    }), use),
  linkPublish: (from, to, expect) =>
    Effect.gen(function* () {
      yield* Effect.mapError(service.link(from, to), at("link"))
      const stat = yield* Effect.mapError(service.lstat(to), at("lstat"))
      if (stat.type === "File" && sameIdentity(stat, expect)) yield* Effect.mapError(service.unlink(from), at("unlink"))
      return stat
    }),
  unlinkIfSame: (path, expect) =>
    Effect.gen(function* () {
      const stat = yield* Effect.mapError(service.lstat(path), at("lstat"))
      if (sameIdentity(stat, expect)) yield* Effect.mapError(service.unlink(path), at("unlink"))
      return stat
    })
})

/**
 * `layerNode`'s composite calls: each run of synchronous system calls is one effect (one
 * `Effect.try`, or the callback of the one thread-pool call it waits for), where the calls
 * one by one cost an effect, a typed error mapping and a fiber step each. A failure names the
 * call (`CallError`), with the `SystemError` that call alone would give.
 */
const nodeComposite = (): Composite => {
  /** Which call a run is at (`go`), so that a thrown errno becomes that call's `CallError`. */
  const tracker = () => {
    const at = { call: "open" as Call, method: "openRead", path: "" }
    return {
      go: (call: Call, method: string, path: string) => {
        at.call = call
        at.method = method
        at.path = path
      },
      error: (cause: unknown) => new CallError({ call: at.call, error: fromNode(at.method, at.path)(cause) })
    }
  }
  const closeQuietly = (fd: number) => {
    try {
      NodeFs.closeSync(fd)
    } catch {
      // as closeFd
    }
  }
  const readAll = (fd: number, size: number, buffer: ((size: number) => Uint8Array) | undefined): Uint8Array => {
    const data = buffer === undefined ? new Uint8Array(size) : buffer(size).subarray(0, size)
    let filled = 0
    while (filled < size) {
      const n = NodeFs.readSync(fd, data, filled, size - filled, null)
      if (n === 0) break
      filled += n
    }
    return filled === size ? data : data.subarray(0, filled)
  }
  return {
    openReadWhole: (path, { buffer, expect, maxBytes }, use) =>
      Effect.acquireUseRelease(
        Effect.suspend(() => {
          const { go, error } = tracker()
          return Effect.try({
            try: () => {
              go("open", "openRead", path)
              const fd = NodeFs.openSync(path, C.O_RDONLY | C.O_NOFOLLOW | C.O_NONBLOCK)
              try {
                go("fstat", "fstat", path)
                const stat = nodeStat(NodeFs.fstatSync(fd))
                go("read", "read", path)
                const data = stat.type !== "File" || stat.size > maxBytes || (expect !== undefined && !sameIdentity(stat, expect))
                  ? undefined
                  : readAll(fd, stat.size, buffer)
                return { fd, stat, data }
              } catch (e) {
                closeQuietly(fd)
                throw e
              }
            },
            catch: error
          })
        }),
        ({ data, fd, stat }) => use({ handle: nodeHandle(path, fd), stat, data }),
        ({ fd }) => closeFd(true)(fd)
      ),
    createWritten: (path, data, like, use) =>
      Effect.acquireUseRelease(
        // The create waits on the journal: on the thread pool; the quick calls after it in its callback.
        Effect.async<{ fd: number; stat: Stat }, CallError>((resume) => {
          const { go, error } = tracker()
          NodeFs.open(path, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o600, (openError, fd) => {
            if (openError) {
              go("create", "createExclusive", path)
              return resume(Effect.fail(error(openError)))
            }
            try {
              go("write", "write", path)
              let done = 0
              while (done < data.length) done += NodeFs.writeSync(fd, data, done, data.length - done, null)
              go("fstat", "fstat", path)
              const stat = nodeStat(NodeFs.fstatSync(fd))
              if (stat.uid !== like.uid || stat.gid !== like.gid) {
                go("fchown", "fchown", path)
                NodeFs.fchownSync(fd, like.uid, like.gid)
              }
              go("fchmod", "fchmod", path)
              NodeFs.fchmodSync(fd, like.mode & 0o7777)
              go("futimes", "futimes", path)
              NodeFs.futimesSync(fd, like.atimeMs / 1000, like.mtimeMs / 1000)
              resume(Effect.succeed({ fd, stat }))
            } catch (e) {
              closeQuietly(fd)
              resume(Effect.fail(error(e)))
            }
          })
        }),
        ({ fd, stat }) => use({ handle: nodeHandle(path, fd), stat }),
        ({ fd }) => closeFd(false)(fd)
      ),
    linkPublish: (from, to, expect) =>
      Effect.suspend(() => {
        const { go, error } = tracker()
        return Effect.try({
          try: () => {
            go("link", "link", to)
            NodeFs.linkSync(from, to)
            go("lstat", "lstat", to)
            const stat = nodeStat(NodeFs.lstatSync(to))
            if (stat.type === "File" && sameIdentity(stat, expect)) {
              // The inode keeps its name `to`: no blocks are freed, a quick call.
              go("unlink", "unlink", from)
              NodeFs.unlinkSync(from)
            }
            return stat
          },
          catch: error
        })
      }),
    unlinkIfSame: (path, expect) =>
      Effect.async<Stat, CallError>((resume) => {
        let stat: Stat
        try {
          stat = nodeStat(NodeFs.lstatSync(path))
        } catch (e) {
          return resume(Effect.fail(new CallError({ call: "lstat", error: fromNode("lstat", path)(e) })))
        }
        if (!sameIdentity(stat, expect)) return resume(Effect.succeed(stat))
        // Typically the file's last name: its unlink frees blocks, which may wait on the journal: on the thread pool.
        NodeFs.unlink(path, (e) => resume(e ? Effect.fail(new CallError({ call: "unlink", error: fromNode("unlink", path)(e) })) : Effect.succeed(stat)))
      })
  }
}

const S_IFREG = 0o100000
const S_IFDIR = 0o040000
const S_IFLNK = 0o120000

/**
 * The in-memory implementation, over the `MemoryFileSystem` in context: the same files, seen
 * through descriptors (a handle keeps its node across a rename or an unlink, as an fd keeps
 * its inode). Owners default to uid/gid 0.
 *
 * @example
 * ```ts
 * Compressor.layer.pipe(Layer.provide(SafeFs.layerMemory), Layer.provideMerge(MemoryFileSystem.layer()))
 * ```
 *
 * @since 0.1.0
 */
export const layerMemory: Layer.Layer<SafeFs, never, MemoryFileSystem> = Layer.effect(SafeFs, Effect.map(MemoryFileSystem, (mem) => {
  const internals = mem.internals
  const norm = (p: string) => Path.posix.resolve("/", p)
  const statOf = (node: MemoryNode): Stat => {
    const { uid, gid } = internals.owner(node)
    const type = node.kind
    return {
      type, dev: 1, ino: node.ino,
      mode: (type === "File" ? S_IFREG : type === "Directory" ? S_IFDIR : S_IFLNK) | node.mode,
      uid, gid, size: type === "SymbolicLink" ? node.target.length : node.length, atimeMs: node.atime, mtimeMs: node.mtime
    }
  }
  const handle = (path: string, node: MemoryNode): Handle => {
    let position = 0
    return {
      path,
      stat: Effect.sync(() => statOf(node)),
      read: (buffer) => Effect.sync(() => {
        const chunk = node.bytes.subarray(position, Math.min(node.length, position + buffer.length))
        buffer.set(chunk)
        position += chunk.length
        return chunk.length
      }),
      write: (buffer) => Effect.map(Clock.currentTimeMillis, (now) => {
        internals.writeAt(node, position, buffer, now)
        position += buffer.length
      }),
      chmod: (mode) => Effect.sync(() => void (node.mode = mode & 0o7777)),
      chown: (uid, gid) => Effect.sync(() => internals.setOwner(node, uid, gid)),
      utimes: (atimeMs, mtimeMs) => Effect.sync(() => {
        node.atime = atimeMs
        node.mtime = mtimeMs
      }),
      sync: Effect.void
    }
  }
  const lookup = (method: string, path: string) => Effect.suspend(() => {
    const node = internals.lookup(path)
    return node === undefined ? Effect.fail(systemError(method, path, "NotFound")) : Effect.succeed(node)
  })
  return {
    openRead: (p) => {
      const path = norm(p)
      return Effect.flatMap(lookup("openRead", path), (node) =>
        node.kind === "SymbolicLink" ? Effect.fail(systemError("openRead", path, "BadResource", "ELOOP"))
          : node.kind === "Directory" ? Effect.fail(systemError("openRead", path, "BadResource", "EISDIR"))
          : Effect.succeed(handle(path, node)))
    },
    createExclusive: (p, mode) => {
      const path = norm(p)
      return Effect.map(internals.createExclusive(path, mode), (node) => handle(path, node))
    },
    link: (from, to) => internals.link(norm(from), norm(to)),
    lstat: (p) => Effect.map(lookup("lstat", norm(p)), statOf),
    unlink: (p) => {
      const path = norm(p)
      return Effect.flatMap(lookup("unlink", path), (node) =>
        node.kind === "Directory" ? Effect.fail(systemError("unlink", path, "BadResource", "EISDIR"))
          : Effect.sync(() => internals.unlink(path)))
    },
    syncDirectory: (p) => Effect.flatMap(lookup("syncDirectory", norm(p)), (node) =>
      node.kind === "Directory" ? Effect.void : Effect.fail(systemError("syncDirectory", norm(p), "NotFound", "ENOTDIR"))),
    readDirectory: (p) => Effect.map(mem.readDirectory(p), (names) => names.map((n) => new Uint8Array(Buffer.from(n))))
  }
}))
