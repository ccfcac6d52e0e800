/**
 * Gzip compression of a daily file, crash- and interrupt-safe, in bounded memory, acting only
 * on the file that was checked (the directory may be writable by other users).
 *
 * `gzipFile(path, { expect })` opens `path` with `O_NOFOLLOW` (a symbolic link fails) and
 * checks with `fstat` that it is a regular file, with the device and inode the caller probed
 * (`expect`), then reads it through that descriptor only. It writes the gzip into
 * `path.gz.tmp`, created with `O_CREAT|O_EXCL|O_NOFOLLOW` and mode 0600, and through that
 * descriptor gives it the original's owner and group (`fchown`, whenever they differ from the
 * temp's, as gzip does), permission bits and times, and fsyncs it. Only root can give a file
 * another user's ownership: a caller that is not root fails such a compression with step
 * `"chown"` and keeps the original, where gzip would keep a `.gz` owned by the caller; a `.gz`
 * never changes hands silently. It checks the original did not change meanwhile (size and
 * mtime, by `fstat`), publishes with `link(path.gz.tmp, path.gz)` (never replaces: an existing
 * `path.gz` fails with step `"link"` and is left alone), checks that what `path.gz` now names
 * is the inode it wrote (`lstat`; a temp swapped for a symlink is caught here, and the new
 * name removed), unlinks the temp, fsyncs the directory, and removes `path` only if the name
 * still has the inode it read (`lstat`).
 *
 * If any step fails or the fiber is interrupted before the link, the `.gz.tmp` is removed and
 * the original is untouched (a temp, or a wrongly published `.gz`, that cannot be removed is
 * named in the error's `cleanup`, "could not remove X: …"); from the link to the removal of the original it runs
 * uninterruptibly. So at every instant there is the original, a complete `.gz`, or both,
 * never neither. All file access goes through `SafeFs` (`layerNode`, or `layerMemory` over
 * `MemoryFileSystem`).
 *
 * `finishCompression(path, …)` is for an `x.ndjson` found next to an `x.ndjson.gz` it did not
 * write: it streams the gunzipped `.gz` and the original side by side and removes the
 * original only if they are byte-equal (and the `.gz` a complete gzip stream).
 *
 * Two ways to produce the bytes, chosen by the size `fstat` reports:
 * - up to `wholeFileMaxBytes` (default 1 MiB, the common case for daily NDJSON files): the
 *   file is read whole by the open step, gzipped by one asynchronous `zlib.gzip` (libuv's
 *   thread pool), written by one write. About 19 system calls per file: open, fstat, read,
 *   create, write, fstat, fchmod, futimes, fsync, fstat, close ×2 (the original's after one
 *   fstat, before anything is published), link, lstat, unlink, directory open+fsync+close,
 *   lstat, unlink (plus fchown when the owner differs from the sweeper's). They go through
 *   `SafeFs`'s composite calls (`SafeFs.Composite`): on `SafeFs.layerNode` each run of quick
 *   calls is one step (open+fstat+read; create+write+fstat+fchown+fchmod+futimes;
 *   link+lstat+unlink; lstat+unlink), on any other `SafeFs` the same calls one by one, so a
 *   wrapper that fails each call meets every one. The read buffers (up to 256 KiB) are
 *   reused once zlib is done with them. Memory: the file and its gzip, so at most about twice
 *   `wholeFileMaxBytes` per compression in flight.
 * - larger files stream: each chunk is read into one reused `chunkSize` buffer and fed to
 *   zlib, and the next read waits until zlib has consumed it.
 *
 * It assumes nothing writes to a file old enough to be compressed; a file whose size or mtime
 * changes while being compressed fails with step `"changed"`. Two compressions of one file at
 * once are excluded by the `Sweeper`'s directory lock, or for a `RotatingAppender`'s numbered
 * backups by its claim on the file and by stopping its compression before each rotation (and a
 * second one fails on the exclusive create of the `.gz.tmp`).
 *
 * In context: `layer` needs `SafeFs` (`SafeFs.layerNode`, or `SafeFs.layerMemory` in tests); it
 * fails with `CompressError`, whose `step` says how far it got (and so what is on disk).
 *
 * @since 0.1.0
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { Compressor, SafeFs } from "effect-logrotate"
 *
 * const program = Effect.gen(function* () {
 *   const compressor = yield* Compressor.Compressor
 *   const { bytesIn, bytesOut } = yield* compressor.gzipFile("/var/log/relay/app-2026-01-01.ndjson")
 * }).pipe(Effect.provide(Compressor.layer.pipe(Layer.provide(SafeFs.layerNode))))
 * ```
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import type { PlatformError } from "@effect/platform/Error"
import * as Path from "node:path"
import * as zlib from "node:zlib"
import { GZIP_SUFFIX, TEMP_SUFFIX } from "./DatedFile.js"
import { CompressError, type CompressStep } from "../Errors.js"
import * as SafeFs from "../platform/SafeFs.js"

/**
 * A file's identity as probed: the compression acts only on a file with this device and inode.
 *
 * @since 0.1.0
 */
export interface Identity {
  readonly dev: number
  readonly ino: number
}

/**
 * The outcome of one compression.
 *
 * @since 0.1.0
 */
export interface Compressed {
  /** The original, now removed. */
  readonly path: string
  /** `path.gz`. */
  readonly gzip: string
  /** Bytes read from the original. */
  readonly bytesIn: number
  /** Bytes of the `.gz`. */
  readonly bytesOut: number
  /**
   * `"written"`: this call wrote the `.gz`; `"compared"`: an existing `.gz` was gunzipped and
   * found byte-equal to the original before the original was removed.
   */
  readonly check: "written" | "compared"
}

/** @since 0.1.0 */
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
  /**
   * A span (`Compressor.gzipFile`, attribute `path`) around each compression. Default
   * `false`: a span per file cost 5–9% of the sweeping thread (docs/performance.md, "Sweep");
   * `Sweeper.sweep` has its own span either way.
   *
   * @since 0.2.0
   */
  readonly traceFiles?: boolean
}

/** @since 0.1.0 */
export interface GzipOptions {
  /**
   * One permit of it is held while the file's bytes go through zlib: the one zlib call for a
   * file read whole, the whole read-gzip-write stream for a larger one (or the comparison of
   * `finishCompression`). A caller compressing many files at once can so bound the CPU-bound
   * part apart from the file-system round trips around it; `Sweeper` does. Default: no bound.
   */
  readonly cpu?: Effect.Semaphore
  /** The original's device and inode as probed; a file with another identity is not touched (step `"stat"`). */
  readonly expect?: Identity
}

/** @since 0.1.0 */
export interface FinishOptions extends GzipOptions {
  /** The `.gz`'s device and inode as probed. */
  readonly expectGzip?: Identity
}

/** @since 0.1.0 */
export interface Service {
  /** Compresses `path` into `path.gz` and removes `path`. */
  readonly gzipFile: (path: string, options?: GzipOptions) => Effect.Effect<Compressed, CompressError>
  /**
   * `path` next to an existing `path.gz`: removes `path` only when the gunzipped `.gz` is
   * byte-equal to it (step `"verify"` otherwise, both kept).
   */
  readonly finishCompression: (path: string, options?: FinishOptions) => Effect.Effect<Compressed, CompressError>
}

/**
 * The compression service.
 *
 * @since 0.1.0
 */
export class Compressor extends Context.Tag("effect-logrotate/Compressor")<Compressor, Service>() {}

const DEFAULT_CHUNK_SIZE = 64 * 1024
/**
 * Default `wholeFileMaxBytes`.
 *
 * @since 0.1.0
 */
export const DEFAULT_WHOLE_FILE_MAX_BYTES = 1024 * 1024

/**
 * `zlib.gzip` on the thread pool, in one round trip for typical logs: zlib's output buffer is
 * sized for a 4:1 ratio (16 KiB to 256 KiB) instead of its fixed 16 KiB, each fill of which
 * costs a round trip.
 */
const gzipBuffer = (data: Uint8Array, level: number, done: () => void): Effect.Effect<Buffer, unknown> =>
  Effect.async<Buffer, unknown>((resume) => {
    const chunkSize = Math.min(256 * 1024, Math.max(16 * 1024, Math.ceil(data.length / 4)))
    zlib.gzip(data, { level, chunkSize }, (error, out) => {
      done()
      resume(error ? Effect.fail(error) : Effect.succeed(out))
    })
  })

/** Read buffers up to this size are kept for the next file (files read whole are mostly this small). */
const POOLED_BUFFER_BYTES = 256 * 1024
/** At most this many kept read buffers (one per compression in flight, for the default `ioConcurrency`). */
const POOLED_BUFFERS = 16

/**
 * Read buffers for whole files, reused: a file's buffer goes back once zlib is done with it
 * (zlib's own callback, so an interrupted compression cannot hand zlib's input to the next
 * file). A fresh 64 KiB buffer per file is freed only by a GC, which a sweep that allocates
 * little on the JS heap runs rarely: 800 of them (51 MiB) were alive at once in the bench.
 */
const bufferPool = () => {
  const free: Array<Uint8Array> = []
  return {
    take: (size: number): Uint8Array => {
      if (size > POOLED_BUFFER_BYTES) return new Uint8Array(size)
      for (let i = free.length - 1; i >= 0; i--) {
        if (free[i]!.length >= size) return free.splice(i, 1)[0]!
      }
      return new Uint8Array(size <= 64 * 1024 ? 64 * 1024 : POOLED_BUFFER_BYTES)
    },
    give: (buffer: Uint8Array) => {
      if (buffer.buffer.byteLength <= POOLED_BUFFER_BYTES && free.length < POOLED_BUFFERS) {
        free.push(new Uint8Array(buffer.buffer, 0, buffer.buffer.byteLength))
      }
    }
  }
}

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

const isNotFound = (e: unknown) =>
  typeof e === "object" && e !== null && (e as { reason?: unknown }).reason === "NotFound"

/** `error`, noting that `path` could not be removed afterwards (`error.cause` stays the primary failure). */
const withCleanup = (error: CompressError, path: string, cause: unknown) =>
  new CompressError({
    path: error.path, step: error.step, cause: error.cause,
    cleanup: [...(error.cleanup ?? []), `could not remove ${path}: ${cause instanceof Error ? cause.message : String(cause)}`]
  })

/** The `CompressError` of a step on `path`. */
const failAt = (path: string) => (step: CompressStep) => (cause: unknown) => new CompressError({ path, step, cause })

const sameFile = (a: Identity, b: Identity) => a.dev === b.dev && a.ino === b.ino

/** The step of each call of `createWritten`. */
const CREATE_STEPS: Record<SafeFs.Call, CompressStep> = {
  create: "open", write: "write", fstat: "stat", fchown: "chown", fchmod: "chmod", futimes: "utimes",
  open: "read", read: "read", link: "link", lstat: "stat", unlink: "unlink"
}

/** The open of the original failed: a symbolic link is said so. */
const openFailed = (path: string, fail: ReturnType<typeof failAt>, e: PlatformError) =>
  fail("read")(e._tag === "SystemError" && e.description === "ELOOP" ? `${path} is a symbolic link; not followed` : e)

/** The opened original must be a regular file with the identity probed. */
const checkOpened = (path: string, info: SafeFs.Stat, fail: ReturnType<typeof failAt>, expect?: Identity): Effect.Effect<void, CompressError> =>
  info.type !== "File" ? Effect.fail(fail("stat")(`${path} is ${describeType(info.type)}`))
    : expect && !sameFile(info, expect)
    ? Effect.fail(fail("stat")(`${path} was replaced since it was listed (inode ${expect.ino} -> ${info.ino}); not touched`))
    : Effect.void
const describeType = (t: SafeFs.Stat["type"]) => t === "SymbolicLink" ? "a symbolic link" : t === "Directory" ? "a directory" : "not a regular file"

/**
 * Builds the service over the `SafeFs` in context.
 *
 * @example
 * ```ts
 * const compressor = yield* Compressor.make({ level: 9 })
 * ```
 *
 * @since 0.1.0
 */
export const make = (options: Options = {}): Effect.Effect<Service, never, SafeFs.SafeFs> =>
  Effect.map(SafeFs.SafeFs, (safe): Service => {
    const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE
    const level = options.level ?? zlib.constants.Z_DEFAULT_COMPRESSION
    const wholeFileMaxBytes = Math.max(0, options.wholeFileMaxBytes ?? DEFAULT_WHOLE_FILE_MAX_BYTES)
    const traceFiles = options.traceFiles ?? false
    const steps = safe.composite ?? SafeFs.composite(safe)
    const buffers = bufferPool()
    const noBound = <A, E, R>(self: Effect.Effect<A, E, R>) => self
    const isAlreadyExists = (e: unknown) =>
      typeof e === "object" && e !== null && (e as { reason?: unknown }).reason === "AlreadyExists"

    /**
     * Streams `source` through `transform`: each chunk is read into one reused buffer, written
     * to zlib, and the next read waits until zlib has consumed it; the output so far then goes
     * to `emit`. Memory is one input chunk plus its output, whatever the file size. Returns the
     * bytes read.
     */
    const pump = (
      path: string,
      source: SafeFs.Handle,
      transform: () => zlib.Gzip | zlib.Gunzip,
      zlibStep: CompressStep,
      emit: (chunk: Buffer) => Effect.Effect<void, CompressError>
    ) =>
      Effect.gen(function* () {
        const fail = failAt(path)
        const z = yield* Effect.acquireRelease(Effect.sync(transform), (z) => Effect.sync(() => z.destroy()))
        const output: Array<Buffer> = []
        z.on("data", (chunk: Buffer) => void output.push(chunk))
        z.on("error", () => {}) // reported through feed; without a listener an error would crash the process
        const flush = Effect.suspend(() => Effect.forEach(output.splice(0), emit, { discard: true }))
        const buffer = new Uint8Array(chunkSize)
        let bytesIn = 0
        while (true) {
          const n = yield* source.read(buffer).pipe(Effect.mapError(fail("read")))
          if (n === 0) break
          bytesIn += n
          yield* feed(z, buffer.subarray(0, n)).pipe(Effect.mapError(fail(zlibStep)))
          yield* flush
        }
        yield* feed(z, undefined).pipe(Effect.mapError(fail(zlibStep)))
        yield* flush
        return bytesIn
      })

    /** Opens `path` without following a link and checks it is the regular file `expect` names. */
    const openChecked = (path: string, fail: ReturnType<typeof failAt>, expect?: Identity) =>
      Effect.gen(function* () {
        const handle = yield* safe.openRead(path).pipe(Effect.mapError((e) => openFailed(path, fail, e)))
        const info = yield* handle.stat.pipe(Effect.mapError(fail("stat")))
        yield* checkOpened(path, info, fail, expect)
        return { handle, info }
      })

    /** Removes `path` only if the name still has the identity of the file that was read. */
    const removeOriginal = (path: string, read: Identity, fail: ReturnType<typeof failAt>) =>
      Effect.flatMap(
        Effect.mapError(steps.unlinkIfSame(path, read), (e) => fail("remove")(e.error)),
        (now) => sameFile(now, read) ? Effect.void
          : Effect.fail(fail("remove")(`${path} was replaced since it was read (inode ${read.ino} -> ${now.ino}); kept`))
      )

    const gzipFile = (path: string, options: GzipOptions = {}): Effect.Effect<Compressed, CompressError> => Effect.suspend(() => {
      const withCpu = options.cpu ? options.cpu.withPermits(1) : noBound
      const tmp = path + TEMP_SUFFIX
      const gzip = path + GZIP_SUFFIX
      const fail = failAt(path)
      // Set before the exclusive create, as a create interrupted late may still have made the
      // file; cleared when the create finds a .gz.tmp that is someone else's, and once published.
      let ownsTemp = false

      const createTemp = Effect.suspend(() => {
        ownsTemp = true
        return safe.createExclusive(tmp, 0o600).pipe(
          Effect.tapError((e) => Effect.sync(() => void (ownsTemp = !isAlreadyExists(e)))),
          Effect.mapError(fail("open"))
        )
      })

      /**
       * Owner, mode and times go on the temp through its descriptor before the fsync, so the
       * link publishes a .gz that is complete in every respect. chown before chmod (chown may
       * clear set-id bits). Returns the temp's identity.
       */
      const finishTemp = (file: SafeFs.Handle, info: SafeFs.Stat) =>
        Effect.gen(function* () {
          const mine = yield* file.stat.pipe(Effect.mapError(fail("stat")))
          if (mine.uid !== info.uid || mine.gid !== info.gid) {
            yield* file.chown(info.uid, info.gid).pipe(Effect.mapError(fail("chown")))
          }
          yield* file.chmod(info.mode & 0o7777).pipe(Effect.mapError(fail("chmod")))
          yield* file.utimes(info.atimeMs, info.mtimeMs).pipe(Effect.mapError(fail("utimes")))
          yield* file.sync.pipe(Effect.mapError(fail("sync")))
          return mine
        })

      /**
       * Small file, read whole by the open step: one zlib call, then the temp created, written
       * and given owner, mode and times in one step, and fsynced (and closed). Nothing is
       * created until the gzip is in memory. Returns the temp's identity.
       */
      const writeWhole = (info: SafeFs.Stat, data: Uint8Array) => Effect.gen(function* () {
        if (data.length !== info.size) {
          return yield* Effect.fail(fail("changed")(`file changed while compressing (${info.size} -> ${data.length} bytes)`))
        }
        const gz = yield* withCpu(gzipBuffer(data, level, () => buffers.give(data))).pipe(Effect.mapError(fail("gzip")))
        // Set before the exclusive create, as a create interrupted late may still have made the
        // file; cleared when the create finds a .gz.tmp that is someone else's, and once published.
        ownsTemp = true
        const temp = yield* steps.createWritten(tmp, gz, info, ({ handle, stat }) =>
          Effect.as(Effect.mapError(handle.sync, fail("sync")), stat)
        ).pipe(Effect.mapError((e) => {
          if (e._tag !== "SafeFsCallError") return e
          if (e.call === "create" && isAlreadyExists(e.error)) ownsTemp = false
          return fail(CREATE_STEPS[e.call])(e.error)
        }))
        return { bytesIn: data.length, bytesOut: gz.length, temp }
      })

      /** Large file: streamed through zlib in bounded memory. */
      const writeStreamed = (source: SafeFs.Handle, info: SafeFs.Stat) => Effect.scoped(Effect.gen(function* () {
        const file = yield* createTemp
        let bytesOut = 0
        const bytesIn = yield* withCpu(Effect.scoped(pump(path, source, () => zlib.createGzip({ level }), "gzip", (chunk) =>
          Effect.zipRight(file.write(chunk), Effect.sync(() => void (bytesOut += chunk.length))).pipe(
            Effect.mapError(fail("write"))
          ))))
        const temp = yield* finishTemp(file, info)
        return { bytesIn, bytesOut, temp }
      }))

      /**
       * Everything up to the link, with the original open (and closed when it ends, so before
       * anything is published or removed: its close is then quick, as it still has its name).
       * Returns the original's fstat and the temp's identity.
       */
      const write = steps.openReadWhole(
        path,
        { maxBytes: wholeFileMaxBytes, expect: options.expect, buffer: buffers.take },
        ({ data, handle: source, stat: info }) => Effect.gen(function* () {
          yield* checkOpened(path, info, fail, options.expect)
          const { bytesIn, bytesOut, temp } = data !== undefined
            ? yield* writeWhole(info, data)
            : yield* writeStreamed(source, info)
          // Last look before publishing: a file written to since the open would lose those writes.
          const after = yield* source.stat.pipe(Effect.mapError(fail("stat")))
          if (after.size !== info.size || bytesIn !== info.size || after.mtimeMs !== info.mtimeMs) {
            return yield* Effect.fail(fail("changed")(`file changed while compressing (${info.size} -> ${after.size} bytes)`))
          }
          return { info, bytesIn, bytesOut, temp }
        })
      ).pipe(Effect.mapError((e) => e._tag !== "SafeFsCallError" ? e
        : e.call === "open" ? openFailed(path, fail, e.error)
        : fail(e.call === "fstat" ? "stat" : "read")(e.error)))

      /** link, check that the published name is the inode written, unlink the temp; nothing is removed before. */
      const publish = (temp: Identity) => Effect.gen(function* () {
        const published = yield* Effect.either(steps.linkPublish(tmp, gzip, temp))
        if (published._tag === "Left" && published.left.call === "link") {
          const e = published.left.error
          return yield* Effect.fail(fail("link")(isAlreadyExists(e) ? `${gzip} already exists; not replaced` : e))
        }
        if (published._tag === "Left" && published.left.call === "unlink") {
          ownsTemp = false
          return yield* Effect.fail(fail("unlink")(published.left.error))
        }
        if (published._tag === "Left" || !sameFile(published.right, temp) || published.right.type !== "File") {
          // The name was created by this link: it is ours to remove, whatever it now is.
          const removed = yield* Effect.either(safe.unlink(gzip))
          const error = fail("publish")(published._tag === "Left" ? published.left.error
            : `${tmp} was replaced while compressing (${gzip} would have been ${describeType(published.right.type)} ` +
              `with inode ${published.right.ino}, not the file written, inode ${temp.ino}); nothing published`)
          return yield* Effect.fail(removed._tag === "Left" ? withCleanup(error, gzip, removed.left) : error)
        }
        ownsTemp = false
      })

      const compress = Effect.gen(function* () {
        const { info, bytesIn, bytesOut, temp } = yield* write
        yield* Effect.uninterruptible(Effect.gen(function* () {
          yield* publish(temp)
          yield* safe.syncDirectory(Path.dirname(path)).pipe(Effect.mapError(fail("sync")))
          yield* removeOriginal(path, info, fail)
        }))
        return { path, gzip, bytesIn, bytesOut, check: "written" } satisfies Compressed
      }).pipe(
        // A failure reports a temp it could not remove; an interruption or defect has no error to add it to.
        Effect.catchAll((error) => Effect.suspend(() => {
          if (!ownsTemp) return Effect.fail(error)
          ownsTemp = false
          return Effect.flatMap(Effect.either(safe.unlink(tmp)), (removed) => Effect.fail(
            removed._tag === "Left" && !isNotFound(removed.left) ? withCleanup(error, tmp, removed.left) : error))
        })),
        Effect.onExit((exit) =>
          Exit.isFailure(exit) && ownsTemp ? Effect.ignore(safe.unlink(tmp)) : Effect.void
        )
      )
      return traceFiles ? Effect.withSpan(compress, "Compressor.gzipFile", { attributes: { path }, captureStackTrace: false }) : compress
    })

    const finishCompression = (path: string, options: FinishOptions = {}): Effect.Effect<Compressed, CompressError> => {
      const gzip = path + GZIP_SUFFIX
      const fail = failAt(path)
      const failGz = failAt(gzip)
      const withCpu = options.cpu ? options.cpu.withPermits(1) : noBound
      return Effect.gen(function* () {
        const original = yield* openChecked(path, fail, options.expect)
        const gz = yield* openChecked(gzip, failGz, options.expectGzip)
        // Each chunk gunzip emits is compared with as many bytes read from the original.
        const buffer = new Uint8Array(chunkSize)
        let compared = 0
        const compare = (chunk: Buffer): Effect.Effect<void, CompressError> => Effect.gen(function* () {
          for (let at = 0; at < chunk.length;) {
            const want = Math.min(buffer.length, chunk.length - at)
            const n = yield* original.handle.read(buffer.subarray(0, want)).pipe(Effect.mapError(fail("read")))
            if (n === 0 || Buffer.compare(buffer.subarray(0, n), chunk.subarray(at, at + n)) !== 0) {
              let i = 0
              while (i < n && buffer[i] === chunk[at + i]) i++
              return yield* Effect.fail(failGz("verify")(n === 0
                ? `${gzip} decompresses to more than the ${compared} bytes of ${path}; both kept`
                : `${gzip} does not decompress to the bytes of ${path} (they differ at byte ${compared + i}); both kept`))
            }
            at += n
            compared += n
          }
        })
        const gzBytes = yield* withCpu(Effect.scoped(pump(gzip, gz.handle, () => zlib.createGunzip(), "verify", compare)))
        if (gzBytes === 0) return yield* Effect.fail(failGz("verify")("empty file, not a gzip stream; both kept"))
        const rest = yield* original.handle.read(buffer.subarray(0, 1)).pipe(Effect.mapError(fail("read")))
        if (rest !== 0 || compared !== original.info.size) {
          return yield* Effect.fail(failGz("verify")(
            `${gzip} decompresses to ${compared} bytes, a prefix of ${path} (${original.info.size} bytes); both kept`))
        }
        yield* Effect.uninterruptible(removeOriginal(path, original.info, fail))
        return { path, gzip, bytesIn: compared, bytesOut: gz.info.size, check: "compared" } satisfies Compressed
      }).pipe(Effect.scoped, Effect.withSpan("Compressor.finishCompression", { attributes: { path }, captureStackTrace: false }))
    }

    return { gzipFile, finishCompression }
  })

/**
 * The compressor over the `SafeFs` in context (`SafeFs.layerNode`, or `SafeFs.layerMemory`).
 *
 * @example
 * ```ts
 * Compressor.layer.pipe(Layer.provide(SafeFs.layerNode))
 * ```
 *
 * @since 0.1.0
 */
export const layer: Layer.Layer<Compressor, never, SafeFs.SafeFs> = Layer.effect(Compressor, make())

/**
 * The compressor with options (chunk size, level).
 *
 * @example
 * ```ts
 * Compressor.layerWith({ level: 1 }).pipe(Layer.provide(SafeFs.layerNode))
 * ```
 *
 * @since 0.1.0
 */
export const layerWith = (options: Options): Layer.Layer<Compressor, never, SafeFs.SafeFs> =>
  Layer.effect(Compressor, make(options))

/**
 * Compresses a file with the `Compressor` in context.
 *
 * @example
 * ```ts
 * yield* Compressor.gzipFile("/var/log/relay/app-2026-01-01.ndjson")
 * ```
 *
 * @since 0.1.0
 */
export const gzipFile = (path: string, options?: GzipOptions): Effect.Effect<Compressed, CompressError, Compressor> =>
  Effect.flatMap(Compressor, (c) => c.gzipFile(path, options))
