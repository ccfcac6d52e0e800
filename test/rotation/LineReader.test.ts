/**
 * The byte-level pipe path: `LineReader.pump` (and its `ByteSplitter`) into
 * `RotatingAppender.appendBytes`, over the in-memory FileSystem.
 */
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, FastCheck as fc, Fiber, TestClock } from "effect"
import { PassThrough, Readable } from "node:stream"
import { planByteCuts } from "../../src/rotation/internal/ByteCuts.js"
import { ArenaSplitter, ByteSplitter, pump } from "../../src/rotation/LineReader.js"
import * as MemoryFileSystem from "../../src/platform/MemoryFileSystem.js"
import * as RotatingAppender from "../../src/rotation/RotatingAppender.js"
import * as RotationPolicy from "../../src/rotation/RotationPolicy.js"
import { memoryLayer } from "../support/fileSystems.js"

const LOG = "/logs/app.jsonl"

/** The rotated set `.N … .1, active` as byte arrays, oldest first. */
const filesOldestFirst = (mem: MemoryFileSystem.MemoryFileSystem) =>
  Effect.gen(function* () {
    const names = (yield* mem.readDirectory("/logs")).filter((n) => /^app\.jsonl(\.\d+)?$/.test(n))
    const index = (n: string) => n === "app.jsonl" ? 0 : Number(n.slice("app.jsonl.".length))
    const sorted = names.sort((a, b) => index(b) - index(a))
    const out: Array<Uint8Array> = []
    for (const n of sorted) out.push(yield* mem.readFile(`/logs/${n}`))
    return out
  })

const withFinalNewline = (input: Buffer) => input.length === 0 || input[input.length - 1] === 10 ? input : Buffer.concat([input, Buffer.from("\n")])

/** Pieces a generated input is made of: what real pipes carry, and what breaks decoders. */
const piece = fc.oneof(
  fc.constant(Buffer.from("\n")),
  fc.constant(Buffer.from("\r\n")),
  fc.constant(Buffer.from("\r")),
  fc.constant(Buffer.from([0xff, 0xfe])), // never valid UTF-8
  fc.constant(Buffer.from([0xe2, 0x82])), // a cut multi-byte sequence
  fc.constant(Buffer.from("é€😀")),
  fc.constant(Buffer.from([0])),
  fc.uint8Array({ minLength: 1, maxLength: 12 }).map((a) => Buffer.from(a)),
  fc.integer({ min: 20, max: 300 }).map((n) => Buffer.alloc(n, 0x78)) // longer than the buffers and maxBytes below
)

/** Cuts `input` at the given fractions into chunks, as reads from a pipe would. */
const chunked = (input: Buffer, cuts: ReadonlyArray<number>) => {
  const points = [...new Set(cuts.map((c) => Math.floor(c * input.length)))].sort((a, b) => a - b)
  const out: Array<Buffer> = []
  let at = 0
  for (const p of [...points, input.length]) {
    if (p > at) out.push(input.subarray(at, p))
    at = Math.max(at, p)
  }
  return out
}

describe("LineReader: the byte-level pipe into RotatingAppender.appendBytes", () => {
  it.effect.prop(
    "the files, oldest to newest, concatenated equal the input (plus a final \\n if it lacked one); each file ends at a line end and passes maxBytes only when it holds one line",
    {
      pieces: fc.array(piece, { maxLength: 40 }),
      cuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 }),
      maxBytes: fc.integer({ min: 0, max: 80 }),
      lineBuffer: fc.integer({ min: 1, max: 64 })
    },
    ({ pieces, cuts, maxBytes, lineBuffer }) =>
      Effect.gen(function* () {
        const mem = yield* MemoryFileSystem.MemoryFileSystem
        const input = Buffer.concat(pieces)
        const stop = yield* Deferred.make<void>()
        const result = yield* Effect.scoped(Effect.gen(function* () {
          const log = yield* RotatingAppender.make(LOG, { policy: RotationPolicy.unsafeMake({ maxBytes, maxFiles: 1000 }) })
          return yield* pump(Readable.from(chunked(input, cuts)), log, stop, { lineBuffer })
        }))
        expect(result).toEqual({ bytes: input.length, ended: true, cutLine: false })
        const files = yield* filesOldestFirst(mem)
        expect(Buffer.concat(files).equals(withFinalNewline(input))).toBe(true)
        for (const file of files.filter((f) => f.length > 0)) {
          expect(file[file.length - 1]).toBe(10)
          if (maxBytes > 0 && file.length > maxBytes) expect(file.indexOf(10)).toBe(file.length - 1)
        }
      }).pipe(Effect.provide(memoryLayer())),
    { timeout: 60_000, fastCheck: { numRuns: 100 } }
  )

  it.effect("invalid UTF-8 and \\r pass through unchanged: 344 bytes in, 344 out", () =>
    Effect.gen(function* () {
      const mem = yield* MemoryFileSystem.MemoryFileSystem
      const input = Buffer.concat([
        Buffer.alloc(100, 0xff), Buffer.from("\n"), Buffer.alloc(100, 0xc3), Buffer.from("\r\n"), Buffer.alloc(141, 0x80)
      ])
      expect(input.length).toBe(344)
      yield* Effect.scoped(Effect.flatMap(
        RotatingAppender.make(LOG, { policy: RotationPolicy.unsafeMake({ maxBytes: 0, maxFiles: 1 }) }),
        (log) => Effect.flatMap(Deferred.make<void>(), (stop) => pump(Readable.from([input]), log, stop))
      ))
      const files = yield* filesOldestFirst(mem)
      expect(Buffer.concat(files).equals(Buffer.concat([input, Buffer.from("\n")]))).toBe(true)
    }).pipe(Effect.provide(memoryLayer())))

  it.effect("a line longer than the buffer starts a fresh file, streams into it in pieces, and the next line rotates", () =>
    Effect.gen(function* () {
      const mem = yield* MemoryFileSystem.MemoryFileSystem
      const long = Buffer.alloc(100, 0x78)
      yield* Effect.scoped(Effect.gen(function* () {
        const log = yield* RotatingAppender.make(LOG, { policy: RotationPolicy.unsafeMake({ maxBytes: 30, maxFiles: 10 }) })
        const stop = yield* Deferred.make<void>()
        const chunks = [Buffer.from("a\nb"), ...chunked(long, [0.2, 0.5, 0.8]), Buffer.from("\nc\n")]
        yield* pump(Readable.from(chunks), log, stop, { lineBuffer: 8 })
      }))
      const files = (yield* filesOldestFirst(mem)).map((f) => Buffer.from(f).toString("latin1"))
      expect(files).toEqual(["a\n", "b" + long.toString("latin1") + "\n", "c\n"])
    }).pipe(Effect.provide(memoryLayer())))

  it.effect("on stop inside an unfinished line, it keeps reading until the line's \\n arrives within the grace period", () =>
    Effect.gen(function* () {
      const mem = yield* MemoryFileSystem.MemoryFileSystem
      const input = new PassThrough()
      const stop = yield* Deferred.make<void>()
      const result = yield* Effect.scoped(Effect.gen(function* () {
        const log = yield* RotatingAppender.make(LOG, { policy: RotationPolicy.unsafeMake({ maxBytes: 0, maxFiles: 1 }) })
        const running = yield* Effect.fork(pump(input, log, stop, { grace: "2 seconds" }))
        input.write("a\n{\"partial\":")
        yield* Effect.promise(() => new Promise((r) => setImmediate(r)))
        yield* Deferred.succeed(stop, undefined)
        yield* TestClock.adjust("1 second")
        input.write("1}\nb")
        input.write("\n")
        return yield* Fiber.join(running)
      }))
      expect(result).toEqual({ bytes: 18, ended: false, cutLine: false })
      const files = (yield* filesOldestFirst(mem)).map((f) => Buffer.from(f).toString())
      expect(files).toEqual(["a\n{\"partial\":1}\nb\n"])
    }).pipe(Effect.provide(memoryLayer())))

  it.effect("after the grace period an unfinished line is written with a final \\n (cutLine), and a stop between lines ends at once", () =>
    Effect.gen(function* () {
      const mem = yield* MemoryFileSystem.MemoryFileSystem
      const input = new PassThrough()
      const stop = yield* Deferred.make<void>()
      const result = yield* Effect.scoped(Effect.gen(function* () {
        const log = yield* RotatingAppender.make(LOG, { policy: RotationPolicy.unsafeMake({ maxBytes: 0, maxFiles: 1 }) })
        const running = yield* Effect.fork(pump(input, log, stop, { grace: "2 seconds" }))
        input.write("a\n{\"partial\":")
        yield* Effect.promise(() => new Promise((r) => setImmediate(r)))
        yield* Deferred.succeed(stop, undefined)
        yield* TestClock.adjust("3 seconds")
        return yield* Fiber.join(running)
      }))
      expect(result).toEqual({ bytes: 13, ended: false, cutLine: true })
      expect((yield* filesOldestFirst(mem)).map((f) => Buffer.from(f).toString())).toEqual(["a\n{\"partial\":\n"])
    }).pipe(Effect.provide(memoryLayer())))

  it("planByteCuts: rotations at line ends only, never inside an open line; pure", () => {
    const bytes = Buffer.from("aaaa\nbbbb\ncccc\n")
    expect(planByteCuts(bytes, 0, 10, false)).toEqual({ cuts: [10], size: 5, open: false })
    expect(planByteCuts(bytes, 7, 10, false)).toEqual({ cuts: [0, 10], size: 5, open: false })
    // continuing an open line: no cut before its \n, then a cut as the file passed maxBytes
    expect(planByteCuts(Buffer.from("xxxxxxxxxxxx\nab\n"), 20, 10, true)).toEqual({ cuts: [13], size: 3, open: false })
    // the start of an open line goes into a fresh file
    expect(planByteCuts(Buffer.from("ab\ncd"), 0, 10, false)).toEqual({ cuts: [3], size: 2, open: true })
    expect(planByteCuts(Buffer.from("ab\ncd"), 0, 0, false)).toEqual({ cuts: [], size: 5, open: true })
  })

  it("ByteSplitter: pieces concatenated equal the input, whatever the chunking", () => {
    fc.assert(fc.property(fc.array(piece, { maxLength: 30 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 10 }),
      fc.integer({ min: 1, max: 50 }), (pieces, cuts, lineBuffer) => {
        const input = Buffer.concat(pieces)
        const splitter = new ByteSplitter(lineBuffer)
        const out: Array<Uint8Array> = []
        for (const chunk of chunked(input, cuts)) {
          const p = splitter.push(chunk)
          if (p) out.push(p)
        }
        const rest = splitter.end()
        if (rest) out.push(rest)
        expect(Buffer.concat(out).equals(withFinalNewline(input))).toBe(true)
      }))
  })

  it("ArenaSplitter (stdin from a pipe): pieces written in order equal the input, each piece ends at a \\n unless it is a long line's, and reads never pass its room", () => {
    fc.assert(fc.property(fc.array(piece, { maxLength: 30 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 10 }),
      fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 16 }), fc.array(fc.boolean(), { maxLength: 40 }),
      (pieces, cuts, lineBuffer, readSize, writeNow) => {
        const input = Buffer.concat(pieces)
        const arena = new ArenaSplitter(lineBuffer, readSize)
        const out: Array<Buffer> = []
        let step = 0
        const writeReady = () => {
          let p: Uint8Array | undefined
          while ((p = arena.next()) !== undefined) {
            // a piece without \n is only handed out for a line past lineBuffer
            if (p[p.length - 1] !== 10) expect(p.length > lineBuffer || out.length > 0).toBe(true)
            out.push(Buffer.from(p))
            arena.written()
          }
        }
        // reads of at most readSize (as the socket's), writes when the generated schedule says so or the buffer is full
        for (const chunk of chunked(input, cuts)) {
          for (let at = 0; at < chunk.length;) {
            if (arena.room < readSize) writeReady()
            const n = Math.min(readSize, chunk.length - at, arena.room)
            expect(n).toBeGreaterThan(0)
            arena.push(chunk.subarray(at, at + n))
            at += n
            if (writeNow[step++ % Math.max(1, writeNow.length)] ?? true) writeReady()
          }
        }
        writeReady()
        const rest = arena.end()
        if (rest) out.push(Buffer.from(rest))
        expect(Buffer.concat(out).equals(withFinalNewline(input))).toBe(true)
      }))
  })

  it("ArenaSplitter reads on while a piece is being written: the piece stays unchanged until written, and the reads behind it have room for lineBuffer bytes", () => {
    const arena = new ArenaSplitter(16, 4) // two buffers of 16 + 2 × 4 bytes
    arena.push(Buffer.from("aaaaaaa\nbbbbbbb\n"))
    arena.push(Buffer.from("cc"))
    const piece = arena.next()!
    expect(Buffer.from(piece).toString()).toBe("aaaaaaa\nbbbbbbb\n")
    // While that piece is being written, reads go on: (one buffer would have had 24 - 18 = 6 bytes of room)
    expect(arena.room).toBe(22)
    for (const read of ["dddd", "ddd\n", "eeee", "eee\n", "ff"]) arena.push(Buffer.from(read))
    expect(arena.next()).toBeUndefined() // one piece at a time
    expect(Buffer.from(piece).toString()).toBe("aaaaaaa\nbbbbbbb\n")
    arena.written()
    expect(Buffer.from(arena.next()!).toString()).toBe("ccddddddd\neeeeeee\n")
    arena.written()
    expect(Buffer.from(arena.end()!).toString()).toBe("ff\n")
  })

  it("ArenaSplitter: reads pushed while a piece is held never change it, and the pieces equal the input", () => {
    fc.assert(fc.property(fc.array(piece, { maxLength: 30 }), fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 16 }),
      fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 40 }),
      (pieces, lineBuffer, readSize, holdFor) => {
        const input = Buffer.concat(pieces)
        const arena = new ArenaSplitter(lineBuffer, readSize)
        const out: Array<Buffer> = []
        let held: { view: Uint8Array; copy: Buffer; reads: number } | undefined
        let step = 0
        const release = () => {
          if (held === undefined) return
          expect(Buffer.from(held.view).equals(held.copy)).toBe(true)
          out.push(held.copy)
          held = undefined
          arena.written()
        }
        const take = () => {
          const view = arena.next()
          if (view !== undefined) held = { view, copy: Buffer.from(view), reads: holdFor[step++ % Math.max(1, holdFor.length)] ?? 0 }
        }
        for (let at = 0; at < input.length;) {
          if (held === undefined) take()
          if (held !== undefined && held.reads-- <= 0) release()
          if (arena.room < readSize) {
            release()
            take()
            if (arena.room < readSize) continue
          }
          const n = Math.min(readSize, input.length - at)
          arena.push(input.subarray(at, at + n))
          at += n
        }
        release()
        for (take(); held !== undefined; take()) release()
        const rest = arena.end()
        if (rest) out.push(Buffer.from(rest))
        expect(Buffer.concat(out).equals(withFinalNewline(input))).toBe(true)
      }))
  })
})
