/**
 * Gzip compression of a daily file, crash- and interrupt-safe, in bounded memory.
 *
 * `gzipFile(path)` writes the gzip of `path` into `path.gz.tmp` (created exclusively, mode
 * 0600), gives it the original's permission bits and mtime, fsyncs and closes it, checks the
 * original did not change meanwhile, renames it to `path.gz`, and only then removes `path`.
 * If any step fails or the fiber is interrupted before the rename, the `.gz.tmp` is removed and
 * the original is untouched; the rename and the removal of the original run uninterruptibly.
 * So at every instant there is the original, a complete `.gz`, or both, never neither. Only
 * `FileSystem` methods are used, so it runs on `NodeFileSystem` and on `MemoryFileSystem` alike.
 *
 * Two ways to produce the bytes, chosen by the size `stat` reports:
 * - up to `wholeFileMaxBytes` (default 1 MiB, the common case for daily NDJSON files): one
 *   `readFile`, one asynchronous `zlib.gzip` (libuv's thread pool, so the event loop is not
 *   blocked), one `writeAll`. 11 `FileSystem` calls per file (stat, readFile, open, write, chmod,
 *   utimes, sync, close, stat, rename, remove) instead of 15 or more streamed; each is a
 *   thread-pool round trip plus the Effect around it, and together they cost more than the
 *   gzip itself for small files. Memory: the file and its gzip, so at most about twice
 *   `wholeFileMaxBytes` per compression in flight.
 * - larger files stream: each chunk is read into one reused `chunkSize` buffer and fed to
 *   zlib, and the next read waits until zlib has consumed it. Memory is that buffer plus zlib's
 *   state, whatever the file size.
 *
 * It assumes one process compresses a given file at a time (a second one fails on the
 * exclusive create of the `.gz.tmp`), and that nothing writes to a file old enough to be
 * compressed; a file whose size or mtime changes while being compressed fails with step `"read"`.
 *
 * @example
 * ```ts
 * import { NodeFileSystem } from "@effect/platform-node"
 * import { Effect, Layer } from "effect"
 * import { Compressor } from "effect-logrotate"
 *
 * const program = Effect.gen(function* () {
 *   const compressor = yield* Compressor.Compressor
 *   const { bytesIn, bytesOut } = yield* compressor.gzipFile("/var/log/relay/app-2026-01-01.ndjson")
 * }).pipe(Effect.provide(Compressor.layer.pipe(Layer.provide(NodeFileSystem.layer))))
 * ```
 */
import { FileSystem } from "@effect/platform"
import { Context, Effect, Exit, Layer, Option, type Scope } from "effect"
import * as zlib from "node:zlib"
import { GZIP_SUFFIX, TEMP_SUFFIX } from "./DatedFile.js"
import { CompressError, type CompressStep } from "./Errors.js"

/** The outcome of one compression. */
export interface Compressed {
  /** The original, now removed. */
  readonly path: string
  /** `path.gz`. */
  readonly gzip: string
  /** Bytes read from the original. */
  readonly bytesIn: number
  /** Bytes of the `.gz`. */
  readonly bytesOut: number
}

export interface Options {
  /** Read chunk size in bytes when streaming. Default 64 KiB. */
  readonly chunkSize?: number
  /** zlib compression level 0–9. Default 6, as gzip(1). */
  readonly level?: number
  /**
   * Files up to this many bytes are read whole, gzipped in one asynchronous zlib call and
   * written in one write; larger files are streamed in `chunkSize` chunks. Each compression in
   * flight then holds at most about twice this much (the file and its gzip). Default 1 MiB;
   * 0 streams every file.
   */
  readonly wholeFileMaxBytes?: number
}

export interface GzipOptions {
  /**
   * One permit of it is held while the file's bytes go through zlib: the one zlib call for a
   * file read whole, the whole read-gzip-write stream for a larger one; not the stat, read,
   * open, fsync, chmod, utimes, rename or remove around them. A caller compressing many files
   * at once can so bound the CPU-bound part (to the number of CPUs, say) apart from the
   * file-system round trips around it; `Sweeper` does. Default: no bound.
   */
  readonly cpu?: Effect.Semaphore
}

export interface Service {
  /** Compresses `path` into `path.gz` and removes `path`. */
  readonly gzipFile: (path: string, options?: GzipOptions) => Effect.Effect<Compressed, CompressError>
  /**
   * Streams `path` through gunzip to check it is a complete gzip file (CRC and length
   * trailer), and, when `expectedBytes` is given, that it decompresses to exactly that many
   * bytes. Returns the decompressed size. Fails with step `"verify"` (or `"read"`).
   */
  readonly verifyGzip: (path: string, expectedBytes?: number) => Effect.Effect<number, CompressError>
}

/** The compression service. */
export class Compressor extends Context.Tag("effect-logrotate/Compressor")<Compressor, Service>() {}

const DEFAULT_CHUNK_SIZE = 64 * 1024
/** Default `wholeFileMaxBytes`. */
export const DEFAULT_WHOLE_FILE_MAX_BYTES = 1024 * 1024

/**
 * `zlib.gzip` on the thread pool, in one round trip for typical logs: zlib's output buffer is
 * sized for a 4:1 ratio (16 KiB to 256 KiB) instead of its fixed 16 KiB, each fill of which
 * costs a round trip.
 */
const gzipBuffer = (data: Uint8Array, level: number): Effect.Effect<Buffer, unknown> =>
  Effect.async<Buffer, unknown>((resume) => {
    const chunkSize = Math.min(256 * 1024, Math.max(16 * 1024, Math.ceil(data.length / 4)))
    zlib.gzip(data, { level, chunkSize }, (error, out) => resume(error ? Effect.fail(error) : Effect.succeed(out)))
  })

/**
 * Writes `chunk` to a zlib stream and waits until zlib has consumed it (so the caller may
 * reuse it); `undefined` ends the stream and waits until all output has been emitted.
 */
const feed = (z: zlib.Gzip | zlib.Gunzip, chunk: Uint8Array | undefined): Effect.Effect<void, unknown> =>
  Effect.async<void, unknown>((resume) => {
    let settled = false
    const settle = (error?: unknown) => {
      if (settled) return
      settled = true
      z.off("error", settle)
      z.off("end", onEnd)
      resume(error === undefined || error === null ? Effect.void : Effect.fail(error))
    }
    const onEnd = () => settle()
    z.once("error", settle)
    if (chunk === undefined) {
      z.once("end", onEnd)
      z.end()
    } else {
      z.write(chunk, settle)
    }
  })

/**
 * Builds the service over the `FileSystem` in context.
 *
 * @example
 * ```ts
 * const compressor = yield* Compressor.make({ level: 9 })
 * ```
 */
export const make = (options: Options = {}): Effect.Effect<Service, never, FileSystem.FileSystem> =>
  Effect.map(FileSystem.FileSystem, (fs): Service => {
    const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE
    const level = options.level ?? zlib.constants.Z_DEFAULT_COMPRESSION
    const wholeFileMaxBytes = Math.max(0, options.wholeFileMaxBytes ?? DEFAULT_WHOLE_FILE_MAX_BYTES)

    /**
     * Streams `path` through `transform`: each chunk is read into one reused buffer, written to
     * zlib, and the next read waits until zlib has consumed it; the output so far then goes to
     * `emit`. Memory is one input chunk plus its output, whatever the file size. (Reading with
     * `fs.stream`, a fresh 64 KiB buffer per chunk, let RSS grow by about half the file size
     * before the GC caught up, measured with bench/sweep.ts --big-mib.) Returns the bytes read.
     */
    const pump = (
      path: string,
      transform: () => zlib.Gzip | zlib.Gunzip,
      zlibStep: CompressStep,
      emit: (chunk: Buffer) => Effect.Effect<void, CompressError>
    ): Effect.Effect<number, CompressError, Scope.Scope> =>
      Effect.gen(function* () {
        const fail = (step: CompressStep) => (cause: unknown) => new CompressError({ path, step, cause })
        const source = yield* fs.open(path, { flag: "r" }).pipe(Effect.mapError(fail("read")))
        const z = yield* Effect.acquireRelease(Effect.sync(transform), (z) => Effect.sync(() => z.destroy()))
        const output: Array<Buffer> = []
        z.on("data", (chunk: Buffer) => void output.push(chunk))
        z.on("error", () => {}) // reported through feed; without a listener an error would crash the process
        const flush = Effect.suspend(() => Effect.forEach(output.splice(0), emit, { discard: true }))
        const buffer = new Uint8Array(chunkSize)
        let bytesIn = 0
        while (true) {
          const n = Number(yield* source.read(buffer).pipe(Effect.mapError(fail("read"))))
          if (n === 0) break
          bytesIn += n
          yield* feed(z, buffer.subarray(0, n)).pipe(Effect.mapError(fail(zlibStep)))
          yield* flush
        }
        yield* feed(z, undefined).pipe(Effect.mapError(fail(zlibStep)))
        yield* flush
        return bytesIn
      })

    const gzipFile = (path: string, options: GzipOptions = {}): Effect.Effect<Compressed, CompressError> => Effect.suspend(() => {
      const withCpu = options.cpu ? options.cpu.withPermits(1) : <A, E, R>(self: Effect.Effect<A, E, R>) => self
      const tmp = path + TEMP_SUFFIX
      const gzip = path + GZIP_SUFFIX
      const fail = (step: CompressStep) => (cause: unknown) => new CompressError({ path, step, cause })
      // Set before the exclusive open, as an open interrupted late may still have created the file;
      // cleared when the open finds a .gz.tmp that is someone else's, and once renamed.
      let ownsTemp = false

      const openTemp = Effect.suspend(() => {
        ownsTemp = true
        return fs.open(tmp, { flag: "wx", mode: 0o600 }).pipe(
          Effect.tapError((e) => Effect.sync(() => void (ownsTemp = !(e._tag === "SystemError" && e.reason === "AlreadyExists")))),
          Effect.mapError(fail("open"))
        )
      })

      /**
       * Metadata goes on the temp file before the fsync, so the rename publishes a .gz that is
       * complete in every respect, and durable with its mode and mtime.
       */
      const finishTemp = (file: FileSystem.File, info: FileSystem.File.Info) =>
        Effect.gen(function* () {
          yield* fs.chmod(tmp, info.mode & 0o7777).pipe(Effect.mapError(fail("chmod")))
          const mtime = Option.getOrElse(info.mtime, () => new Date())
          yield* fs.utimes(tmp, Option.getOrElse(info.atime, () => mtime), mtime).pipe(Effect.mapError(fail("utimes")))
          yield* file.sync.pipe(Effect.mapError(fail("sync")))
        })

      /** Small file: one read, one zlib call, one write. Nothing is created until the gzip is in memory. */
      const writeWhole = (info: FileSystem.File.Info) => Effect.scoped(Effect.gen(function* () {
        const data = yield* fs.readFile(path).pipe(Effect.mapError(fail("read")))
        if (data.length !== Number(info.size)) {
          return yield* Effect.fail(fail("read")(`file changed while compressing (${info.size} -> ${data.length} bytes)`))
        }
        const bytesIn = data.length
        const gz = yield* withCpu(gzipBuffer(data, level)).pipe(Effect.mapError(fail("gzip")))
        const file = yield* openTemp
        yield* file.writeAll(gz).pipe(Effect.mapError(fail("write")))
        yield* finishTemp(file, info)
        return { bytesIn, bytesOut: gz.length }
      }))

      /** Large file: streamed through zlib in bounded memory. */
      const writeStreamed = (info: FileSystem.File.Info) => Effect.scoped(Effect.gen(function* () {
        const file = yield* openTemp
        let bytesOut = 0
        const bytesIn = yield* withCpu(Effect.scoped(pump(path, () => zlib.createGzip({ level }), "gzip", (chunk) =>
          Effect.zipRight(file.writeAll(chunk), Effect.sync(() => void (bytesOut += chunk.length))).pipe(
            Effect.mapError(fail("write"))
          ))))
        yield* finishTemp(file, info)
        return { bytesIn, bytesOut }
      }))

      return Effect.gen(function* () {
        // A fresh stat, just before reading: the size decides whether the file is read whole, so
        // a stale one (a listing's) could let a file that has grown since be read whole.
        const info = yield* fs.stat(path).pipe(Effect.mapError(fail("stat")))
        if (info.type !== "File") return yield* Effect.fail(fail("stat")(`not a regular file (${info.type})`))
        const { bytesIn, bytesOut } = Number(info.size) <= wholeFileMaxBytes
          ? yield* writeWhole(info)
          : yield* writeStreamed(info)
        // Last look before publishing: a file written to since the stat would lose those writes.
        const after = yield* fs.stat(path).pipe(Effect.mapError(fail("stat")))
        const mtime = (i: FileSystem.File.Info) => Option.getOrUndefined(Option.map(i.mtime, (d) => d.getTime()))
        if (after.size !== info.size || bytesIn !== Number(info.size) || mtime(after) !== mtime(info)) {
          return yield* Effect.fail(fail("read")(`file changed while compressing (${info.size} -> ${after.size} bytes)`))
        }
        yield* Effect.uninterruptible(Effect.gen(function* () {
          yield* fs.rename(tmp, gzip).pipe(Effect.mapError(fail("rename")))
          ownsTemp = false
          yield* fs.remove(path).pipe(Effect.mapError(fail("remove")))
        }))
        return { path, gzip, bytesIn, bytesOut }
      }).pipe(
        Effect.onExit((exit) =>
          Exit.isFailure(exit) && ownsTemp ? Effect.ignore(fs.remove(tmp, { force: true })) : Effect.void
        ),
        Effect.withSpan("Compressor.gzipFile", { attributes: { path }, captureStackTrace: false })
      )
    })

    const verifyGzip = (path: string, expectedBytes?: number): Effect.Effect<number, CompressError> => {
      const fail = (step: CompressStep) => (cause: unknown) => new CompressError({ path, step, cause })
      return Effect.gen(function* () {
        let decompressed = 0
        const compressed = yield* pump(path, () => zlib.createGunzip(), "verify", (chunk) =>
          Effect.sync(() => void (decompressed += chunk.length)))
        if (compressed === 0) return yield* Effect.fail(fail("verify")("empty file, not a gzip stream"))
        if (expectedBytes !== undefined && decompressed !== expectedBytes) {
          return yield* Effect.fail(
            fail("verify")(`decompresses to ${decompressed} bytes, expected ${expectedBytes}`)
          )
        }
        return decompressed
      }).pipe(Effect.scoped)
    }

    return { gzipFile, verifyGzip }
  })

/**
 * The compressor over the `FileSystem` in context (Node's or the in-memory one).
 *
 * @example
 * ```ts
 * Compressor.layer.pipe(Layer.provide(NodeFileSystem.layer))
 * ```
 */
export const layer: Layer.Layer<Compressor, never, FileSystem.FileSystem> = Layer.effect(Compressor, make())

/**
 * The compressor with options (chunk size, level).
 *
 * @example
 * ```ts
 * Compressor.layerWith({ level: 1 }).pipe(Layer.provide(NodeFileSystem.layer))
 * ```
 */
export const layerWith = (options: Options): Layer.Layer<Compressor, never, FileSystem.FileSystem> =>
  Layer.effect(Compressor, make(options))

/**
 * Compresses a file with the `Compressor` in context.
 *
 * @example
 * ```ts
 * yield* Compressor.gzipFile("/var/log/relay/app-2026-01-01.ndjson")
 * ```
 */
export const gzipFile = (path: string, options?: GzipOptions): Effect.Effect<Compressed, CompressError, Compressor> =>
  Effect.flatMap(Compressor, (c) => c.gzipFile(path, options))

/**
 * Checks a `.gz` with the `Compressor` in context.
 *
 * @example
 * ```ts
 * const bytes = yield* Compressor.verifyGzip("/var/log/relay/app-2026-01-01.ndjson.gz")
 * ```
 */
export const verifyGzip = (path: string, expectedBytes?: number): Effect.Effect<number, CompressError, Compressor> =>
  Effect.flatMap(Compressor, (c) => c.verifyGzip(path, expectedBytes))
