/**
 * `SafeFs.layerNode` runs each composite call (`Composite`: a run of calls as one step) as
 * one synchronous system-call run; every other service gets `SafeFs.composite(service)`, the
 * same calls made one by one through the service (so a wrapper that sees or fails each call,
 * as the fault schedules do, still meets every one). The two must agree: generated sequences
 * of composite calls run against Node's own composite, against `composite()` over Node's
 * single calls, and against `composite()` over `layerMemory`, each in a fresh directory, and
 * every result (normalized value, or the failing call and reason) and the tree after each
 * call must be the same.
 *
 *   FAULT_RUNS=2000 npx vitest run test/platform/SafeFs.composite.test.ts   # a longer run
 */
import { FileSystem } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { describe, expect, it } from "@effect/vitest"
import { Effect, FastCheck as fc, Layer } from "effect"
import * as crypto from "node:crypto"
import * as SafeFs from "../../src/platform/SafeFs.js"
import { fastCheckParameters, propertyTimeout } from "../support/faults.js"
import { memoryBase, nodeBase } from "../support/retention.js"

const NAMES = ["f", "g", "l", "dl", "d", "missing", "f.tmp"] as const
type Name = (typeof NAMES)[number]
const DATA = [0, 1, 100, 5000] as const

/** Which identity a call is given: a name's, as `lstat` says just before the call, or one no file has. */
type Expect = { readonly of: Name } | "none" | "nobody"

type Op =
  | { readonly op: "openReadWhole"; readonly path: Name; readonly maxBytes: number; readonly expect: Expect; readonly pooled: boolean }
  | { readonly op: "createWritten"; readonly path: Name; readonly size: number; readonly mode: number; readonly mtimeMs: number }
  | { readonly op: "linkPublish"; readonly from: Name; readonly to: Name; readonly expect: Expect }
  | { readonly op: "unlinkIfSame"; readonly path: Name; readonly expect: Expect }

const name = fc.constantFrom(...NAMES)
const expectArb: fc.Arbitrary<Expect> = fc.oneof(
  name.map((of): Expect => ({ of })),
  fc.constantFrom<Expect>("none", "nobody")
)
const opArb: fc.Arbitrary<Op> = fc.oneof(
  // Not a directory: layerMemory's openRead refuses one (EISDIR), Node's opens it (`stat` then says
  // "Directory"; the Compressor refuses it either way). A difference of the single call, not of the run.
  fc.record({
    op: fc.constant("openReadWhole" as const), path: name.filter((n) => n !== "d"), maxBytes: fc.constantFrom(0, 50, 100, 10_000),
    expect: expectArb, pooled: fc.boolean()
  }),
  fc.record({
    op: fc.constant("createWritten" as const), path: name, size: fc.constantFrom(...DATA),
    mode: fc.constantFrom(0o600, 0o640, 0o644, 0o755), mtimeMs: fc.constantFrom(1_000_000, 1_767_225_600_000)
  }),
  // Not `from` a directory: the fake checks the source's type before the target, the kernel the
  // other way round (EPERM vs EEXIST); the callers only ever link a file they created.
  fc.record({ op: fc.constant("linkPublish" as const), from: name.filter((n) => n !== "d"), to: name, expect: expectArb }),
  fc.record({ op: fc.constant("unlinkIfSame" as const), path: name, expect: expectArb })
)

const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7) & 0xff)

const sha1 = (b: Uint8Array) => `${b.length}:${crypto.createHash("sha1").update(b).digest("hex").slice(0, 12)}`

const reasonOf = (e: PlatformError) => (e._tag === "SystemError" ? e.reason : e._tag)

/** One composite call under `dir`: `{ ok }` (normalized) or `{ call, reason }`. */
const step = (safe: SafeFs.Service, steps: SafeFs.Composite, dir: string, op: Op, seed: number): Effect.Effect<unknown> => {
  const at = (n: Name) => `${dir}/${n}`
  const identity = (e: Expect): Effect.Effect<SafeFs.Identity | undefined> =>
    e === "none" ? Effect.succeed(undefined)
      : e === "nobody" ? Effect.succeed({ dev: -1, ino: -1 })
      : Effect.map(Effect.either(safe.lstat(at(e.of))), (s) => s._tag === "Right" ? { dev: s.right.dev, ino: s.right.ino } : { dev: -2, ino: -2 })
  // A link's size is its target's length, which holds the temp directory's name: not compared.
  const stat = (s: SafeFs.Stat) => ({ type: s.type, size: s.type === "File" ? s.size : null })
  const run = Effect.gen(function* () {
    switch (op.op) {
      case "openReadWhole": {
        const expect = yield* identity(op.expect)
        const pool: Array<Uint8Array> = []
        return yield* steps.openReadWhole(at(op.path), {
          maxBytes: op.maxBytes, expect,
          ...(op.pooled ? { buffer: (size: number) => (pool[0] = new Uint8Array(size + 7).fill(9)) } : {})
        }, ({ data, handle, stat: s }) =>
          Effect.map(Effect.orDie(handle.stat), (again) => ({
            ...stat(s), same: again.ino === s.ino,
            data: data === undefined ? null : sha1(data),
            inPool: data === undefined || !op.pooled ? null : data.buffer === pool[0]?.buffer
          })))
      }
      case "createWritten": {
        const like: SafeFs.Stat = {
          type: "File", dev: 0, ino: 0, mode: 0o100000 | op.mode, uid: 0, gid: 0, size: 0, atimeMs: op.mtimeMs, mtimeMs: op.mtimeMs
        }
        return yield* steps.createWritten(at(op.path), bytes(op.size, seed), like, ({ handle, stat: s }) =>
          Effect.map(Effect.orDie(Effect.zipRight(handle.sync, handle.stat)), (after) => ({
            ...stat(s), mode: after.mode & 0o7777, mtimeMs: after.mtimeMs, size: after.size, same: after.ino === s.ino
          })))
      }
      case "linkPublish": {
        const expect = yield* identity(op.expect)
        return stat(yield* steps.linkPublish(at(op.from), at(op.to), expect ?? { dev: -1, ino: -1 }))
      }
      case "unlinkIfSame": {
        const expect = yield* identity(op.expect)
        return stat(yield* steps.unlinkIfSame(at(op.path), expect ?? { dev: -1, ino: -1 }))
      }
    }
  })
  return run.pipe(
    Effect.map((ok) => ({ ok })),
    Effect.catchAll((e) => Effect.succeed({ call: e.call, reason: reasonOf(e.error) }))
  )
}

/** Every name in `dir` with its type, and a regular file's bytes and permission bits. */
const tree = (fs: FileSystem.FileSystem, safe: SafeFs.Service, dir: string) =>
  Effect.gen(function* () {
    const out: Record<string, unknown> = {}
    for (const n of [...(yield* fs.readDirectory(dir))].sort()) {
      const s = yield* Effect.orDie(safe.lstat(`${dir}/${n}`))
      out[n] = s.type === "File"
        ? { type: s.type, mode: s.mode & 0o7777, sha1: sha1(yield* Effect.orDie(fs.readFile(`${dir}/${n}`))) }
        : { type: s.type }
    }
    return out
  })

/** The same start everywhere: f (100 bytes), g (5000), l -> f, dl -> nowhere, d/ (a directory). */
const skeleton = (fs: FileSystem.FileSystem, dir: string) =>
  Effect.orDie(Effect.gen(function* () {
    yield* fs.writeFile(`${dir}/f`, bytes(100, 1))
    yield* fs.writeFile(`${dir}/g`, bytes(5000, 2))
    yield* fs.symlink(`${dir}/f`, `${dir}/l`)
    yield* fs.symlink(`${dir}/nowhere`, `${dir}/dl`)
    yield* fs.makeDirectory(`${dir}/d`)
  }))

type Variant = "node's own" | "composed over node" | "composed over memory"

/** Runs `ops` on one variant in a fresh directory: each call's result and the tree after it. */
const replay = (variant: Variant, ops: ReadonlyArray<Op>) =>
  Effect.scoped(Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const safe = yield* SafeFs.SafeFs
    const steps = variant === "node's own" ? safe.composite! : SafeFs.composite(safe)
    const dir = yield* fs.makeTempDirectoryScoped({ prefix: "safefs-composite-" })
    yield* skeleton(fs, dir)
    const trace: Array<unknown> = []
    for (const [i, op] of ops.entries()) {
      trace.push({ op, result: yield* step(safe, steps, dir, op, i), tree: yield* tree(fs, safe, dir) })
    }
    return trace
  })).pipe(Effect.provide(variant === "composed over memory" ? memoryBase() : (nodeBase as Layer.Layer<FileSystem.FileSystem | SafeFs.SafeFs>)))

describe("SafeFs composite calls", () => {
  it("layerNode has its own composite calls; a service without them gets composite(service)", () => {
    const built = Effect.runSync(Effect.provide(SafeFs.SafeFs, SafeFs.layerNode))
    expect(built.composite).toBeDefined()
    const memory = Effect.runSync(Effect.provide(SafeFs.SafeFs, memoryBase()))
    expect(memory.composite).toBeUndefined()
  })

  it.effect("Node's own composite calls, composite() over Node's single calls and composite() over layerMemory give the same results and leave the same tree, call after call", () =>
    Effect.promise(() =>
      fc.assert(
        fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 8 }), async (ops) => {
          const own = await Effect.runPromise(replay("node's own", ops))
          const composed = await Effect.runPromise(replay("composed over node", ops))
          const memory = await Effect.runPromise(replay("composed over memory", ops))
          expect(own).toEqual(composed)
          expect(memory).toEqual(own)
        }),
        fastCheckParameters(150)
      )
    ), propertyTimeout(150))

  it.effect("a failing call is named, with the reason the call alone gives, and nothing after it is made", () =>
    Effect.gen(function* () {
      const results = yield* replay("node's own", [
        { op: "openReadWhole", path: "l", maxBytes: 10_000, expect: "none", pooled: false },
        { op: "openReadWhole", path: "missing", maxBytes: 10_000, expect: "none", pooled: false },
        { op: "createWritten", path: "f", size: 1, mode: 0o644, mtimeMs: 1_000_000 },
        { op: "createWritten", path: "dl", size: 1, mode: 0o644, mtimeMs: 1_000_000 },
        { op: "linkPublish", from: "f", to: "g", expect: { of: "f" } },
        { op: "linkPublish", from: "missing", to: "f.tmp", expect: "nobody" },
        { op: "unlinkIfSame", path: "missing", expect: "nobody" },
        { op: "linkPublish", from: "l", to: "f.tmp", expect: { of: "l" } }
      ])
      expect(results.map((r) => (r as { result: unknown }).result)).toEqual([
        { call: "open", reason: "BadResource" },
        { call: "open", reason: "NotFound" },
        { call: "create", reason: "AlreadyExists" },
        { call: "create", reason: "AlreadyExists" },
        { call: "link", reason: "AlreadyExists" },
        { call: "link", reason: "NotFound" },
        { call: "lstat", reason: "NotFound" },
        // a link to the symlink itself: published, but not a regular file, so `from` stays
        { ok: { type: "SymbolicLink", size: null } }
      ])
      const last = (results[results.length - 1] as { tree: Record<string, unknown> }).tree
      expect(Object.keys(last).sort()).toEqual(["d", "dl", "f", "f.tmp", "g", "l"])
    }))
})
