/**
 * Shared fixtures of the retention suites: the two FileSystems every contract suite runs
 * against (MemoryFileSystem, and NodeFileSystem in a real temp dir), each wrapped so a test
 * can inject a fault into, or hook, any call: the same `Fault` shape as MemoryFileSystem's
 * own `injectFault`, on both.
 */
import { FileSystem } from "@effect/platform"
import { SystemError } from "@effect/platform/Error"
import { NodeFileSystem } from "@effect/platform-node"
import { Context, Effect, Layer } from "effect"
import * as zlib from "node:zlib"
import * as Compressor from "../../src/retention/Compressor.js"
import * as FaultSchedule from "../../src/platform/internal/FaultSchedule.js"
import type { FaultMethod as MemoryFaultMethod } from "../../src/platform/MemoryFileSystem.js"
import * as MemoryFileSystem from "../../src/platform/MemoryFileSystem.js"
import * as SafeFs from "../../src/platform/SafeFs.js"
import * as Sweeper from "../../src/retention/Sweeper.js"

/**
 * A FileSystem method, or a SafeFs one: `open` (openRead, createExclusive), `read`, `write`,
 * `stat` (fstat), `chmod`, `chown`, `utimes`, `sync` on a handle; `lstat`, `link` (path: the
 * new name), `unlink`, `syncDirectory`, `readDirectory`.
 */
export type FaultMethod = MemoryFaultMethod | "lstat" | "link" | "unlink" | "chown" | "syncDirectory"

export type Fault = FaultSchedule.Fault<FaultMethod>

export interface Call {
  readonly method: FaultMethod
  readonly path: string
}

export interface Instrument {
  /** Fails the n-th matching call, as `MemoryFileSystem.injectFault` does. */
  readonly inject: (fault: Fault) => void
  /** Runs `effect` before every matching call (after fault checks); e.g. to pause a write, or to swap a file. */
  readonly hook: (method: FaultMethod, path: RegExp, effect: (call: Call) => Effect.Effect<void>) => void
  /** Every call seen, in order. */
  readonly calls: ReadonlyArray<Call>
  /** Forgets the calls seen so far (e.g. the test's own setup). */
  readonly clearCalls: () => void
  /**
   * Every injected fault that fired, in order, with the error it failed the call with (its
   * description `injected fault #n` tells it, or a copy of it, apart) and its index in `calls`.
   */
  readonly fired: ReadonlyArray<Fired>
  /** Removes every pending fault (`fired` is kept). */
  readonly clearFaults: () => void
}

/** An injected fault that fired. */
export interface Fired extends Call {
  /** Index of the call in `calls` (as long as `clearCalls` was not called since). */
  readonly index: number
  readonly error: SystemError
}

export class Instrumented extends Context.Tag("test/Instrumented")<Instrumented, Instrument>() {}

/**
 * Wraps any FileSystem so that every call goes through `guard`: each method of the
 * FileSystem (the derived exists, readFileString, writeFileString, stream and sink are
 * rebuilt by `FileSystem.make` on top of access, readFile, writeFile and open, so they are
 * seen as those) and each call on an open handle (read, write, sync, stat, truncate), under
 * the same names as `MemoryFileSystem`'s `FaultMethod`s; and any SafeFs (every call), with
 * one list of faults, hooks and calls.
 */
export const instrument = (base: FileSystem.FileSystem): readonly [FileSystem.FileSystem, Instrument] => {
  const [fs, , tools] = instrumentBoth(base, undefined)
  return [fs, tools]
}

/** `instrument`, for a SafeFs as well (when given). */
export const instrumentBoth = (
  base: FileSystem.FileSystem,
  safeBase: SafeFs.Service | undefined
): readonly [FileSystem.FileSystem, SafeFs.Service | undefined, Instrument] => {
  const faults = FaultSchedule.unsafeMake<FaultMethod>()
  const hooks: Array<{ method: FaultMethod; path: RegExp; effect: (call: Call) => Effect.Effect<void> }> = []
  const calls: Array<Call> = []
  const fired: Array<Fired> = []

  const guard = (method: FaultMethod, path: string): Effect.Effect<void, SystemError> =>
    Effect.suspend(() => {
      calls.push({ method, path })
      const fault = faults.due(method, path)
      if (fault !== undefined) {
        const error = new SystemError({
          module: "FileSystem", method, reason: fault.reason ?? "Unknown",
          // Numbered: an error that passes through a span may reach the caller as a copy.
          pathOrDescriptor: path, description: `injected fault #${fired.length + 1}`
        })
        fired.push({ method, path, index: calls.length - 1, error })
        return Effect.fail(error)
      }
      const run = hooks.filter((h) => h.method === method && h.path.test(path))
      return Effect.forEach(run, (h) => h.effect({ method, path }), { discard: true })
    })

  const wrapFile = (file: FileSystem.File, path: string): FileSystem.File => ({
    [FileSystem.FileTypeId]: FileSystem.FileTypeId,
    fd: file.fd,
    stat: Effect.zipRight(guard("stat", path), file.stat),
    seek: (offset, from) => file.seek(offset, from),
    sync: Effect.zipRight(guard("sync", path), file.sync),
    read: (buffer) => Effect.zipRight(guard("read", path), file.read(buffer)),
    readAlloc: (size) => Effect.zipRight(guard("read", path), file.readAlloc(size)),
    truncate: (length) => Effect.zipRight(guard("truncate", path), file.truncate(length)),
    write: (buffer) => Effect.zipRight(guard("write", path), file.write(buffer)),
    writeAll: (buffer) => Effect.zipRight(guard("write", path), file.writeAll(buffer))
  })

  const tempPath = (options?: FileSystem.MakeTempDirectoryOptions) => `${options?.directory ?? "<tmp>"}/${options?.prefix ?? ""}`
  // Every member of FileSystem but the five `make` derives: a method added here is one the tests can see.
  const fs = FileSystem.make({
    access: (path, options) => Effect.zipRight(guard("access", path), base.access(path, options)),
    chmod: (path, mode) => Effect.zipRight(guard("chmod", path), base.chmod(path, mode)),
    chown: (path, uid, gid) => Effect.zipRight(guard("chown", path), base.chown(path, uid, gid)),
    copy: (from, to, options) => Effect.zipRight(guard("copy", from), base.copy(from, to, options)),
    copyFile: (from, to) => Effect.zipRight(guard("copyFile", from), base.copyFile(from, to)),
    link: (from, to) => Effect.zipRight(guard("link", from), base.link(from, to)),
    makeDirectory: (path, options) => Effect.zipRight(guard("makeDirectory", path), base.makeDirectory(path, options)),
    makeTempDirectory: (options) => Effect.zipRight(guard("makeTempDirectory", tempPath(options)), base.makeTempDirectory(options)),
    makeTempDirectoryScoped: (options) =>
      Effect.zipRight(guard("makeTempDirectory", tempPath(options)), base.makeTempDirectoryScoped(options)),
    makeTempFile: (options) => Effect.zipRight(guard("makeTempFile", tempPath(options)), base.makeTempFile(options)),
    makeTempFileScoped: (options) => Effect.zipRight(guard("makeTempFile", tempPath(options)), base.makeTempFileScoped(options)),
    open: (path, options) =>
      Effect.zipRight(guard("open", path), Effect.map(base.open(path, options), (f) => wrapFile(f, path))),
    readDirectory: (path, options) => Effect.zipRight(guard("readDirectory", path), base.readDirectory(path, options)),
    readFile: (path) => Effect.zipRight(guard("readFile", path), base.readFile(path)),
    readLink: (path) => Effect.zipRight(guard("readLink", path), base.readLink(path)),
    realPath: (path) => Effect.zipRight(guard("realPath", path), base.realPath(path)),
    remove: (path, options) => Effect.zipRight(guard("remove", path), base.remove(path, options)),
    rename: (from, to) => Effect.zipRight(guard("rename", from), base.rename(from, to)),
    stat: (path) => Effect.zipRight(guard("stat", path), base.stat(path)),
    symlink: (target, path) => Effect.zipRight(guard("symlink", path), base.symlink(target, path)),
    truncate: (path, length) => Effect.zipRight(guard("truncate", path), base.truncate(path, length)),
    utimes: (path, atime, mtime) => Effect.zipRight(guard("utimes", path), base.utimes(path, atime, mtime)),
    watch: (path, options) => base.watch(path, options),
    writeFile: (path, data, options) => Effect.zipRight(guard("writeFile", path), base.writeFile(path, data, options))
  })
  const wrapHandle = (h: SafeFs.Handle): SafeFs.Handle => ({
    path: h.path,
    stat: Effect.zipRight(guard("stat", h.path), h.stat),
    read: (buffer) => Effect.zipRight(guard("read", h.path), h.read(buffer)),
    write: (buffer) => Effect.zipRight(guard("write", h.path), h.write(buffer)),
    chmod: (mode) => Effect.zipRight(guard("chmod", h.path), h.chmod(mode)),
    chown: (uid, gid) => Effect.zipRight(guard("chown", h.path), h.chown(uid, gid)),
    utimes: (a, m) => Effect.zipRight(guard("utimes", h.path), h.utimes(a, m)),
    sync: Effect.zipRight(guard("sync", h.path), h.sync)
  })
  const safe: SafeFs.Service | undefined = safeBase && {
    openRead: (path) => Effect.zipRight(guard("open", path), Effect.map(safeBase.openRead(path), wrapHandle)),
    createExclusive: (path, mode) =>
      Effect.zipRight(guard("open", path), Effect.map(safeBase.createExclusive(path, mode), wrapHandle)),
    link: (from, to) => Effect.zipRight(guard("link", to), safeBase.link(from, to)),
    lstat: (path) => Effect.zipRight(guard("lstat", path), safeBase.lstat(path)),
    unlink: (path) => Effect.zipRight(guard("unlink", path), safeBase.unlink(path)),
    syncDirectory: (path) => Effect.zipRight(guard("syncDirectory", path), safeBase.syncDirectory(path)),
    readDirectory: (path) => Effect.zipRight(guard("readDirectory", path), safeBase.readDirectory(path))
  }
  return [fs, safe, {
    inject: faults.inject,
    hook: (method, path, effect) => void hooks.push({ method, path, effect }),
    calls,
    clearCalls: () => void calls.splice(0, calls.length),
    fired,
    clearFaults: faults.clear
  }]
}

const instrumented = <E, R>(base: Layer.Layer<FileSystem.FileSystem | SafeFs.SafeFs, E, R>) =>
  Layer.effectContext(Effect.gen(function* () {
    const [wrapped, safe, tools] = instrumentBoth(yield* FileSystem.FileSystem, yield* SafeFs.SafeFs)
    return Context.make(FileSystem.FileSystem, wrapped).pipe(Context.add(SafeFs.SafeFs, safe!), Context.add(Instrumented, tools))
  })).pipe(Layer.provide(base))

/** The in-memory FileSystem, and SafeFs over it. */
export const memoryBase = () => SafeFs.layerMemory.pipe(Layer.provideMerge(MemoryFileSystem.layer()))
/** Node's FileSystem, and SafeFs over node:fs. */
export const nodeBase = Layer.merge(NodeFileSystem.layer, SafeFs.layerNode)

/** FileSystem and SafeFs (instrumented) + Instrumented + Compressor (with `options`) + Sweeper, fresh per call. */
export const retentionLayer = <E, R>(base: Layer.Layer<FileSystem.FileSystem | SafeFs.SafeFs, E, R>, options: Compressor.Options = {}) =>
  Sweeper.layer.pipe(
    Layer.provideMerge(Compressor.layerWith(options)),
    Layer.provideMerge(instrumented(base))
  )

export interface FileSystemUnderTest {
  readonly name: string
  readonly layer: (
    options?: Compressor.Options
  ) => Layer.Layer<FileSystem.FileSystem | SafeFs.SafeFs | Instrumented | Compressor.Compressor | Sweeper.Sweeper>
}

export const fileSystems: ReadonlyArray<FileSystemUnderTest> = [
  { name: "MemoryFileSystem", layer: (options) => retentionLayer(memoryBase(), options) },
  { name: "NodeFileSystem", layer: (options) => retentionLayer(nodeBase, options) }
]

/** The Compressor's two ways of producing a .gz; every contract test runs on both. */
export const compressionPaths: ReadonlyArray<{ readonly name: string; readonly options: Compressor.Options }> = [
  { name: "read whole", options: {} },
  { name: "streamed", options: { wholeFileMaxBytes: 0 } }
]

/** A temp dir removed with the test's scope. */
export const tempDir = Effect.flatMap(
  FileSystem.FileSystem,
  (fs) => fs.makeTempDirectoryScoped({ prefix: "retention-test-" })
)

/**
 * `bytes` (default: a 300 KB file, five 64 KiB reads) written as `name` in a fresh temp dir.
 * The Compressor tests' start.
 */
export const fileInTempDir = (name: string, bytes: Uint8Array = ndjson(300_000)) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const dir = yield* tempDir
    const path = `${dir}/${name}`
    yield* fs.writeFile(path, bytes)
    return { fs, dir, path, bytes }
  })

/** `n` bytes of NDJSON-looking text, different for each `seed`. */
export const ndjson = (n: number, seed = 1): Uint8Array => {
  const lines: Array<string> = []
  let size = 0
  for (let i = 0; size < n; i++) {
    const line = JSON.stringify({ ts: 1_700_000_000_000 + i * 997 * seed, level: i % 7 === 0 ? "warn" : "info", seq: i, seed,
      msg: `request ${(i * 2654435761 * seed) % 1_000_003} handled in ${(i * 31 + seed) % 977}ms` }) + "\n"
    lines.push(line)
    size += line.length
  }
  return Buffer.from(lines.join("")).subarray(0, n)
}

export const gunzip = (bytes: Uint8Array): Uint8Array => zlib.gunzipSync(bytes)

/** Names in `dir`, sorted. */
export const names = (dir: string) =>
  Effect.map(Effect.flatMap(FileSystem.FileSystem, (fs) => fs.readDirectory(dir)), (ns) => [...ns].sort())

/** `{ name: bytes }` of every regular file in `dir` (links and dirs left out). */
export const snapshot = (dir: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const out: Record<string, string> = {}
    for (const name of yield* names(dir)) {
      const path = `${dir}/${name}`
      const isLink = yield* Effect.isSuccess(fs.readLink(path))
      if (isLink) {
        out[name] = `-> ${yield* fs.readLink(path)}`
        continue
      }
      const info = yield* fs.stat(path)
      out[name] = info.type === "File"
        ? Buffer.from(yield* fs.readFile(path)).toString("base64")
        : `<${info.type}>`
    }
    return out
  })

/** `<prefix>-YYYY-MM-DD<ext>` for the day `ageDays` before `today` (UTC). */
export const dated = (prefix: string, today: Date, ageDays: number, ext = ".ndjson") => {
  const d = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - ageDays))
  return `${prefix}-${d.toISOString().slice(0, 10)}${ext}`
}
