/**
 * `compress` (issue 12, item 5): numbered backups gzipped in the background, `.1` left plain
 * (logrotate's `compress` + `delaycompress`), through the crash-safe `Compressor`. Runs on the
 * in-memory FileSystem and on Node's, each instrumented so a test can pause or watch any call.
 */
import { FileSystem } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Deferred, Effect, FastCheck as fc, Fiber, Layer, Scope, Stream } from "effect"
import * as zlib from "node:zlib"
import * as LogEvents from "../../src/logging/LogEvents.js"
import * as RenameShift from "../../src/rotation/RenameShift.js"
import * as RotatingAppender from "../../src/rotation/RotatingAppender.js"
import * as RotationPolicy from "../../src/rotation/RotationPolicy.js"
import { planCompression } from "../../src/rotation/internal/BackupCompression.js"
import { lines, memoryLayer } from "../support/fileSystems.js"
import { fastCheckParameters } from "../support/faults.js"
import { type FaultMethod, fileSystems, Instrumented, memoryBase, retentionLayer, tempDir } from "../support/retention.js"

const NAME = "app.jsonl"
const policy = (maxBytes: number, maxFiles: number) => RotationPolicy.unsafeMake({ maxBytes, maxFiles, compress: true })
const joined = (ls: ReadonlyArray<string>) => ls.map((l) => l + "\n").join("")
const isLock = (name: string) => name.startsWith(".") && name.includes(".lock")

/** `{ name: bytes }` of the directory's files, lock files left out. */
const files = (dir: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const out: Record<string, Uint8Array> = {}
    for (const name of (yield* fs.readDirectory(dir)).filter((n) => !isLock(n)).sort()) out[name] = yield* fs.readFile(`${dir}/${name}`)
    return out
  })

/** What each log file holds as text, a `.gz` decompressed (its name kept, so the form shows). */
const decoded = (found: Record<string, Uint8Array>) =>
  Object.fromEntries(Object.entries(found).map(([name, bytes]) =>
    [name, Buffer.from(name.endsWith(".gz") ? zlib.gunzipSync(bytes) : bytes).toString()]))

/** The segments the size rule cuts `ls` into (all lines the same width): active last. */
const segments = (ls: ReadonlyArray<string>, perFile: number) => {
  const out: Array<string> = []
  for (let i = 0; i < ls.length; i += perFile) out.push(joined(ls.slice(i, i + perFile)))
  return out
}

/** The documented outcome: active = last segment, `.1` plain, `.2.gz` … up to `maxFiles`. */
const expected = (segs: ReadonlyArray<string>, maxFiles: number) => {
  const out: Record<string, string> = { [NAME]: segs[segs.length - 1]! }
  for (let i = 1; i <= Math.min(maxFiles, segs.length - 1); i++) {
    out[i === 1 ? `${NAME}.1` : `${NAME}.${i}.gz`] = segs[segs.length - 1 - i]!
  }
  return out
}

describe("planCompression (pure)", () => {
  it.each([
    { name: "nothing but .1: delaycompress leaves it plain", entries: ["a", "a.1"], plan: { removeTemp: [], finish: [], compress: [] } },
    { name: "plain backups from .2 up, lowest first", entries: ["a", "a.1", "a.4", "a.2", "a.3.gz"], plan: { removeTemp: [], finish: [], compress: ["a.2", "a.4"] } },
    { name: "a plain backup next to its .gz is finished (compared), not gzipped again", entries: ["a.1", "a.2", "a.2.gz", "a.3"],
      plan: { removeTemp: [], finish: ["a.2"], compress: ["a.3"] } },
    { name: "leftover temps are removed, their originals compressed", entries: ["a.1", "a.2", "a.2.gz.tmp", "a.1.gz.tmp"],
      plan: { removeTemp: ["a.1.gz.tmp", "a.2.gz.tmp"], finish: [], compress: ["a.2"] } },
    { name: "other names are left alone", entries: ["b.2", "a.x", "a.02", "ab.2", "a.2.gz.gz"], plan: { removeTemp: [], finish: [], compress: [] } }
  ])("$name", ({ entries, plan }) => {
    expect(planCompression("a", entries)).toEqual(plan)
  })
})

describe("the Compressor a compressing appender uses", () => {
  it.scoped("with only the MemoryFileSystem in context (no Compressor, no SafeFs), it compresses on that file system", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = "/logs"
      const ls = lines(9)
      yield* Effect.scoped(Effect.gen(function* () {
        const log = yield* RotatingAppender.make(`${dir}/${NAME}`, { policy: policy(30, 5) })
        yield* log.appendAll(ls)
      }))
      expect(decoded(yield* files(dir))).toEqual(expected(segments(ls, 3), 5))
      expect(yield* fs.exists(dir)).toBe(true)
    }).pipe(Effect.provide(memoryLayer())))
})

describe.each(fileSystems)("RotatingAppender with compress on $name", ({ layer }) => {
  const run = <A, E>(self: Effect.Effect<A, E, FileSystem.FileSystem | Scope.Scope | RenameShift.RenameShift | Instrumented>) =>
    self.pipe(Effect.provide(RenameShift.layer.pipe(Layer.provideMerge(layer()))))

  const writeLines = (dir: string, ls: ReadonlyArray<string>, maxBytes: number, maxFiles: number) =>
    Effect.scoped(Effect.gen(function* () {
      const log = yield* RotatingAppender.make(`${dir}/${NAME}`, { policy: policy(maxBytes, maxFiles) })
      for (const line of ls) yield* log.append(line)
    }))

  it.scoped("after N rotations: .1 plain, .2.gz … .maxFiles.gz, each decompressing to what was written; maxFiles counts both forms", () =>
    run(Effect.gen(function* () {
      for (const [count, maxFiles] of [[20, 4], [9, 5], [6, 1], [30, 3]] as const) {
        const dir = yield* tempDir
        const ls = lines(count, 9, `n${count}-`) // 10 bytes each: three a 30-byte file
        yield* writeLines(dir, ls, 30, maxFiles)
        const found = yield* files(dir)
        expect(decoded(found)).toEqual(expected(segments(ls, 3), maxFiles))
      }
    })))

  it.scoped("with a LogEvents layer, each backup compressed publishes Compressed (reason backup); the last one names a .gz on disk at close, with its size", () =>
    run(Effect.gen(function* () {
      const dir = yield* tempDir
      const ls = lines(20, 9, "ev-")
      const events = yield* LogEvents.make()
      const end = new LogEvents.Deleted({ path: "<end>", bytes: 0, reason: "end", at: new Date(0) })
      const seen = yield* Effect.fork(Stream.runCollect(Stream.takeWhile(yield* events.subscribe, (e) => e !== end)))
      yield* writeLines(dir, ls, 30, 4).pipe(Effect.provideService(LogEvents.LogEvents, events))
      yield* events.publish(end)
      const compressed = Chunk.toReadonlyArray(yield* Fiber.join(seen)).filter((e): e is LogEvents.Compressed => e._tag === "Compressed")
      expect(compressed.length).toBeGreaterThanOrEqual(1)
      for (const e of compressed) {
        expect([e.reason, e.gzip, /\.([2-9]|\d\d+)$/.test(e.path)]).toEqual(["backup", `${e.path}.gz`, true])
      }
      const last = compressed.at(-1)!
      const found = yield* files(dir)
      // The last rotation leaves a plain .2 to compress, so the last compression comes after it
      // and its name still holds: that .gz, with that size.
      const name = last.gzip.slice(dir.length + 1)
      expect([name in found, last.bytesAfter]).toEqual([true, found[name]?.length])
    })))

  it.scoped("lines appended one flush at a time: every rotation's backup is compressed by close, none twice", () =>
    run(Effect.gen(function* () {
      const dir = yield* tempDir
      const ls = lines(24)
      yield* Effect.scoped(Effect.gen(function* () {
        const log = yield* RotatingAppender.make(`${dir}/${NAME}`, { policy: policy(30, 6) })
        for (const line of ls) {
          yield* log.append(line)
          yield* log.flush
        }
      }))
      expect(decoded(yield* files(dir))).toEqual(expected(segments(ls, 3), 6))
    })))

  it.scoped("appends and rotations never wait for gzip: a compression held mid-write is stopped by the next rotation, its temp removed, and done again later", () =>
    run(Effect.gen(function* () {
      const tools = yield* Instrumented
      const dir = yield* tempDir
      const reached = yield* Deferred.make<void>()
      const never = yield* Deferred.make<void>()
      let held = false
      // The first write into a .gz.tmp waits for ever (as a very slow gzip would).
      tools.hook("write", /\.gz\.tmp$/, () => held ? Effect.void : Effect.suspend(() => {
        held = true
        return Effect.zipRight(Deferred.succeed(reached, undefined), Deferred.await(never))
      }))
      const ls = lines(15)
      yield* Effect.scoped(Effect.gen(function* () {
        const log = yield* RotatingAppender.make(`${dir}/${NAME}`, { policy: policy(30, 5) })
        yield* log.appendAll(ls.slice(0, 7)) // three files: .2 is due
        yield* log.flush
        yield* Deferred.await(reached)
        const fs = yield* FileSystem.FileSystem
        expect(yield* fs.exists(`${dir}/${NAME}.2.gz.tmp`)).toBe(true)
        // Two more rotations while that compression is held: they and the flush go through.
        yield* log.appendAll(ls.slice(7))
        yield* log.flush
      }))
      expect(held).toBe(true)
      expect(yield* Deferred.isDone(never)).toBe(false)
      expect(decoded(yield* files(dir))).toEqual(expected(segments(ls, 3), 5))
    })))

  it.scoped("a failed compression keeps the plain backup (a warning); the next open compresses it", () =>
    run(Effect.gen(function* () {
      const tools = yield* Instrumented
      const dir = yield* tempDir
      tools.inject({ method: "link", path: new RegExp(`${NAME}\\.2\\.gz$`), times: Infinity, reason: "PermissionDenied" })
      const ls = lines(9)
      yield* writeLines(dir, ls, 30, 5)
      const segs = segments(ls, 3)
      expect(decoded(yield* files(dir))).toEqual({ [NAME]: segs[2], [`${NAME}.1`]: segs[1], [`${NAME}.2`]: segs[0] })
      expect(tools.fired.length).toBeGreaterThan(0)
      tools.clearFaults()
      yield* writeLines(dir, [], 30, 5)
      expect(decoded(yield* files(dir))).toEqual(expected(segs, 5))
    })))

  it.scoped("what a crash leaves (a .gz.tmp, a .gz next to its original, a plain backup) is completed by the next open, nothing lost or counted twice", () =>
    run(Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* tempDir
      const seg = (n: number) => joined(lines(3, 9, `s${n}-`))
      yield* fs.writeFileString(`${dir}/${NAME}`, seg(0))
      yield* fs.writeFileString(`${dir}/${NAME}.1`, seg(1))
      yield* fs.writeFileString(`${dir}/${NAME}.2`, seg(2))
      yield* fs.writeFile(`${dir}/${NAME}.2.gz.tmp`, zlib.gzipSync(seg(2)).subarray(0, 10)) // torn temp
      yield* fs.writeFileString(`${dir}/${NAME}.3`, seg(3))
      yield* fs.writeFile(`${dir}/${NAME}.3.gz`, zlib.gzipSync(seg(3))) // published, original not yet removed
      yield* fs.writeFileString(`${dir}/${NAME}.4`, seg(4)) // never compressed
      yield* fs.writeFile(`${dir}/${NAME}.5.gz`, zlib.gzipSync(seg(5)))
      yield* writeLines(dir, [], 30, 5)
      expect(decoded(yield* files(dir))).toEqual({
        [NAME]: seg(0), [`${NAME}.1`]: seg(1), [`${NAME}.2.gz`]: seg(2), [`${NAME}.3.gz`]: seg(3),
        [`${NAME}.4.gz`]: seg(4), [`${NAME}.5.gz`]: seg(5)
      })
    })))

  it.scoped("a crash at any call of a backup's compression: every line is on disk (plain or complete .gz), and the next open ends in the documented names", () =>
    run(Effect.gen(function* () {
      const tools = yield* Instrumented
      const fs = yield* FileSystem.FileSystem
      const dir = yield* tempDir
      // A crash just before each call the compression of .2 makes: the files as they were then.
      const crashes: Array<{ readonly call: string; readonly files: Record<string, Uint8Array> }> = []
      let taking = false
      // Snapshots only once every line is on disk (the compression may start while the last ones are written).
      const written = yield* Deferred.make<void>()
      const methods: ReadonlyArray<FaultMethod> = ["open", "read", "write", "stat", "chmod", "utimes", "sync", "link", "lstat", "unlink", "syncDirectory"]
      for (const method of methods) {
        tools.hook(method, new RegExp(`(${NAME}\\.2(\\.gz(\\.tmp)?)?|^${dir})$`), (call) =>
          taking ? Effect.void : Effect.suspend(() => {
            taking = true
            return Deferred.await(written).pipe(
              Effect.zipRight(Effect.provideService(files(dir), FileSystem.FileSystem, fs)),
              Effect.map((found) => void crashes.push({ call: `${call.method} ${call.path}`, files: found })),
              Effect.orDie,
              Effect.ensuring(Effect.sync(() => void (taking = false))))
          }))
      }
      const ls = lines(9)
      yield* Effect.scoped(Effect.gen(function* () {
        const log = yield* RotatingAppender.make(`${dir}/${NAME}`, { policy: policy(30, 5) })
        yield* log.appendAll(ls)
        yield* log.flush
        yield* Deferred.succeed(written, undefined)
      }))
      const segs = segments(ls, 3)
      expect(decoded(yield* files(dir))).toEqual(expected(segs, 5))
      const compressionCalls = crashes.filter((c) => /\.gz\.tmp$/.test(c.call)).length
      expect(compressionCalls).toBeGreaterThan(5)
      for (const crash of crashes) {
        const again = yield* tempDir
        // The state the crash left: every line on disk, plain or in a complete .gz.
        const text = Object.entries(crash.files).filter(([name]) => !name.endsWith(".tmp")).map(([name, bytes]) =>
          Buffer.from(name.endsWith(".gz") ? zlib.gunzipSync(bytes) : bytes).toString())
        for (const s of segs) expect(text, crash.call).toContain(s)
        for (const [name, bytes] of Object.entries(crash.files)) yield* fs.writeFile(`${again}/${name}`, bytes)
        yield* writeLines(again, [], 30, 5)
        expect(decoded(yield* files(again)), crash.call).toEqual(expected(segs, 5))
      }
    })))
})

describe("compress under generated schedules (MemoryFileSystem)", () => {
  it.live("rotations racing compressions at generated points: at close .1 is plain, .2.gz … hold exactly the kept segments, nothing lost or doubled, maxFiles honoured", () =>
    Effect.promise(() => fc.assert(fc.asyncProperty(
      fc.integer({ min: 1, max: 5 }), // maxFiles
      fc.array(fc.record({ lines: fc.integer({ min: 1, max: 8 }), flush: fc.boolean(), yields: fc.integer({ min: 0, max: 6 }) }),
        { minLength: 1, maxLength: 12 }),
      fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 16 }), // yields inside compressions, cycled
      async (maxFiles, steps, pauses) => {
        const program = Effect.gen(function* () {
          const tools = yield* Instrumented
          let k = 0
          // The compression yields to the writer at generated points of its reads and writes.
          for (const method of ["read", "write", "open", "link"] as const) {
            tools.hook(method, /\.(\d+|gz|gz\.tmp)$/, () => Effect.suspend(() => {
              const n = pauses[k++ % pauses.length]!
              return Effect.repeatN(Effect.yieldNow(), n)
            }))
          }
          const dir = "/logs"
          const all: Array<string> = []
          yield* Effect.scoped(Effect.gen(function* () {
            const log = yield* RotatingAppender.make(`${dir}/${NAME}`, { policy: policy(30, maxFiles) })
            for (const step of steps) {
              const ls = lines(step.lines, 9, `g${all.length}-`).map((l) => l.slice(0, 9))
              all.push(...ls)
              yield* log.appendAll(ls)
              if (step.flush) yield* log.flush
              yield* Effect.repeatN(Effect.yieldNow(), step.yields)
            }
          }))
          expect(decoded(yield* files(dir))).toEqual(expected(segments(all, 3), maxFiles))
        })
        await Effect.runPromise(program.pipe(
          Effect.provide(RenameShift.layer.pipe(Layer.provideMerge(retentionLayer(memoryBase())))),
          Effect.scoped
        ))
      }
    ), fastCheckParameters(60))))
})
