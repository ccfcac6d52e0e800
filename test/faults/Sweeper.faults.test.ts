/**
 * Fault schedules for retention (issue 9, "Fault schedules"): a full sweep (`Sweeper` +
 * `Compressor` on the in-memory FileSystem) of a generated directory of daily files
 * (`x.ndjson`, `x.ndjson.gz` that may be a complete gzip of the original, of other bytes of the
 * same size, of other bytes, truncated, or garbage, `x.ndjson.gz.tmp` leftovers) of random ages
 * and contents, beside unmanaged files, a nested directory and a sibling directory, while
 * generated faults fail the n-th call of any operation with any `SystemError` reason.
 *
 * Checked after every FileSystem call of the sweep that can change the disk (remove, rename,
 * open, write, sync, chmod, utimes, …; the FileSystem is wrapped; reads cannot break these):
 * - every managed original exists with its bytes, or its `.gz` decompresses to exactly those
 *   bytes (an expired original may go);
 * - no file is modified in place; an existing `.gz` is never replaced; a file is removed only
 *   when the policy says so (expired, stale temp, or an original whose `.gz` is complete);
 * - a `.gz` the sweep creates is complete (decompresses to its original) the moment it appears;
 *   the only new names are `x.ndjson.gz` and `x.ndjson.gz.tmp` of originals due for compression;
 * - nothing outside the swept directory (sibling directory, nested directory) and no unmanaged
 *   file is touched.
 * After the sweep: every fault that fired appears in the report's `failed` (matched by the error
 * itself), except where the code documents that it absorbs it (listed below); every reported failure is
 * explained by a fault or by a `.gz` that does not match its original; what the report says was
 * compressed or deleted is so on disk. Absorbed by design (documented in Sweeper.ts): a failed
 * `readLink` (it means "not a link"; NotFound means "gone since the listing"), a probe `stat`
 * NotFound ("gone"), and the Compressor's removal of its own `.gz.tmp` after a reported failure.
 * Then a second sweep without faults finishes the job:
 * expired files gone, compressible files compressed (unless their name is taken by a `.gz` of
 * other content, which is reported and left), no stale `.gz.tmp`, and no other failure.
 */
import * as FileSystem from "@effect/platform/FileSystem"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, FastCheck as fc, Layer, TestClock } from "effect"
import * as crypto from "node:crypto"
import * as zlib from "node:zlib"
import * as Compressor from "../../src/Compressor.js"
import * as DatedFile from "../../src/DatedFile.js"
import * as MemoryFileSystem from "../../src/MemoryFileSystem.js"
import type { FaultMethod } from "../../src/MemoryFileSystem.js"
import * as Sweeper from "../../src/Sweeper.js"
import {
  errorChain,
  type FaultSpec,
  fastCheckParameters,
  type ObservedCall,
  observe,
  propertyTimeout,
  resolveFault,
  sameBytes,
  schedule
} from "../support/faults.js"

const TODAY = new Date("2026-03-15T12:00:00Z")
const DIR = "/var/log/relay"
const SIBLING = "/var/log/other"
const NESTED = `${DIR}/nested`

/** Every operation a sweep makes. */
const METHODS: ReadonlyArray<FaultMethod> = [
  "readDirectory", "readLink", "stat", "readFile", "open", "read", "write", "sync", "chmod", "utimes", "rename", "remove"
]

/** Calls that can change what is on disk; the invariants are checked after each (reads cannot break them). */
const MUTATING = new Set([
  "remove", "rename", "open", "write", "writeFile", "truncate", "file.truncate", "copy", "copyFile", "chmod", "utimes",
  "makeDirectory", "symlink", "link", "sync"
])

const dated = (prefix: string, ageDays: number, ext: string) => {
  const d = new Date(Date.UTC(TODAY.getUTCFullYear(), TODAY.getUTCMonth(), TODAY.getUTCDate() - ageDays))
  return `${prefix}-${d.toISOString().slice(0, 10)}${ext}`
}

/** What sits at `x.ndjson.gz` before the sweep. */
type GzKind = "none" | "exact" | "sameSizeOther" | "otherSize" | "truncated" | "garbage"

interface GroupSpec {
  readonly prefix: string
  readonly age: number
  readonly original: Uint8Array | undefined
  readonly gz: GzKind
  readonly other: Uint8Array
  readonly tmp: Uint8Array | undefined
}

interface Scenario {
  readonly maxAgeDays: number
  readonly compressAgeDays: number
  readonly groups: ReadonlyArray<GroupSpec>
  readonly unmanaged: ReadonlyArray<readonly [string, Uint8Array]>
  readonly sibling: ReadonlyArray<readonly [string, Uint8Array]>
  readonly concurrency: number
  readonly ioConcurrency: number
  readonly compressor: Compressor.Options
  readonly faults: ReadonlyArray<FaultSpec>
}

const bytes = (maxLength: number) =>
  fc.oneof(
    fc.uint8Array({ maxLength }),
    fc.array(fc.constantFrom("{\"level\":\"info\",\"msg\":\"ok\"}\n", "{\"level\":\"warn\",\"n\":42}\n", "x"), { maxLength: maxLength / 20 })
      .map((parts) => new Uint8Array(Buffer.from(parts.join(""))))
  )

/**
 * Ages spread over what the policy does with them: today or future (untouched), within the
 * compression age (untouched), due for compression (the most work, so the most weight), expired.
 */
const age = (maxAgeDays: number, compressAgeDays: number): fc.Arbitrary<number> =>
  fc.oneof(
    { weight: 1, arbitrary: fc.integer({ min: -2, max: 0 }) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: compressAgeDays > 0 ? compressAgeDays : maxAgeDays }) },
    ...(compressAgeDays > 0 && compressAgeDays < maxAgeDays
      ? [{ weight: 4, arbitrary: fc.integer({ min: compressAgeDays + 1, max: maxAgeDays }) }]
      : []),
    { weight: 2, arbitrary: fc.integer({ min: maxAgeDays + 1, max: maxAgeDays + 10 }) }
  )

const group = (
  gzKinds: ReadonlyArray<GzKind>,
  maxAgeDays: number,
  compressAgeDays: number
): fc.Arbitrary<GroupSpec> => fc.record({
  prefix: fc.constantFrom("app", "dlq-orders"),
  age: age(maxAgeDays, compressAgeDays),
  original: fc.option(bytes(1500), { nil: undefined, freq: 5 }),
  gz: fc.constantFrom(...gzKinds),
  other: bytes(600),
  tmp: fc.option(bytes(300), { nil: undefined, freq: 2 })
})

/** Names retention does not manage (checked below, so the list cannot drift from `DatedFile.parse`). */
const UNMANAGED = ["notes.txt", "app.ndjson", "app-2026-02-30.ndjson", "app-2026-01-01.log", "app_2026-01-01.ndjson", "app-2026-01-01.ndjson.bak"]
for (const name of UNMANAGED) {
  if (Either.isRight(DatedFile.parse(name))) throw new Error(`${name} is a managed name; the unmanaged fixtures must not be`)
}

const policy = fc.integer({ min: 1, max: 40 }).chain((maxAgeDays) =>
  fc.tuple(
    fc.constant(maxAgeDays),
    fc.oneof(
      { weight: 1, arbitrary: fc.constant(0) },
      { weight: 4, arbitrary: fc.integer({ min: 1, max: Math.max(1, maxAgeDays - 1) }) }
    )
  )
)

const scenario = (gzKinds: ReadonlyArray<GzKind>): fc.Arbitrary<Scenario> => policy.chain(([maxAgeDays, compressAgeDays]) =>
  fc.record({
    maxAgeDays: fc.constant(maxAgeDays),
    compressAgeDays: fc.constant(compressAgeDays),
    groups: fc.uniqueArray(group(gzKinds, maxAgeDays, compressAgeDays), { minLength: 1, maxLength: 7, selector: (g) => `${g.prefix}/${g.age}`, size: "max" }),
    unmanaged: fc.uniqueArray(fc.tuple(fc.constantFrom(...UNMANAGED), bytes(200)), { maxLength: 3, selector: ([n]) => n }),
    sibling: fc.uniqueArray(
      fc.tuple(fc.integer({ min: 1, max: 60 }), fc.constantFrom(".ndjson", ".ndjson.gz", ".ndjson.gz.tmp"), bytes(200))
        .map(([age, ext, b]) => [dated("app", age, ext), b] as const),
      { minLength: 1, maxLength: 3, selector: ([n]) => n }
    ),
    concurrency: fc.integer({ min: 1, max: 2 }),
    ioConcurrency: fc.integer({ min: 1, max: 4 }),
    compressor: fc.record({
      wholeFileMaxBytes: fc.constantFrom(0, 700, 1024 * 1024),
      chunkSize: fc.constantFrom(97, 4096, 65536)
    }),
    faults: schedule(METHODS, { maxNth: 12, maxFaults: 4, patterns: ["\\.ndjson$", "\\.gz$", "\\.gz\\.tmp$"] })
  })
)

const gzip = (b: Uint8Array) => new Uint8Array(zlib.gzipSync(b))

const gunzipCache = new Map<string, Uint8Array | null>()
/** The decompressed bytes of a complete gzip stream, or undefined. */
const gunzip = (b: Uint8Array): Uint8Array | undefined => {
  const key = crypto.createHash("sha1").update(b).digest("base64")
  let out = gunzipCache.get(key)
  if (out === undefined) {
    try {
      out = new Uint8Array(zlib.gunzipSync(b))
    } catch {
      out = null
    }
    if (gunzipCache.size > 5000) gunzipCache.clear()
    gunzipCache.set(key, out)
  }
  return out ?? undefined
}

interface Managed {
  readonly path: string
  readonly age: number
  readonly bytes: Uint8Array
  readonly kind: "original" | "gz" | "tmp"
}

/** The files of the scenario, what the policy allows for each, and the faults' targets. */
const layout = (s: Scenario) => {
  const files: Array<readonly [string, Uint8Array]> = []
  const managed: Array<Managed> = []
  const originals: Array<Managed & { readonly gzConflicts: boolean; readonly compressible: boolean }> = []
  for (const g of s.groups) {
    const base = `${DIR}/${dated(g.prefix, g.age, ".ndjson")}`
    const add = (path: string, b: Uint8Array, kind: Managed["kind"]) => {
      files.push([path, b])
      managed.push({ path, age: g.age, bytes: b, kind })
    }
    let gz: Uint8Array | undefined
    const o = g.original
    switch (g.gz) {
      case "none":
        break
      case "exact":
        gz = o ? gzip(o) : undefined
        break
      case "sameSizeOther":
        gz = o && o.length > 0 ? gzip(o.map((x) => x ^ 0x5a)) : undefined
        break
      case "otherSize":
        gz = gzip(g.other.length === (o?.length ?? -1) ? new Uint8Array([...g.other, 1]) : g.other)
        break
      case "truncated":
        gz = o ? gzip(o).subarray(0, Math.floor(gzip(o).length / 2)) : undefined
        break
      case "garbage":
        gz = g.other
        break
    }
    if (o === undefined && gz === undefined && g.tmp === undefined) gz = gzip(g.other)
    if (o) add(base, o, "original")
    if (gz) add(`${base}.gz`, gz, "gz")
    if (g.tmp) add(`${base}.gz.tmp`, g.tmp, "tmp")
    if (o) {
      const expired = g.age > s.maxAgeDays
      const compressible = !expired && g.age >= 1 && s.compressAgeDays > 0 && g.age > s.compressAgeDays
      const decompressed = gz === undefined ? undefined : gunzip(gz)
      originals.push({
        path: base, age: g.age, bytes: o, kind: "original", compressible,
        gzConflicts: gz !== undefined && !sameBytes(decompressed, o)
      })
    }
  }
  for (const [name, b] of s.unmanaged) files.push([`${DIR}/${name}`, b])
  for (const [name, b] of s.sibling) files.push([`${SIBLING}/${name}`, b])
  files.push([`${NESTED}/${dated("app", 50, ".ndjson")}`, new Uint8Array(Buffer.from("{\"nested\":true}\n"))])
  return { files, managed, originals }
}

interface Run {
  readonly violations: ReadonlyArray<string>
  readonly fired: ReadonlyArray<ObservedCall>
  readonly first: Sweeper.SweepReport
  readonly second: Sweeper.SweepReport
}

const sweepScenario = (s: Scenario): Effect.Effect<Run> =>
  Effect.gen(function* () {
    yield* TestClock.setTime(TODAY.getTime())
    const mem = MemoryFileSystem.make()
    const { files, managed, originals } = layout(s)
    yield* Effect.orDie(Effect.gen(function* () {
      yield* mem.makeDirectory(NESTED, { recursive: true })
      yield* mem.makeDirectory(SIBLING, { recursive: true })
      yield* mem.makeDirectory(`${DIR}/${dated("dirlike", 40, ".ndjson")}`)
      for (const [path, b] of files) yield* mem.writeFile(path, b)
    }))
    const initial = new Map(mem.files().map(([p, b]) => [p, b] as const))
    const byPath = new Map(managed.map((m) => [m.path, m] as const))
    const originalOf = new Map(originals.map((o) => [o.path, o] as const))

    /** May the policy remove this initial file? */
    const mayRemove = (path: string) => {
      const m = byPath.get(path)
      if (m === undefined || m.age < 1) return false
      if (m.age > s.maxAgeDays) return true
      if (m.kind === "tmp") return true
      if (m.kind === "original") return originalOf.get(path)!.compressible
      return false
    }

    const violations: Array<string> = []
    const noted = new Set<string>()
    let phase = "first sweep"
    const check = (call: ObservedCall) => {
      const now = new Map(mem.files().map(([p, b]) => [p, b] as const))
      const at = `${phase}, step ${call.step} (${call.method} ${call.path}${call.error ? " failed" : ""})`
      const note = (what: string) => {
        if (noted.has(what)) return // reported at the first step it was seen
        noted.add(what)
        violations.push(`${at}: ${what}`)
      }
      for (const [path, b] of initial) {
        const m = byPath.get(path)
        const current = now.get(path)
        if (current === undefined) {
          if (!mayRemove(path)) note(`${path} was removed, and the policy does not remove it`)
        } else if (!sameBytes(current, b) && m?.kind !== "tmp") {
          note(`${path} was ${m?.kind === "gz" ? "replaced" : "modified"} (${b.length} -> ${current.length} bytes)`)
        }
      }
      for (const o of originals) {
        if (o.age > s.maxAgeDays || now.has(o.path)) continue
        const gz = now.get(`${o.path}.gz`)
        if (!sameBytes(gz === undefined ? undefined : gunzip(gz), o.bytes)) {
          note(`${o.path} is gone and ${gz === undefined ? "there is no .gz" : "its .gz does not decompress to its bytes"}: lost`)
        }
      }
      for (const [path, b] of now) {
        if (initial.has(path) || path.startsWith("/tmp/")) continue
        const tmp = path.endsWith(".ndjson.gz.tmp")
        const origin = originalOf.get(path.replace(/\.gz(\.tmp)?$/, ""))
        if (origin === undefined || !origin.compressible || !(tmp || path.endsWith(".ndjson.gz"))) {
          note(`unexpected new file ${path}`)
        } else if (!tmp && !sameBytes(gunzip(b), origin.bytes)) {
          note(`${path} was published incomplete or with other bytes`)
        }
      }
    }

    const fired: Array<ObservedCall> = []
    let recordFaults = true
    const fs = observe(mem, (call) => {
      if (call.injected && recordFaults) fired.push(call)
      if (MUTATING.has(call.method)) check(call)
    })
    const layer = Sweeper.layer.pipe(
      Layer.provide(Compressor.layerWith(s.compressor)),
      Layer.provide(Layer.succeed(FileSystem.FileSystem, fs))
    )
    const sweep = Sweeper.sweep([DIR], { maxAgeDays: s.maxAgeDays, compressAgeDays: s.compressAgeDays }, {
      concurrency: s.concurrency, ioConcurrency: s.ioConcurrency
    }).pipe(Effect.provide(layer))

    const targets = [...managed.map((m) => m.path), DIR]
    for (const spec of s.faults) mem.injectFault(resolveFault(spec, targets))
    const first = yield* sweep
    mem.clearFaults()
    recordFaults = false

    // Every fault that fired is in the report, unless the code documents absorbing it.
    const chains = first.failed.map((f) => ({ failure: f, chain: errorChain(f) }))
    const failedPaths = new Set(first.failed.map((f) => f.path))
    for (const f of fired) {
      const reported = chains.some(({ chain }) => chain.includes(f.error))
      if (reported) continue
      const reason = (f.error as { reason?: string }).reason
      // Sweeper: a failed readLink means "not a link" (then stat); NotFound from the probe means
      // "gone since the listing" and the name is dropped.
      if (f.method === "readLink") continue
      if (f.method === "stat" && reason === "NotFound") continue
      // Compressor: removing its own temp after a failure that is reported for the original.
      if (f.method === "remove" && f.path.endsWith(".gz.tmp") && failedPaths.has(f.path.slice(0, -".gz.tmp".length))) continue
      violations.push(`fault ${f.method} ${f.path} (${reason}) fired at step ${f.step} but is not in the report's failed`)
    }
    /** The daily file a path belongs to (`x.ndjson` for `x.ndjson.gz` and `x.ndjson.gz.tmp`). */
    const groupOf = (path: string) => path.replace(/\.gz(\.tmp)?$/, "")
    for (const { failure, chain } of chains) {
      if (fired.some((f) => chain.includes(f.error))) continue
      // A fault absorbed by design (e.g. a readLink "NotFound" that drops the .gz.tmp from the
      // listing) may make a later step of the same daily file fail: reported, nothing lost.
      if (fired.some((f) => groupOf(f.path) === groupOf(failure.path))) continue
      const original = originalOf.get(failure.path) ?? originalOf.get(failure.path.replace(/\.gz$/, ""))
      if (original?.gzConflicts) continue
      violations.push(`failure not explained by a fault or a mismatched .gz: ${failure.message}`)
    }
    const after = new Map(mem.files().map(([p, b]) => [p, b] as const))
    for (const c of first.compressed) {
      const o = originalOf.get(c.path)
      const gz = after.get(c.gzip)
      if (after.has(c.path) || o === undefined || gz === undefined || !sameBytes(gunzip(gz), o.bytes)) {
        violations.push(`report says ${c.path} was compressed, the disk does not`)
      }
    }
    // (A stale .gz.tmp deleted, then recreated by the compression that follows, may be left by a failed one.)
    for (const d of first.deleted) if (after.has(d.path) && !d.path.endsWith(".gz.tmp")) violations.push(`report says ${d.path} was deleted, it is there`)

    // A second sweep without faults finishes the job.
    phase = "second sweep"
    const second = yield* sweep
    const final = new Map(mem.files().map(([p, b]) => [p, b] as const))
    for (const failure of second.failed) {
      const original = originalOf.get(failure.path) ?? originalOf.get(failure.path.replace(/\.gz$/, ""))
      if (!original?.gzConflicts) violations.push(`second sweep (no faults) failed: ${failure.message}`)
    }
    for (const m of managed) {
      if (m.age > s.maxAgeDays && final.has(m.path)) violations.push(`expired ${m.path} is still there after two sweeps`)
    }
    for (const o of originals) {
      if (!o.compressible) continue
      if (o.gzConflicts) {
        if (!second.failed.some((f) => f.path === o.path || f.path === `${o.path}.gz`)) {
          violations.push(`${o.path}: its .gz holds other bytes, and the second sweep did not report it`)
        }
        continue
      }
      const gz = final.get(`${o.path}.gz`)
      if (final.has(o.path) || gz === undefined || !sameBytes(gunzip(gz), o.bytes)) {
        violations.push(`${o.path} is not compressed after two sweeps`)
      }
    }
    for (const path of final.keys()) {
      const m = /-(\d{4}-\d{2}-\d{2})\.ndjson\.gz\.tmp$/.exec(path)
      if (path.startsWith(DIR + "/") && m && new Date(m[1] + "T00:00:00Z").getTime() < Date.UTC(2026, 2, 15)) {
        violations.push(`stale temp ${path} left after two sweeps`)
      }
    }
    return { violations, fired, first, second }
  })

const describeScenario = (s: Scenario, r: Run) =>
  [
    ...r.violations,
    `faults fired: ${r.fired.map((f) => `${f.method} ${f.path} (${(f.error as { reason?: string }).reason})`).join(", ") || "none"}`,
    `first sweep failed: ${r.first.failed.map((f) => f.message).join(" | ") || "none"}`,
    `policy: maxAgeDays ${s.maxAgeDays}, compressAgeDays ${s.compressAgeDays}`
  ].join("\n")

const holds = (s: Scenario) =>
  Effect.map(sweepScenario(s), (r) => {
    if (r.violations.length > 0) expect.fail(describeScenario(s, r))
  })

describe("Sweeper under generated fault schedules", () => {
  // About 20 ms of CPU per schedule (two sweeps, gzip on the thread pool, a check after every mutating call).
  const RUNS = 800

  it.effect.prop(
    "every managed file survives as itself or as a complete .gz at every step, every fault is reported, a second sweep finishes",
    { s: scenario(["none", "none", "none", "exact", "otherSize", "truncated", "garbage"]) },
    ({ s }) => holds(s),
    { timeout: propertyTimeout(RUNS), fastCheck: fastCheckParameters(RUNS) }
  )

  // The same invariants where an existing .gz may hold other bytes of the original's size
  // (defect 3: only content comparison tells it apart).
  it.effect.prop(
    "a .gz of other bytes of the same size never costs the original, under faults too",
    { s: scenario(["none", "exact", "sameSizeOther", "sameSizeOther"]) },
    ({ s }) => holds(s),
    { timeout: propertyTimeout(RUNS / 2), fastCheck: fastCheckParameters(RUNS / 2) }
  )
})
