import { FileSystem } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, Option, Scope } from "effect"
import * as zlib from "node:zlib"
import * as Compressor from "../src/Compressor.js"
import type { CompressStep } from "../src/Errors.js"
import type { FaultMethod } from "../src/MemoryFileSystem.js"
import { compressionPaths, fileSystems, gunzip, Instrumented, names, ndjson, tempDir } from "./support/retention.js"

const NAME = "app-2026-01-01.ndjson"

/** A 300 KB file (five 64 KiB reads) in a fresh temp dir. */
const setup = (bytes = ndjson(300_000)) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const dir = yield* tempDir
    const path = `${dir}/${NAME}`
    yield* fs.writeFile(path, bytes)
    return { fs, dir, path, bytes }
  })

type Env = Scope.Scope | FileSystem.FileSystem | Instrumented | Compressor.Compressor


describe.each(fileSystems)("Compressor contract on $name", ({ layer }) => {
  describe.each(compressionPaths)("$name", ({ name: mode, options }) => {
    const run = <A, E>(self: Effect.Effect<A, E, Env>) => self.pipe(Effect.provide(layer(options)))

    it.scoped("gunzip of the .gz equals the original bytes, and the original is gone", () =>
      run(Effect.gen(function* () {
        const { fs, dir, path, bytes } = yield* setup()
        const result = yield* Compressor.gzipFile(path)
        expect(yield* names(dir)).toEqual([`${NAME}.gz`])
        const gz = yield* fs.readFile(`${path}.gz`)
        expect(Buffer.from(gunzip(gz)).equals(Buffer.from(bytes))).toBe(true)
        expect(result).toEqual({ path, gzip: `${path}.gz`, bytesIn: bytes.length, bytesOut: gz.length })
        expect(gz.length).toBeLessThan(bytes.length / 2)
      })))

    it.scoped("an empty file compresses to a valid, empty .gz", () =>
      run(Effect.gen(function* () {
        const { fs, path } = yield* setup(new Uint8Array(0))
        yield* Compressor.gzipFile(path)
        expect(gunzip(yield* fs.readFile(`${path}.gz`)).length).toBe(0)
        expect(yield* fs.exists(path)).toBe(false)
      })))

    it.scoped("the .gz keeps the original's permission bits and mtime", () =>
      run(Effect.gen(function* () {
        const { fs, path } = yield* setup()
        const mtime = new Date("2026-01-01T23:59:58.000Z")
        yield* fs.chmod(path, 0o640)
        yield* fs.utimes(path, mtime, mtime)
        yield* Compressor.gzipFile(path)
        const info = yield* fs.stat(`${path}.gz`)
        expect(info.mode & 0o7777).toBe(0o640)
        expect(Option.getOrThrow(info.mtime).getTime()).toBe(mtime.getTime())
      })))

    it.scoped("the original is removed only once the complete .gz exists", () =>
      run(Effect.gen(function* () {
        const { fs, path, bytes } = yield* setup()
        const tools = yield* Instrumented
        const seen: Array<string> = []
        tools.hook("remove", new RegExp(`${NAME}$`), () =>
          Effect.gen(function* () {
            seen.push(Buffer.from(gunzip(yield* fs.readFile(`${path}.gz`))).equals(Buffer.from(bytes)) ? "complete .gz" : "bad .gz")
          }).pipe(Effect.orDie))
        yield* Compressor.gzipFile(path)
        expect(seen).toEqual(["complete .gz"])
        const order = tools.calls.filter((c) => c.method === "rename" || (c.method === "remove" && c.path === path))
        expect(order.map((c) => c.method)).toEqual(["rename", "remove"])
      })))

    // Each step, the call that fails it (the nth such call), and what must be on disk afterwards.
    // A file read whole is read by one readFile; a streamed one by open and 64 KiB reads.
    type Step = readonly [CompressStep, FaultMethod, "temp" | "original", number]
    const reads: ReadonlyArray<Step> = mode === "streamed"
      ? [["read", "open", "original", 1], ["read", "read", "original", 3]] // the 3rd chunk: the .gz.tmp has data in it
      : [["read", "readFile", "original", 1]]
    const steps: ReadonlyArray<Step> = [
      ["stat", "stat", "original", 1],
      ["open", "open", "temp", 1],
      ...reads,
      ["write", "write", "temp", 1],
      ["chmod", "chmod", "temp", 1],
      ["utimes", "utimes", "temp", 1],
      ["sync", "sync", "temp", 1],
      ["stat", "stat", "original", 2], // the last look before the rename
      ["rename", "rename", "temp", 1],
      ["remove", "remove", "original", 1]
    ]
    it.scoped.each(steps)("a fault in %s (%s of the %s, call %i) leaves the original or a complete .gz, and no .gz.tmp", ([step, method, on, nth]) =>
      run(Effect.gen(function* () {
        const { fs, dir, path, bytes } = yield* setup()
        const tools = yield* Instrumented
        tools.inject({ method, path: on === "temp" ? `${path}.gz.tmp` : path, nth, reason: "PermissionDenied" })
        const error = yield* Effect.flip(Compressor.gzipFile(path))
        expect([error._tag, error.step, error.path]).toEqual(["CompressError", step, path])
        const left = yield* names(dir)
        expect(left).not.toContain(`${NAME}.gz.tmp`)
        if (step === "remove") {
          expect(left).toEqual([NAME, `${NAME}.gz`])
          expect(Buffer.from(gunzip(yield* fs.readFile(`${path}.gz`))).equals(Buffer.from(bytes))).toBe(true)
        } else {
          expect(left).toEqual([NAME])
        }
        if (left.includes(NAME)) expect(Buffer.from(yield* fs.readFile(path)).equals(Buffer.from(bytes))).toBe(true)
      })))

    it.scoped("an existing .gz.tmp is not ours: open fails AlreadyExists and the file is left alone", () =>
      run(Effect.gen(function* () {
        const { fs, dir, path } = yield* setup()
        yield* fs.writeFileString(`${path}.gz.tmp`, "someone else's")
        const error = yield* Effect.flip(Compressor.gzipFile(path))
        expect(error.step).toBe("open")
        expect(yield* names(dir)).toEqual([NAME, `${NAME}.gz.tmp`])
        expect(yield* fs.readFileString(`${path}.gz.tmp`)).toBe("someone else's")
      })))

    it.scoped("interrupted mid-write: no .gz.tmp, no .gz, the original intact", () =>
      run(Effect.gen(function* () {
        const { fs, dir, path, bytes } = yield* setup()
        const tools = yield* Instrumented
        const writing = yield* Deferred.make<void>()
        tools.hook("write", /\.gz\.tmp$/, () => Effect.zipRight(Deferred.succeed(writing, undefined), Effect.never))
        const fiber = yield* Effect.fork(Compressor.gzipFile(path))
        yield* Deferred.await(writing)
        expect(yield* names(dir)).toEqual([NAME, `${NAME}.gz.tmp`]) // really mid-way
        const exit = yield* Fiber.interrupt(fiber)
        expect(Exit.isInterrupted(exit)).toBe(true)
        expect(yield* names(dir)).toEqual([NAME])
        expect(Buffer.from(yield* fs.readFile(path)).equals(Buffer.from(bytes))).toBe(true)
      })))

    it.scoped("a file that grows while being compressed is kept, and the .gz.tmp removed", () =>
      run(Effect.gen(function* () {
        const { fs, dir, path } = yield* setup()
        const tools = yield* Instrumented
        tools.hook("sync", /\.gz\.tmp$/, () => Effect.orDie(fs.writeFileString(path, "late line\n", { flag: "a" })))
        const error = yield* Effect.flip(Compressor.gzipFile(path))
        expect(error.step).toBe("read")
        expect(yield* names(dir)).toEqual([NAME])
      })))

    it.scoped("a file rewritten in place (same size, new mtime) while being compressed is kept, and the .gz.tmp removed", () =>
      run(Effect.gen(function* () {
        const { fs, dir, path, bytes } = yield* setup()
        const tools = yield* Instrumented
        yield* fs.utimes(path, new Date("2026-01-01T10:00:00Z"), new Date("2026-01-01T10:00:00Z"))
        tools.hook("sync", /\.gz\.tmp$/, () => Effect.orDie(fs.utimes(path, new Date(), new Date("2026-01-02T10:00:00Z"))))
        const error = yield* Effect.flip(Compressor.gzipFile(path))
        expect(error.step).toBe("read")
        expect(yield* names(dir)).toEqual([NAME])
        expect(Buffer.from(yield* fs.readFile(path)).equals(Buffer.from(bytes))).toBe(true)
      })))

    it.scoped("only the zlib part waits for a permit of `cpu`: the I/O before it does not, nothing runs until the permit comes", () =>
      run(Effect.gen(function* () {
        const { fs, dir, path, bytes } = yield* setup()
        const tools = yield* Instrumented
        const permits = yield* Effect.makeSemaphore(1)
        yield* permits.take(1)
        // The same semaphore, telling the test how many calls were made when the permit was asked for.
        const asked = yield* Deferred.make<number>()
        const cpu: Effect.Semaphore = {
          resize: (n) => permits.resize(n),
          withPermitsIfAvailable: (n) => permits.withPermitsIfAvailable(n),
          take: (n) => permits.take(n),
          release: (n) => permits.release(n),
          releaseAll: permits.releaseAll,
          withPermits: (n) => (self) => Effect.zipRight(Deferred.succeed(asked, tools.calls.length), permits.withPermits(n)(self))
        }
        const fiber = yield* Effect.fork(Compressor.gzipFile(path, { cpu }))
        const before = yield* Deferred.await(asked)
        // Read whole: it reads the file, then waits, before creating anything. Streamed: it
        // creates the .gz.tmp, then waits, before opening the original.
        const lastCall = mode === "streamed" ? { method: "open", path: `${path}.gz.tmp` } : { method: "readFile", path }
        expect(tools.calls.slice(0, before).at(-1)).toEqual(lastCall)
        const atRelease = tools.calls.length // the permit is ours: whatever comes next needs it
        yield* permits.release(1)
        yield* Fiber.join(fiber)
        expect(atRelease).toBe(before)
        expect(tools.calls.length).toBeGreaterThan(before)
        expect(yield* names(dir)).toEqual([`${NAME}.gz`])
        expect(Buffer.from(gunzip(yield* fs.readFile(`${path}.gz`))).equals(Buffer.from(bytes))).toBe(true)
      })))

    it.scoped("verifyGzip accepts a complete .gz and returns its decompressed size", () =>
      run(Effect.gen(function* () {
        const { fs, path, bytes } = yield* setup()
        yield* fs.writeFile(`${path}.gz`, zlib.gzipSync(bytes))
        expect(yield* Compressor.verifyGzip(`${path}.gz`, bytes.length)).toBe(bytes.length)
      })))

    it.scoped.each([
      ["a truncated", (gz: Uint8Array) => gz.subarray(0, gz.length - 10)],
      ["an empty", () => new Uint8Array(0)],
      ["a non-gzip", () => Buffer.from("plain text, not gzip")],
      ["a corrupted-body", (gz: Uint8Array) => Buffer.concat([gz.subarray(0, 100), Buffer.alloc(50, 0x55), gz.subarray(150)])]
    ] as const)("verifyGzip rejects %s .gz with step verify", ([, damage]) =>
      run(Effect.gen(function* () {
        const { fs, path, bytes } = yield* setup()
        yield* fs.writeFile(`${path}.gz`, damage(zlib.gzipSync(bytes)))
        const error = yield* Effect.flip(Compressor.verifyGzip(`${path}.gz`))
        expect([error._tag, error.step]).toEqual(["CompressError", "verify"])
      })))

    it.scoped("verifyGzip rejects a complete .gz of a different size than expected", () =>
      run(Effect.gen(function* () {
        const { fs, path, bytes } = yield* setup()
        yield* fs.writeFile(`${path}.gz`, zlib.gzipSync(bytes.subarray(0, 1000)))
        const error = yield* Effect.flip(Compressor.verifyGzip(`${path}.gz`, bytes.length))
        expect(error.step).toBe("verify")
        expect(error.message).toContain(`decompresses to 1000 bytes, expected ${bytes.length}`)
      })))
  })
})

describe.each(fileSystems)("Compressor paths on $name", ({ layer }) => {
  const LIMIT = 100_000

  it.scoped.each([
    ["at the limit is read whole", LIMIT, "readFile"],
    ["one byte over the limit is streamed", LIMIT + 1, "open"],
    ["empty is read whole", 0, "readFile"]
  ] as const)("a file %s", ([, size, reader]) =>
    Effect.gen(function* () {
      const { fs, dir, path, bytes } = yield* setup(ndjson(size, 3))
      const tools = yield* Instrumented
      const result = yield* Compressor.gzipFile(path)
      expect(yield* names(dir)).toEqual([`${NAME}.gz`])
      const gz = yield* fs.readFile(`${path}.gz`)
      expect(Buffer.from(gunzip(gz)).equals(Buffer.from(bytes))).toBe(true)
      expect([result.bytesIn, result.bytesOut]).toEqual([size, gz.length])
      const readsOfOriginal = tools.calls.filter((c) => c.path === path && (c.method === "readFile" || c.method === "open"))
      expect(readsOfOriginal.map((c) => c.method)).toEqual([reader])
    }).pipe(Effect.provide(layer({ wholeFileMaxBytes: LIMIT }))))
})
