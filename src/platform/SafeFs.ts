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
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
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
  call(method, path, () => new Promise<A>((resolve, reject) => f((e, a) => e ? reject(e) : resolve(a))))

/**
 * A file opened for reading is closed on the thread pool: it is typically an original the caller
 * unlinked meanwhile, and the last close of an unlinked file frees its blocks (a journal
 * transaction: under write load it blocked the event loop for milliseconds). A file we created
 * stays linked (as the `.gz`), so its close is quick and synchronous.
 */
const closeFd = (pooledClose: boolean) => (fd: number): Effect.Effect<void> =>
  pooledClose
    ? Effect.async<void>((resume) => NodeFs.close(fd, () => resume(Effect.void)))
    : Effect.sync(() => {
      try {
        NodeFs.closeSync(fd)
      } catch {
        // close(2) fails only on I/O errors, which the fsync before it has reported
      }
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
 * (open for reading, fstat, read, write, fchmod, fchown, futimes, link, lstat, readdir, and the
 * close of a file we created) are synchronous system calls on the calling fiber: each costs the
 * event loop one system call (microseconds from the page cache) and saves a thread-pool round
 * trip, a promise and a fiber suspension, which cost more. The calls that may wait on the disk
 * or on the journal run on libuv's thread pool: `fsync`, the exclusive create, `unlink`, and the
 * close of a file opened for reading (the last close of an unlinked original frees its blocks).
 * Directory fsyncs are group-committed: `syncDirectory` waits for an fsync that started after it
 * was called, shared with every caller that arrived meanwhile. Each layer built has its own
 * group-commit state. Figures: docs/performance.md, "Sweep".
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
    readDirectory: (path) => sys("readDirectory", path, () => NodeFs.readdirSync(path, { encoding: "buffer" }))
  }
})

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
