/**
 * A deterministic, in-memory implementation of `@effect/platform`'s `FileSystem`,
 * for tests: yours and ours.
 *
 * It models what rotation and retention rely on: directories that must exist,
 * open handles that follow the inode across a rename (POSIX semantics), sizes,
 * modes, mtimes from Effect's `Clock` (so `TestClock` drives them), symlinks, and
 * errors with the same `SystemError` reasons as `NodeFileSystem`. Faults can be
 * injected into the n-th call of any operation. Owners (uid/gid, 0 unless `chown`ed) and hard
 * links exist for `SafeFs.layerMemory`, which reaches the nodes through `internals`.
 *
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
import * as Path from "node:path"

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

/** The operations a fault can be injected into. `write` and `sync` are calls on an open `File`. */
export type FaultMethod =
  | "access" | "chmod" | "copyFile" | "makeDirectory" | "open" | "readDirectory" | "readFile" | "readLink"
  | "remove" | "rename" | "stat" | "symlink" | "truncate" | "utimes" | "writeFile" | "write" | "read" | "sync"

export interface Fault {
  readonly method: FaultMethod
  /** Fail the n-th matching call from now on (1-based). Default 1. */
  readonly nth?: number
  /** How many consecutive matching calls fail, starting at `nth`. Default 1; `Infinity` for all. */
  readonly times?: number
  /** Only calls on this path (exact), or matching this RegExp, count. Default: every path. */
  readonly path?: string | RegExp
  /** The `SystemError` reason. Default `"Unknown"`. */
  readonly reason?: SystemErrorReason
}

export interface MemoryFileSystem extends FileSystem.FileSystem {
  /** Makes the n-th matching call fail with a `SystemError`. Faults are checked in the order injected. */
  readonly injectFault: (fault: Fault) => void
  /** Removes every pending fault. */
  readonly clearFaults: () => void
  /** How many times each operation has been called, for "no stat per line" assertions. */
  readonly calls: Readonly<Record<string, number>>
  /** Every regular file and its bytes, sorted by path. */
  readonly files: () => ReadonlyArray<readonly [path: string, bytes: Uint8Array]>
  /** Node-level access for `SafeFs.layerMemory` (descriptor-level operations). Not for other uses. */
  readonly internals: Internals
}

/** A file, directory or symlink of the in-memory file system, as `SafeFs.layerMemory` sees it. */
export type MemoryNode = Node

/** What `SafeFs.layerMemory` needs beyond `FileSystem`: nodes by path without following links, owners, links. */
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

/** The service tag, provided by `layer` next to `FileSystem.FileSystem` (same object). */
export const MemoryFileSystem = Context.GenericTag<MemoryFileSystem>("effect-logrotate/MemoryFileSystem")

const normalize = (p: string) => Path.posix.resolve("/", p)

/** Builds a new, empty in-memory file system; only `/` and `/tmp` exist. */
export const make = (): MemoryFileSystem => {
  let nextIno = 1
  let tempCounter = 0
  const nodes = new Map<string, Node>()
  const faults: Array<{ fault: Fault; seen: number }> = []
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

  const pathMatches = (fault: Fault, path: string) =>
    fault.path === undefined ? true : typeof fault.path === "string" ? normalize(fault.path) === path : fault.path.test(path)

  /** Counts the call and fails it when an injected fault says so. */
  const guard = (method: FaultMethod, path: string): Effect.Effect<void, SystemError> =>
    Effect.suspend(() => {
      calls[method] = (calls[method] ?? 0) + 1
      for (const entry of faults) {
        if (entry.fault.method !== method || !pathMatches(entry.fault, path)) continue
        entry.seen++
        const first = entry.fault.nth ?? 1
        const last = first + (entry.fault.times ?? 1) - 1
        if (entry.seen >= first && entry.seen <= last) {
          return Effect.fail(error(method, path, entry.fault.reason ?? "Unknown", "injected fault"))
        }
      }
      return Effect.void
    })

  const parentDir = (method: string, path: string): Effect.Effect<Node, SystemError> => {
    const parent = nodes.get(Path.posix.dirname(path))
    if (parent === undefined) return Effect.fail(error(method, path, "NotFound"))
    if (parent.kind !== "Directory") return Effect.fail(error(method, path, "BadResource"))
    return Effect.succeed(parent)
  }

  /** Follows symlinks like the real FS does for stat/open/readFile. */
  const resolve = (method: string, path: string, depth = 0): Effect.Effect<readonly [string, Node], SystemError> => {
    const node = nodes.get(path)
    if (node === undefined) return Effect.fail(error(method, path, "NotFound"))
    if (node.kind !== "SymbolicLink") return Effect.succeed([path, node] as const)
    if (depth > 32) return Effect.fail(error(method, path, "BadResource"))
    return resolve(method, normalize(Path.posix.resolve(Path.posix.dirname(path), node.target)), depth + 1)
  }

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

  const info = (node: Node): FileSystem.File.Info => ({
    type: node.kind,
    mtime: Option.some(new Date(node.mtime)),
    atime: Option.some(new Date(node.atime)),
    birthtime: Option.none(),
    dev: 1,
    ino: Option.some(node.ino),
    mode: node.mode,
    nlink: Option.some(1),
    uid: Option.none(),
    gid: Option.none(),
    rdev: Option.none(),
    size: FileSystem.Size(node.kind === "SymbolicLink" ? node.target.length : node.length),
    blksize: Option.none(),
    blocks: Option.none()
  })

  const createFile = (method: string, path: string, mode: number) =>
    Effect.gen(function* () {
      yield* parentDir(method, path)
      const node = newNode("File", yield* Clock.currentTimeMillis, mode & 0o7777)
      nodes.set(path, node)
      return node
    })

  const openNode = (method: string, path: string, flag: FileSystem.OpenFlag, mode: number) =>
    Effect.gen(function* () {
      const existing = nodes.has(path) ? yield* resolve(method, path) : undefined
      const exclusive = flag.includes("x")
      if (existing && exclusive) return yield* Effect.fail(error(method, path, "AlreadyExists"))
      if (existing) {
        const [, node] = existing
        if (node.kind === "Directory") return yield* Effect.fail(error(method, path, "BadResource"))
        if (flag.startsWith("w")) {
          node.length = 0
          node.mtime = yield* Clock.currentTimeMillis
        }
        return node
      }
      if (flag.startsWith("r")) return yield* Effect.fail(error(method, path, "NotFound"))
      return yield* createFile(method, path, mode)
    })

  const makeHandle = (path: string, node: Node, flag: FileSystem.OpenFlag, fd: number): FileSystem.File => {
    let position = 0
    const append = flag.startsWith("a")
    const readable = flag.startsWith("r") || flag.includes("+")
    const writable = !flag.startsWith("r") || flag.includes("+")
    const write = (buffer: Uint8Array) =>
      Effect.gen(function* () {
        yield* guard("write", path)
        if (!writable) return yield* Effect.fail(error("write", fd, "BadResource"))
        const at = append ? node.length : position
        writeAt(node, at, buffer, yield* Clock.currentTimeMillis)
        position = at + buffer.length
        return FileSystem.Size(buffer.length)
      })
    const readInto = (buffer: Uint8Array) =>
      Effect.gen(function* () {
        yield* guard("read", path)
        if (!readable) return yield* Effect.fail(error("read", fd, "BadResource"))
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
          const n = Number(length ?? 0)
          ensureCapacity(node, n)
          if (n > node.length) node.bytes.fill(0, node.length, n)
          node.length = n
          node.mtime = yield* Clock.currentTimeMillis
        }),
      write,
      writeAll: (buffer) => Effect.asVoid(write(buffer))
    }
  }

  const remove = (path: string, options?: FileSystem.RemoveOptions): Effect.Effect<void, SystemError> =>
    Effect.gen(function* () {
      const node = nodes.get(path)
      if (node === undefined) {
        if (options?.force) return
        return yield* Effect.fail(error("remove", path, "NotFound"))
      }
      if (node.kind === "Directory") {
        const children = childrenOf(path)
        if (children.length > 0 && !options?.recursive) {
          return yield* Effect.fail(error("remove", path, "Unknown", "directory not empty"))
        }
        if (path === "/") return yield* Effect.fail(error("remove", path, "PermissionDenied"))
        for (const child of children) nodes.delete(child)
      }
      nodes.delete(path)
    })

  const makeDirectory = (path: string, options?: FileSystem.MakeDirectoryOptions): Effect.Effect<void, SystemError> =>
    Effect.gen(function* () {
      const existing = nodes.get(path)
      if (existing) {
        if (options?.recursive && existing.kind === "Directory") return
        return yield* Effect.fail(error("makeDirectory", path, "AlreadyExists"))
      }
      if (options?.recursive && path !== "/") {
        const parent = Path.posix.dirname(path)
        if (!nodes.has(parent)) yield* makeDirectory(parent, options)
      }
      yield* parentDir("makeDirectory", path)
      nodes.set(path, newNode("Directory", yield* Clock.currentTimeMillis, (options?.mode ?? 0o755) & 0o7777))
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
    chown: (p, uid, gid) => Effect.map(resolve("chown", normalize(p)), ([, node]) => internals.setOwner(node, uid, gid)),
    copy: (from, to) => fs.copyFile(from, to),
    copyFile: (from, to) => {
      const src = normalize(from), dst = normalize(to)
      return Effect.gen(function* () {
        yield* guard("copyFile", src)
        const [, node] = yield* resolve("copyFile", src)
        const copy = yield* openNode("copyFile", dst, "w", node.mode)
        writeAt(copy, 0, contents(node), yield* Clock.currentTimeMillis)
      })
    },
    link: (from, to) => Effect.fail(error("link", normalize(from), "Unknown", `link ${to}: not supported in memory`)),
    makeDirectory: (p, options) => {
      const path = normalize(p)
      return Effect.zipRight(guard("makeDirectory", path), makeDirectory(path, options))
    },
    makeTempDirectory: (options) =>
      Effect.suspend(() => {
        const path = normalize(`${options?.directory ?? "/tmp"}/${options?.prefix ?? "tmp-"}${++tempCounter}`)
        return Effect.as(makeDirectory(path, { recursive: true }), path)
      }),
    makeTempDirectoryScoped: (options) =>
      Effect.acquireRelease(fs.makeTempDirectory(options), (dir) => Effect.ignore(remove(dir, { recursive: true }))),
    makeTempFile: (options) =>
      Effect.suspend(() => {
        const path = normalize(`${options?.directory ?? "/tmp"}/${options?.prefix ?? "tmp-"}${++tempCounter}`)
        return Effect.as(openNode("makeTempFile", path, "w", 0o600), path)
      }),
    makeTempFileScoped: (options) =>
      Effect.acquireRelease(fs.makeTempFile(options), (file) => Effect.ignore(remove(file, { force: true }))),
    open: (p, options) => {
      const path = normalize(p)
      const flag = options?.flag ?? "r"
      return guard("open", path).pipe(
        Effect.zipRight(openNode("open", path, flag, options?.mode ?? 0o644)),
        Effect.map((node) => makeHandle(path, node, flag, nextFd++))
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
        const node = nodes.get(path)
        if (node === undefined) return yield* Effect.fail(error("readLink", path, "NotFound"))
        if (node.kind !== "SymbolicLink") return yield* Effect.fail(error("readLink", path, "Unknown", "EINVAL: not a link"))
        return node.target
      })
    },
    realPath: (p) => Effect.map(resolve("realPath", normalize(p)), ([path]) => path),
    remove: (p, options) => {
      const path = normalize(p)
      return Effect.zipRight(guard("remove", path), remove(path, options))
    },
    rename: (from, to) => {
      const src = normalize(from), dst = normalize(to)
      return Effect.gen(function* () {
        yield* guard("rename", src)
        const node = nodes.get(src)
        if (node === undefined) return yield* Effect.fail(error("rename", src, "NotFound"))
        yield* parentDir("rename", dst)
        const existing = nodes.get(dst)
        if (existing?.kind === "Directory" && node.kind !== "Directory") {
          return yield* Effect.fail(error("rename", src, "BadResource"))
        }
        if (node.kind === "Directory") {
          for (const child of childrenOf(src)) {
            const moved = nodes.get(child)!
            nodes.delete(child)
            nodes.set(dst + child.slice(src.length), moved)
          }
        }
        nodes.delete(src)
        nodes.set(dst, node)
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
        if (nodes.has(path)) return yield* Effect.fail(error("symlink", path, "AlreadyExists"))
        yield* parentDir("symlink", path)
        const node = newNode("SymbolicLink", yield* Clock.currentTimeMillis, 0o777)
        node.target = target
        nodes.set(path, node)
      })
    },
    truncate: (p, length) => {
      const path = normalize(p)
      return Effect.gen(function* () {
        yield* guard("truncate", path)
        const [, node] = yield* resolve("truncate", path)
        const n = Number(length ?? 0)
        ensureCapacity(node, n)
        if (n > node.length) node.bytes.fill(0, node.length, n)
        node.length = n
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
        const node = yield* openNode("writeFile", path, flag, options?.mode ?? 0o644)
        writeAt(node, flag.startsWith("a") ? node.length : 0, data, yield* Clock.currentTimeMillis)
      })
    }
  })

  const owners = new WeakMap<Node, { readonly uid: number; readonly gid: number }>()
  const internals: Internals = {
    lookup: (path) => nodes.get(path),
    owner: (node) => owners.get(node) ?? { uid: 0, gid: 0 },
    setOwner: (node, uid, gid) => void owners.set(node, { uid, gid }),
    writeAt,
    createExclusive: (path, mode) =>
      Effect.suspend(() => nodes.has(path)
        ? Effect.fail(error("createExclusive", path, "AlreadyExists"))
        : createFile("createExclusive", path, mode)),
    link: (from, to) =>
      Effect.gen(function* () {
        const node = nodes.get(from)
        if (node === undefined) return yield* Effect.fail(error("link", from, "NotFound"))
        if (node.kind === "Directory") return yield* Effect.fail(error("link", from, "PermissionDenied", "EPERM"))
        if (nodes.has(to)) return yield* Effect.fail(error("link", to, "AlreadyExists"))
        yield* parentDir("link", to)
        nodes.set(to, node)
      }),
    unlink: (path) => void nodes.delete(path)
  }

  return Object.assign(fs, {
    internals,
    injectFault: (fault: Fault) => void faults.push({ fault, seen: 0 }),
    clearFaults: () => void faults.splice(0, faults.length),
    calls,
    files: () =>
      [...nodes.entries()]
        .filter(([, node]) => node.kind === "File")
        .map(([path, node]) => [path, contents(node)] as const)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  })
}

/**
 * A fresh in-memory file system per build, provided as both `FileSystem.FileSystem`
 * and `MemoryFileSystem` (for fault injection and inspection).
 */
export const layer = (): Layer.Layer<FileSystem.FileSystem | MemoryFileSystem> =>
  Layer.effectContext(
    Effect.sync(() => {
      const mem = make()
      return Context.make(MemoryFileSystem, mem).pipe(Context.add(FileSystem.FileSystem, mem))
    })
  )
