/**
 * A deterministic, in-memory implementation of `@effect/platform`'s `FileSystem`,
 * for tests: yours and ours.
 *
 * It models what rotation and retention rely on: directories that must exist,
 * open handles that follow the inode across a rename (POSIX semantics) and close with
 * their scope, sizes, modes (created `0o666`/`0o777` minus a settable umask, default
 * `0o022`), mtimes from Effect's `Clock` (so `TestClock` drives them), symlinks (followed
 * in the middle of a path as the kernel does, dangling ones included), and errors with the
 * same `SystemError` reasons as `NodeFileSystem` (`rm` of a directory without `recursive`,
 * `rename` of a directory onto a file or a non-empty directory, `wx` on a dangling link…).
 * Faults can be injected into the n-th call of any operation, derived ones included.
 *
 * Kept honest by test/platform/MemoryFileSystem.differential.test.ts, which runs generated call
 * sequences on this and on `NodeFileSystem` and compares every result. As observed when
 * running as root (as CI does), permission bits are stored but never enforced. Not modelled:
 * times other than mtime/atime, `watch`, `copy` of a directory (hard links are modelled: `FileSystem.link`
 * and `SafeFs.layerMemory` through `internals`; `stat`'s `nlink` counts a node's names (a directory's
 * too: not Node's 2 + subdirectories), `uid`/`gid` are its owner, 0 unless `chown`ed),
 * and `..` in a path given by the caller is resolved textually (in a link target, physically).
 *
 * Published as `effect-logrotate/testing` (`MemoryFileSystem`); needs nothing in context.
 *
 * @since 0.1.0
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { MemoryFileSystem } from "effect-logrotate/testing"
 *
 * const program = Effect.gen(function* () {
 *   const mem = yield* MemoryFileSystem.MemoryFileSystem
 *   mem.injectFault({ method: "rename", reason: "PermissionDenied" })
 *   // ... run code that uses FileSystem.FileSystem ...
 * }).pipe(Effect.provide(MemoryFileSystem.layer()))
 * ```
 */
import * as FileSystem from "@effect/platform/FileSystem"
import { SystemError, type SystemErrorReason } from "@effect/platform/Error"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Sink from "effect/Sink"
import * as Stream from "effect/Stream"
import * as Path from "node:path"
import * as FaultSchedule from "./internal/FaultSchedule.js"

/** A file, directory or symlink. Handles keep a reference to the node, as an fd keeps an inode. */
interface Node {
  readonly ino: number
  kind: "File" | "Directory" | "SymbolicLink"
  bytes: Uint8Array
  length: number
  mode: number
  mtime: number
  atime: number
  target: string
}

/**
 * The operations a fault can be injected into. `write` and `sync` are calls on an open `File`.
 *
 * @since 0.1.0
 */
export type FaultMethod =
  | "access" | "chmod" | "chown" | "copy" | "copyFile" | "link" | "makeDirectory" | "makeTempDirectory"
  | "makeTempFile" | "open" | "readDirectory" | "readFile" | "readLink" | "realPath" | "remove" | "rename"
  | "stat" | "symlink" | "truncate" | "utimes" | "writeFile" | "write" | "read" | "sync"
  // Derived calls: each is also counted, and faultable, as the primitive it uses (exists as access,
  // readFileString as readFile, writeFileString as writeFile, stream as open + read, sink as open + write).
  | "exists" | "readFileString" | "writeFileString" | "stream" | "sink"

/**
 * A fault to inject: see {@link FaultSchedule.Fault} (method, `nth`, `times`, `path`, `reason`).
 *
 * @since 0.1.0
 */
export interface Fault extends FaultSchedule.Fault<FaultMethod> {}

/** @since 0.1.0 */
export interface MemoryFileSystem extends FileSystem.FileSystem {
  /** Makes the n-th matching call fail with a `SystemError`. Faults are checked in the order injected. */
  readonly injectFault: (fault: Fault) => void
  /** Removes every pending fault. */
  readonly clearFaults: () => void
  /** How many times each operation has been called, for "no stat per line" assertions. */
  readonly calls: Readonly<Record<string, number>>
  /** Every regular file and its bytes, sorted by path. */
  readonly files: () => ReadonlyArray<readonly [path: string, bytes: Uint8Array]>
  /**
   * The paths (as opened) of the `File` handles whose scope has not closed yet, sorted:
   * "the old file is closed" is `expect(mem.openFiles()).not.toContain(old)`.
   */
  readonly openFiles: () => ReadonlyArray<string>
  /**
   * Like `process.umask`: sets the mask when given one, returns the previous (or current) mask.
   * New files get `(mode ?? 0o666) & ~umask`, new directories `(mode ?? 0o777) & ~umask`.
   */
  readonly umask: (mask?: number) => number
  /** Node-level access for `SafeFs.layerMemory` (descriptor-level operations). Not for other uses. */
  readonly internals: Internals
}

/**
 * A file, directory or symlink of the in-memory file system, as `SafeFs.layerMemory` sees it.
 *
 * @since 0.1.0
 */
export type MemoryNode = Node

/**
 * What `SafeFs.layerMemory` needs beyond `FileSystem`: nodes by path without following links, owners, links.
 *
 * @since 0.1.0
 */
export interface Internals {
  /** The node at a normalized path, not following a final symlink. */
  readonly lookup: (path: string) => MemoryNode | undefined
  /** Owner of a node; uid and gid 0 unless set. */
  readonly owner: (node: MemoryNode) => { readonly uid: number; readonly gid: number }
  readonly setOwner: (node: MemoryNode, uid: number, gid: number) => void
  readonly writeAt: (node: MemoryNode, position: number, data: Uint8Array, now: number) => void
  /** Creates a new file; `AlreadyExists` if anything (a dangling link too) is at `path`. */
  readonly createExclusive: (path: string, mode: number) => Effect.Effect<MemoryNode, SystemError>
  /** A second name for `from`'s node (a link itself, not followed); `AlreadyExists` if `to` exists. */
  readonly link: (from: string, to: string) => Effect.Effect<void, SystemError>
  /** Removes the name only. */
  readonly unlink: (path: string) => void
}

/** @since 0.1.0 */
export interface Options {
  /** The file-creation mask, as `process.umask()`. Default `0o022`. */
  readonly umask?: number
}

/**
 * The service tag, provided by `layer` next to `FileSystem.FileSystem` (same object).
 *
 * @since 0.1.0
 */
export const MemoryFileSystem = Context.GenericTag<MemoryFileSystem>("effect-logrotate/MemoryFileSystem")

const normalize = (p: string) => Path.posix.resolve("/", p)

/**
 * Builds a new, empty in-memory file system, synchronously, outside Effect (`unsafe` as in
 * `Ref.unsafeMake`: it allocates mutable state); only `/` and `/tmp` exist. Inside an Effect
 * program, provide `layer` instead.
 *
 * @since 0.2.0
 */
export const unsafeMake = (options: Options = {}): MemoryFileSystem => {
  let nextIno = 1
  let tempCounter = 0
  let umask = (options.umask ?? 0o022) & 0o777
  const openHandles = new Map<number, string>()
  const nodes = new Map<string, Node>()
  const faults = FaultSchedule.unsafeMake<FaultMethod>(normalize)
  const calls: Record<string, number> = {}

  const newNode = (kind: Node["kind"], mtime: number, mode: number): Node => ({
    ino: nextIno++, kind, bytes: new Uint8Array(0), length: 0, mode, mtime, atime: mtime, target: ""
  })
  nodes.set("/", newNode("Directory", 0, 0o755))
  nodes.set("/tmp", newNode("Directory", 0, 0o777))

  const error = (method: string, path: string | number, reason: SystemErrorReason, description?: string) =>
    new SystemError({
      module: "FileSystem", method, reason, pathOrDescriptor: path,
      ...(description === undefined ? {} : { description })
    })

  /** Counts the call and fails it when an injected fault says so. */
  const guard = (method: FaultMethod, path: string): Effect.Effect<void, SystemError> =>
    Effect.suspend(() => {
      calls[method] = (calls[method] ?? 0) + 1
      const fault = faults.due(method, path)
      return fault === undefined ? Effect.void : Effect.fail(error(method, path, fault.reason ?? "Unknown", "injected fault"))
    })

  /**
   * Path lookup as the kernel does it: component by component from `/`, following every
   * symlink met in the middle of the path (`a/link/b` with `link -> dir` is `dir/b`), and the
   * last component's only when `follow`. `..` is the parent of the directory reached (after
   * following a link), not a textual step back. Returns the canonical path (no symlink in
   * it but maybe the last component) and its node, undefined when only the last component
   * is missing (its parent then exists and is a directory); or the error reason: `NotFound`
   * (ENOENT) when a directory on the way is missing, `BadResource` when one is not a
   * directory (ENOTDIR) or there are too many links (ELOOP).
   */
  const walk = (
    raw: string,
    follow: boolean
  ): { readonly path: string; readonly node: Node | undefined } | SystemErrorReason => {
    const pending = raw.split("/").filter((part) => part !== "" && part !== ".")
    let current = "/"
    let links = 0
    while (pending.length > 0) {
      const name = pending.shift()!
      if (name === "..") {
        current = Path.posix.dirname(current)
        continue
      }
      const child = current === "/" ? `/${name}` : `${current}/${name}`
      const node = nodes.get(child)
      const last = pending.length === 0
      if (node === undefined) return last ? { path: child, node } : "NotFound"
      if (node.kind === "SymbolicLink" && (follow || !last)) {
        if (++links > 40) return "BadResource"
        if (node.target.startsWith("/")) current = "/"
        pending.unshift(...node.target.split("/").filter((part) => part !== "" && part !== "."))
        continue
      }
      if (!last && node.kind !== "Directory") return "BadResource"
      current = child
    }
    return { path: current, node: nodes.get(current) }
  }

  /** `walk`, failing with a `SystemError` of `method` on `path`. */
  const locate = (method: string, path: string, follow: boolean) => {
    const found = walk(path, follow)
    return typeof found === "string" ? Effect.fail(error(method, path, found)) : Effect.succeed(found)
  }

  /** The canonical path `path` names, its parent an existing directory (for a new entry). */
  const parentDir = (method: string, path: string): Effect.Effect<string, SystemError> =>
    Effect.map(locate(method, path, false), (found) => found.path)

  /** Follows symlinks like the real FS does for stat/open/readFile; NotFound when nothing is there. */
  const resolve = (method: string, path: string): Effect.Effect<readonly [string, Node], SystemError> =>
    Effect.flatMap(locate(method, path, true), ({ path: at, node }) =>
      node === undefined ? Effect.fail(error(method, path, "NotFound")) : Effect.succeed([at, node] as const))

  const childrenOf = (dir: string) => {
    const prefix = dir === "/" ? "/" : dir + "/"
    return [...nodes.keys()].filter((k) => k !== dir && k.startsWith(prefix))
  }

  const ensureCapacity = (node: Node, needed: number) => {
    if (needed <= node.bytes.length) return
    const grown = new Uint8Array(Math.max(needed, node.bytes.length * 2, 256))
    grown.set(node.bytes.subarray(0, node.length))
    node.bytes = grown
  }

  const writeAt = (node: Node, position: number, data: Uint8Array, now: number) => {
    const end = position + data.length
    ensureCapacity(node, end)
    if (position > node.length) node.bytes.fill(0, node.length, position)
    node.bytes.set(data, position)
    node.length = Math.max(node.length, end)
    node.mtime = now
  }

  const contents = (node: Node) => node.bytes.slice(0, node.length)

  /** How many names lead to `node` (hard links): 0 once all are removed while a handle is open. */
  const namesOf = (node: Node) => {
    let n = 0
    for (const other of nodes.values()) if (other === node) n++
    return n
  }

  const info = (node: Node): FileSystem.File.Info => ({
    type: node.kind,
    mtime: Option.some(new Date(node.mtime)),
    atime: Option.some(new Date(node.atime)),
    birthtime: Option.none(),
    dev: 1,
    ino: Option.some(node.ino),
    mode: node.mode,
    nlink: Option.some(namesOf(node)),
    uid: Option.some(internals.owner(node).uid),
    gid: Option.some(internals.owner(node).gid),
    rdev: Option.none(),
    size: FileSystem.Size(node.kind === "SymbolicLink" ? node.target.length : node.length),
    blksize: Option.none(),
    blocks: Option.none()
  })

  /** A new file at canonical `at` (its parent exists), mode as `open(2)` with the umask applied. */
  const createFile = (at: string, mode: number) =>
    Effect.gen(function* () {
      const node = newNode("File", yield* Clock.currentTimeMillis, mode & ~umask & 0o7777)
      nodes.set(at, node)
      return node
    })

  /**
   * `open(2)`: `x` fails AlreadyExists on anything at the path, a dangling link included;
   * otherwise links are followed, and a create through a dangling link creates its target.
   * A directory opens only read-only (its reads fail, as EISDIR); `mode` applies on create only.
   */
  const openNode = (method: string, path: string, flag: FileSystem.OpenFlag, mode: number | undefined) =>
    Effect.gen(function* () {
      if (flag.includes("x")) {
        const here = yield* locate(method, path, false)
        if (here.node !== undefined) return yield* Effect.fail(error(method, path, "AlreadyExists"))
      }
      const found = yield* locate(method, path, true)
      const node = found.node
      if (node !== undefined) {
        if (node.kind === "Directory") {
          if (flag === "r") return node
          return yield* Effect.fail(error(method, path, "BadResource"))
        }
        if (flag.startsWith("w")) {
          node.length = 0
          node.mtime = yield* Clock.currentTimeMillis
        }
        return node
      }
      if (flag.startsWith("r")) return yield* Effect.fail(error(method, path, "NotFound"))
      return yield* createFile(found.path, mode ?? 0o666)
    })

  const makeHandle = (path: string, node: Node, flag: FileSystem.OpenFlag, fd: number): FileSystem.File => {
    let position = 0
    const append = flag.startsWith("a")
    const readable = flag.startsWith("r") || flag.includes("+")
    const writable = !flag.startsWith("r") || flag.includes("+")
    // As on Node: EBADF (reason Unknown) for a closed handle or the wrong direction, EISDIR for a directory's read.
    const badFd = (method: string) => error(method, fd, "Unknown", "EBADF: bad file descriptor")
    const write = (buffer: Uint8Array) =>
      Effect.gen(function* () {
        yield* guard("write", path)
        if (!openHandles.has(fd) || !writable) return yield* Effect.fail(badFd("write"))
        const at = append ? node.length : position
        writeAt(node, at, buffer, yield* Clock.currentTimeMillis)
        position = at + buffer.length
        return FileSystem.Size(buffer.length)
      })
    const readInto = (buffer: Uint8Array) =>
      Effect.gen(function* () {
        yield* guard("read", path)
        if (!openHandles.has(fd) || !readable) return yield* Effect.fail(badFd("read"))
        if (node.kind === "Directory") return yield* Effect.fail(error("read", fd, "BadResource", "EISDIR: is a directory"))
        const chunk = node.bytes.subarray(position, Math.min(node.length, position + buffer.length))
        buffer.set(chunk)
        position += chunk.length
        return chunk.length
      })
    return {
      [FileSystem.FileTypeId]: FileSystem.FileTypeId,
      fd: FileSystem.FileDescriptor(fd),
      stat: Effect.zipRight(guard("stat", path), Effect.sync(() => info(node))),
      seek: (offset, from) =>
        Effect.sync(() => {
          position = from === "current" ? position + Number(offset) : Number(offset)
        }),
      sync: guard("sync", path),
      read: (buffer) => Effect.map(readInto(buffer), FileSystem.Size),
      readAlloc: (size) =>
        Effect.map(readInto(new Uint8Array(Number(size))), (n) => {
          return n === 0 ? Option.none() : Option.some(node.bytes.slice(position - n, position))
        }),
      truncate: (length) =>
        Effect.gen(function* () {
          yield* guard("truncate", path)
          if (!openHandles.has(fd) || !writable) return yield* Effect.fail(badFd("truncate"))
          const n = Number(length ?? 0)
          ensureCapacity(node, n)
          if (n > node.length) node.bytes.fill(0, node.length, n)
          node.length = n
          node.mtime = yield* Clock.currentTimeMillis
        }),
      write,
      // As @effect/platform-node's: a write of 0 bytes (an empty buffer included) is WriteZero.
      writeAll: (buffer) =>
        buffer.length === 0
          ? Effect.zipRight(
            guard("write", path),
            Effect.fail(openHandles.has(fd) && writable ? error("writeAll", fd, "WriteZero", "write returned 0 bytes written") : badFd("writeAll"))
          )
          : Effect.asVoid(write(buffer))
    }
  }

  /**
   * Node's `fs.rm`: the last component is not followed (a link is removed, not its target).
   * A directory needs `recursive`, empty or not (ERR_FS_EISDIR, reason Unknown, even with
   * `force`); `force` ignores only a missing path (ENOENT), not a file in the middle (ENOTDIR).
   */
  const remove = (path: string, options?: FileSystem.RemoveOptions): Effect.Effect<void, SystemError> =>
    Effect.gen(function* () {
      const found = walk(path, false)
      if (found === "NotFound" && options?.force) return
      if (typeof found === "string") return yield* Effect.fail(error("remove", path, found))
      const { path: at, node } = found
      if (node === undefined) {
        if (options?.force) return
        return yield* Effect.fail(error("remove", path, "NotFound"))
      }
      if (node.kind === "Directory") {
        if (!options?.recursive) return yield* Effect.fail(error("remove", path, "Unknown", "ERR_FS_EISDIR: path is a directory"))
        if (at === "/") return yield* Effect.fail(error("remove", path, "PermissionDenied"))
        for (const child of childrenOf(at)) nodes.delete(child)
      }
      nodes.delete(at)
    })

  const newDirectory = (at: string, mode: number | undefined) =>
    Effect.map(Clock.currentTimeMillis, (now) => void nodes.set(at, newNode("Directory", now, (mode ?? 0o777) & ~umask & 0o7777)))

  /**
   * `mkdir(2)`, mode `(mode ?? 0o777) & ~umask`: anything at the path (a dangling link too) is
   * AlreadyExists. Recursive (Node's mkdirp): missing parents get the same mode; an existing
   * directory, or a link to one, is fine; a file is AlreadyExists; a dangling link NotFound;
   * a parent that is not a directory (file or dangling link) BadResource (ENOTDIR).
   */
  const makeDirectory = (path: string, options?: FileSystem.MakeDirectoryOptions): Effect.Effect<void, SystemError> =>
    Effect.gen(function* () {
      const found = walk(path, false)
      if (found === "NotFound" && options?.recursive && path !== "/") {
        // A parent that exists but is no directory (a dangling link too) is ENOTDIR, as Node's async mkdirp says.
        yield* makeDirectory(Path.posix.dirname(path), options).pipe(
          Effect.mapError((e) => (e.reason === "NotFound" || e.reason === "AlreadyExists" ? error("makeDirectory", path, "BadResource") : e))
        )
        return yield* makeDirectory(path, { ...options, recursive: false })
      }
      if (typeof found === "string") return yield* Effect.fail(error("makeDirectory", path, found))
      if (found.node === undefined) return yield* newDirectory(found.path, options?.mode)
      if (options?.recursive) {
        // What a link there leads to: a directory is fine; nothing (or an error on the way) fails as stat would.
        const target = walk(found.path, true)
        if (typeof target === "string") return yield* Effect.fail(error("makeDirectory", path, target))
        if (target.node?.kind === "Directory") return
        if (target.node === undefined) return yield* Effect.fail(error("makeDirectory", path, "NotFound"))
      }
      return yield* Effect.fail(error("makeDirectory", path, "AlreadyExists"))
    })

  /** Moves `node` (and, for a directory, everything under it) from canonical `from` to `to`, replacing what is there. */
  const moveNode = (from: string, to: string, node: Node) =>
    Effect.sync(() => {
      if (nodes.get(to)?.kind === "Directory") nodes.delete(to) // an empty directory (checked by the caller)
      if (node.kind === "Directory") {
        for (const child of childrenOf(from)) {
          const moved = nodes.get(child)!
          nodes.delete(child)
          nodes.set(to + child.slice(from.length), moved)
        }
      }
      nodes.delete(from)
      nodes.set(to, node)
    })

  let nextFd = 10
  const fs = FileSystem.make({
    access: (p) => {
      const path = normalize(p)
      return Effect.zipRight(guard("access", path), Effect.asVoid(resolve("access", path)))
    },
    chmod: (p, mode) => {
      const path = normalize(p)
      return guard("chmod", path).pipe(
        Effect.zipRight(resolve("chmod", path)),
        Effect.map(([, node]) => void (node.mode = mode & 0o7777))
      )
    },
    chown: (p, uid, gid) => {
      const path = normalize(p)
      return Effect.zipRight(guard("chown", path), Effect.map(resolve("chown", path), ([, node]) => internals.setOwner(node, uid, gid)))
    },
    // Node's fs.cp (files only here): an existing destination is left as it is unless `overwrite`.
    copy: (from, to, options) => {
      const src = normalize(from), dst = normalize(to)
      return Effect.gen(function* () {
        yield* guard("copy", src)
        const [, node] = yield* resolve("copy", src)
        if (node.kind === "Directory") return yield* Effect.fail(error("copy", src, "Unknown", "directories are not supported in memory"))
        const existing = yield* locate("copy", dst, true)
        if (existing.node !== undefined && !options?.overwrite) return
        const copy = yield* openNode("copy", dst, "w", node.mode)
        writeAt(copy, 0, contents(node), yield* Clock.currentTimeMillis)
      })
    },
    copyFile: (from, to) => {
      const src = normalize(from), dst = normalize(to)
      return Effect.gen(function* () {
        yield* guard("copyFile", src)
        const [, node] = yield* resolve("copyFile", src)
        const copy = yield* openNode("copyFile", dst, "w", node.mode)
        writeAt(copy, 0, contents(node), yield* Clock.currentTimeMillis)
      })
    },
    // link(2) as on Linux: a second name for `from`'s node (a symlink itself, not followed).
    link: (from, to) => Effect.zipRight(guard("link", normalize(from)), internals.link(normalize(from), normalize(to))),
    makeDirectory: (p, options) => {
      const path = normalize(p)
      return Effect.zipRight(guard("makeDirectory", path), makeDirectory(path, options))
    },
    // As mkdtemp: mode 0o700, in an existing directory.
    makeTempDirectory: (options) =>
      Effect.suspend(() => {
        const path = normalize(`${options?.directory ?? "/tmp"}/${options?.prefix ?? "tmp-"}${++tempCounter}`)
        return guard("makeTempDirectory", path).pipe(Effect.zipRight(makeDirectory(path, { mode: 0o700 })), Effect.as(path))
      }),
    makeTempDirectoryScoped: (options) =>
      Effect.acquireRelease(fs.makeTempDirectory(options), (dir) => Effect.ignore(remove(dir, { recursive: true }))),
    // As on Node: a fresh temp directory (0o700) with one file in it (0o666 & ~umask).
    makeTempFile: (options) =>
      Effect.suspend(() => {
        const dir = normalize(`${options?.directory ?? "/tmp"}/${options?.prefix ?? "tmp-"}${++tempCounter}`)
        const path = `${dir}/${tempCounter}${options?.suffix ?? ""}`
        return guard("makeTempFile", path).pipe(
          Effect.zipRight(makeDirectory(dir, { mode: 0o700 })),
          Effect.zipRight(openNode("makeTempFile", path, "w+", undefined)),
          Effect.as(path)
        )
      }),
    makeTempFileScoped: (options) =>
      Effect.acquireRelease(fs.makeTempFile(options), (file) => Effect.ignore(remove(Path.posix.dirname(file), { recursive: true }))),
    open: (p, options) => {
      const path = normalize(p)
      const flag = options?.flag ?? "r"
      // The handle is closed with the scope: `openFiles` forgets it and its calls fail EBADF.
      return guard("open", path).pipe(
        Effect.zipRight(openNode("open", path, flag, options?.mode)),
        Effect.map((node) => {
          const fd = nextFd++
          openHandles.set(fd, path)
          return makeHandle(path, node, flag, fd)
        }),
        Effect.acquireRelease((file) => Effect.sync(() => void openHandles.delete(file.fd)))
      )
    },
    readDirectory: (p, options) => {
      const path = normalize(p)
      return Effect.gen(function* () {
        yield* guard("readDirectory", path)
        const [dir, node] = yield* resolve("readDirectory", path)
        if (node.kind !== "Directory") return yield* Effect.fail(error("readDirectory", path, "BadResource"))
        const prefix = dir === "/" ? "/" : dir + "/"
        return childrenOf(dir)
          .map((k) => k.slice(prefix.length))
          .filter((name) => options?.recursive || !name.includes("/"))
          .sort()
      })
    },
    readFile: (p) => {
      const path = normalize(p)
      return Effect.gen(function* () {
        yield* guard("readFile", path)
        const [, node] = yield* resolve("readFile", path)
        if (node.kind === "Directory") return yield* Effect.fail(error("readFile", path, "BadResource"))
        return contents(node)
      })
    },
    readLink: (p) => {
      const path = normalize(p)
      return Effect.gen(function* () {
        yield* guard("readLink", path)
        const { node } = yield* locate("readLink", path, false)
        if (node === undefined) return yield* Effect.fail(error("readLink", path, "NotFound"))
        if (node.kind !== "SymbolicLink") return yield* Effect.fail(error("readLink", path, "Unknown", "EINVAL: not a link"))
        return node.target
      })
    },
    realPath: (p) => {
      const path = normalize(p)
      return Effect.zipRight(guard("realPath", path), Effect.map(resolve("realPath", path), ([at]) => at))
    },
    remove: (p, options) => {
      const path = normalize(p)
      return Effect.zipRight(guard("remove", path), remove(path, options))
    },
    rename: (from, to) => {
      const src = normalize(from), dst = normalize(to)
      return Effect.gen(function* () {
        yield* guard("rename", src)
        // rename(2): neither end is followed. Same file: nothing to do. A directory replaces only
        // an empty directory (onto a file: ENOTDIR; onto a non-empty one: ENOTEMPTY, reason
        // Unknown) and cannot move into itself (EINVAL, Unknown); a file cannot replace a directory.
        // Both parents are looked up before the source's existence is checked, as in the kernel.
        const { path: from_, node } = yield* locate("rename", src, false)
        const { path: to_, node: existing } = yield* locate("rename", dst, false)
        if (node === undefined) return yield* Effect.fail(error("rename", src, "NotFound"))
        const under = (child: string, parent: string) => child.startsWith(parent === "/" ? "/" : parent + "/")
        if (under(to_, from_)) return yield* Effect.fail(error("rename", src, "Unknown", "EINVAL: into itself"))
        if (under(from_, to_)) return yield* Effect.fail(error("rename", src, "Unknown", "ENOTEMPTY: onto its own ancestor"))
        if (existing === node) return
        if (node.kind === "Directory") {
          if (existing !== undefined && existing.kind !== "Directory") return yield* Effect.fail(error("rename", src, "BadResource", "ENOTDIR"))
          if (existing !== undefined && childrenOf(to_).length > 0) return yield* Effect.fail(error("rename", src, "Unknown", "ENOTEMPTY"))
        } else if (existing?.kind === "Directory") {
          return yield* Effect.fail(error("rename", src, "BadResource", "EISDIR"))
        }
        yield* moveNode(from_, to_, node)
      })
    },
    stat: (p) => {
      const path = normalize(p)
      return Effect.zipRight(guard("stat", path), Effect.map(resolve("stat", path), ([, node]) => info(node)))
    },
    symlink: (target, p) => {
      const path = normalize(p)
      return Effect.gen(function* () {
        yield* guard("symlink", path)
        const found = yield* locate("symlink", path, false)
        if (found.node !== undefined) return yield* Effect.fail(error("symlink", path, "AlreadyExists"))
        const node = newNode("SymbolicLink", yield* Clock.currentTimeMillis, 0o777)
        node.target = target
        nodes.set(found.path, node)
      })
    },
    truncate: (p, length) => {
      const path = normalize(p)
      return Effect.gen(function* () {
        yield* guard("truncate", path)
        const [, node] = yield* resolve("truncate", path)
        if (node.kind === "Directory") return yield* Effect.fail(error("truncate", path, "BadResource", "EISDIR"))
        const n = Number(length ?? 0)
        ensureCapacity(node, n)
        if (n > node.length) node.bytes.fill(0, node.length, n)
        node.length = n
        node.mtime = yield* Clock.currentTimeMillis
      })
    },
    utimes: (p, atime, mtime) => {
      const path = normalize(p)
      return guard("utimes", path).pipe(
        Effect.zipRight(resolve("utimes", path)),
        Effect.map(([, node]) => {
          node.atime = typeof atime === "number" ? atime * 1000 : atime.getTime()
          node.mtime = typeof mtime === "number" ? mtime * 1000 : mtime.getTime()
        })
      )
    },
    watch: (p) => {
      throw new Error(`MemoryFileSystem.watch(${p}) is not supported`)
    },
    writeFile: (p, data, options) => {
      const path = normalize(p)
      const flag = options?.flag ?? "w"
      return Effect.gen(function* () {
        yield* guard("writeFile", path)
        const node = yield* openNode("writeFile", path, flag, options?.mode)
        if (node.kind === "Directory") return yield* Effect.fail(error("writeFile", path, "BadResource", "EISDIR"))
        if (flag.startsWith("r") && !flag.includes("+")) return yield* Effect.fail(error("writeFile", path, "Unknown", "EBADF"))
        writeAt(node, flag.startsWith("a") ? node.length : 0, data, yield* Clock.currentTimeMillis)
      })
    }
  })

  // The derived calls get a guard of their own (so a schedule can target them) and still go
  // through the primitive's (so a fault on writeFile also hits writeFileString).
  const derived: Pick<FileSystem.FileSystem, "exists" | "readFileString" | "writeFileString" | "stream" | "sink"> = {
    exists: (p) =>
      guard("exists", normalize(p)).pipe(
        Effect.zipRight(fs.access(p)),
        Effect.as(true),
        Effect.catchTag("SystemError", (e) => (e.reason === "NotFound" ? Effect.succeed(false) : Effect.fail(e)))
      ),
    readFileString: (p, encoding) => Effect.zipRight(guard("readFileString", normalize(p)), fs.readFileString(p, encoding)),
    writeFileString: (p, data, options) => Effect.zipRight(guard("writeFileString", normalize(p)), fs.writeFileString(p, data, options)),
    stream: (p, options) => Stream.unwrap(Effect.as(guard("stream", normalize(p)), fs.stream(p, options))),
    sink: (p, options) => Sink.unwrap(Effect.as(guard("sink", normalize(p)), fs.sink(p, options)))
  }

  const owners = new WeakMap<Node, { readonly uid: number; readonly gid: number }>()
  /** The node a path names without following its last component, undefined when missing. */
  const lookup = (path: string) => {
    const found = walk(path, false)
    return typeof found === "string" ? undefined : found.node
  }
  const internals: Internals = {
    lookup,
    owner: (node) => owners.get(node) ?? { uid: 0, gid: 0 },
    setOwner: (node, uid, gid) => void owners.set(node, { uid, gid }),
    writeAt,
    createExclusive: (path, mode) =>
      Effect.flatMap(locate("createExclusive", path, false), (here) => here.node !== undefined
        ? Effect.fail(error("createExclusive", path, "AlreadyExists"))
        : createFile(here.path, mode)),
    link: (from, to) =>
      Effect.gen(function* () {
        const source = yield* locate("link", from, false)
        if (source.node === undefined) return yield* Effect.fail(error("link", from, "NotFound"))
        if (source.node.kind === "Directory") return yield* Effect.fail(error("link", from, "PermissionDenied", "EPERM"))
        const target = yield* locate("link", to, false)
        if (target.node !== undefined) return yield* Effect.fail(error("link", to, "AlreadyExists"))
        nodes.set(target.path, source.node)
      }),
    unlink: (path) => {
      const found = walk(path, false)
      if (typeof found !== "string") nodes.delete(found.path)
    }
  }

  return Object.assign({ ...fs, ...derived }, {
    internals,
    injectFault: faults.inject,
    clearFaults: faults.clear,
    calls,
    files: () =>
      [...nodes.entries()]
        .filter(([, node]) => node.kind === "File")
        .map(([path, node]) => [path, contents(node)] as const)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    openFiles: () => [...openHandles.values()].sort(),
    umask: (mask?: number) => {
      const previous = umask
      if (mask !== undefined) umask = mask & 0o777
      return previous
    }
  })
}

/**
 * @deprecated 0.2.0: `make` in this library builds with an Effect; this is `unsafeMake`
 * (the same function). Kept working as before.
 */
export const make = (options: Options = {}): MemoryFileSystem => unsafeMake(options)

/**
 * A fresh in-memory file system per build, provided as both `FileSystem.FileSystem`
 * and `MemoryFileSystem` (for fault injection and inspection).
 *
 * @since 0.1.0
 */
export const layer = (options?: Options): Layer.Layer<FileSystem.FileSystem | MemoryFileSystem> =>
  Layer.effectContext(
    Effect.sync(() => {
      const mem = unsafeMake(options)
      return Context.make(MemoryFileSystem, mem).pipe(Context.add(FileSystem.FileSystem, mem))
    })
  )
