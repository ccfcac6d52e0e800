/**
 * Fault schedules for the appender (issue 9, "Fault schedules"): a generated sequence of
 * append / appendAll / flush runs against `RotatingAppender` + `RenameShift` on the in-memory
 * FileSystem while generated faults fail the n-th call of any operation it makes with any
 * `SystemError` reason (one schedule in five starts before the appender opens: an open that
 * fails must fail with a typed `WriteError`). After the run the faults are cleared, a flush
 * must succeed, and the appender is closed. Then the files on disk must be exactly what the documented rotation
 * rule makes of the acknowledged lines:
 *
 * - the rule ("if the active file is non-empty and its size plus the line would pass
 *   `maxBytes`, it rotates first") cuts the acknowledged lines, in acceptance order, into
 *   segments; it depends on line sizes only, not on I/O, so faults cannot change it;
 * - the active file holds the last segment, `.1` the one before, …, `.maxFiles` the oldest
 *   kept; older segments are the only lines retention may drop;
 * - so: every acknowledged line is on disk exactly once, whole, in order (oldest backup first,
 *   then the active file), except whole segments older than the newest `maxFiles` backups; no
 *   line that an append or appendAll failed on is on disk; no file passes `maxBytes` unless it
 *   holds a single line; nothing else is left in the directory.
 *
 * Two properties: one with `maxFiles` large enough that nothing is ever dropped (the whole
 * acknowledged sequence must be on disk), one with `maxFiles` 0–4 (the kept suffix: contiguous,
 * ending with the last acknowledged line, cut exactly at segment boundaries).
 */
import * as FileSystem from "@effect/platform/FileSystem"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, FastCheck as fc, Layer, Option, Scope } from "effect"
import * as Path from "node:path"
import * as MemoryFileSystem from "../../src/platform/MemoryFileSystem.js"
import type { FaultMethod } from "../../src/platform/MemoryFileSystem.js"
import * as RenameShift from "../../src/rotation/RenameShift.js"
import * as RotatingAppender from "../../src/rotation/RotatingAppender.js"
import * as RotationPolicy from "../../src/rotation/RotationPolicy.js"
import {
  type FaultSpec,
  fastCheckParameters,
  type ObservedCall,
  observe,
  propertyTimeout,
  resolveFault,
  schedule
} from "../support/faults.js"

const DIR = "/var/log/svc"
const NAME = "app.jsonl"
const PATH = `${DIR}/${NAME}`

/** Every operation the appender and RenameShift call (`access` is `exists`). */
const METHODS: ReadonlyArray<FaultMethod> = [
  "open", "write", "stat", "truncate", "sync", "readDirectory", "remove", "rename", "access", "makeDirectory"
]

type Op =
  | { readonly _tag: "append"; readonly payload: string; readonly bad: boolean }
  | { readonly _tag: "appendAll"; readonly payloads: ReadonlyArray<string>; readonly bad: boolean }
  | { readonly _tag: "flush" }
  | { readonly _tag: "yield"; readonly times: number }

interface Scenario {
  readonly maxBytes: number
  readonly maxFiles: number
  readonly highWaterMark: number
  readonly ops: ReadonlyArray<Op>
  readonly faults: ReadonlyArray<FaultSpec>
  /** Inject the faults before the appender opens (else once it is open). */
  readonly beforeOpen: boolean
}

/** 1- to 4-byte UTF-8 characters, so byte and character counts differ. */
const payload = (maxBytes: number) =>
  fc.string({ unit: fc.constantFrom("a", "b", "{", "\"", "é", "€", "𝄞"), maxLength: Math.ceil(maxBytes * 0.6), size: "max" })

const op = (maxBytes: number): fc.Arbitrary<Op> =>
  fc.oneof(
    { weight: 10, arbitrary: fc.record({ _tag: fc.constant("append" as const), payload: payload(maxBytes), bad: fc.constant(false) }) },
    {
      weight: 3,
      arbitrary: fc.record({
        _tag: fc.constant("appendAll" as const),
        payloads: fc.array(payload(maxBytes), { minLength: 1, maxLength: 6 }),
        bad: fc.constant(false)
      })
    },
    { weight: 1, arbitrary: fc.record({ _tag: fc.constant("append" as const), payload: payload(maxBytes), bad: fc.constant(true) }) },
    { weight: 1, arbitrary: fc.record({ _tag: fc.constant("appendAll" as const), payloads: fc.array(payload(maxBytes), { minLength: 1, maxLength: 4 }), bad: fc.constant(true) }) },
    { weight: 3, arbitrary: fc.constant<Op>({ _tag: "flush" }) },
    { weight: 3, arbitrary: fc.integer({ min: 1, max: 5 }).map((times): Op => ({ _tag: "yield", times })) }
  )

const scenario = (maxFiles: fc.Arbitrary<number>): fc.Arbitrary<Scenario> =>
  fc.integer({ min: 64, max: 512 }).chain((maxBytes) =>
    fc.record({
      maxBytes: fc.constant(maxBytes),
      maxFiles,
      highWaterMark: fc.oneof(fc.integer({ min: 1, max: 2 * maxBytes }), fc.constant(256 * 1024)),
      ops: fc.array(op(maxBytes), { minLength: 1, maxLength: 30, size: "max" }),
      faults: schedule(METHODS, { maxNth: 12, maxFaults: 4, patterns: [`^${DIR}/${NAME}$`, `\\.\\d+$`, `\\.lock$`] }),
      beforeOpen: fc.oneof({ weight: 1, arbitrary: fc.constant(true) }, { weight: 4, arbitrary: fc.constant(false) })
    })
  )

const byteLength = (line: string) => Buffer.byteLength(line, "utf8")

/** The documented rotation rule applied to the acknowledged lines: the files' contents, oldest first. */
export const segments = (lines: ReadonlyArray<string>, maxBytes: number): ReadonlyArray<ReadonlyArray<string>> => {
  const out: Array<Array<string>> = [[]]
  let size = 0
  for (const line of lines) {
    const bytes = byteLength(line) + 1
    if (maxBytes > 0 && size > 0 && size + bytes > maxBytes) {
      out.push([])
      size = 0
    }
    out[out.length - 1]!.push(line)
    size += bytes
  }
  return out
}

interface Outcome {
  readonly acknowledged: ReadonlyArray<string>
  readonly rejected: ReadonlyArray<string>
  readonly finalFlush: Exit.Exit<void, unknown>
  readonly files: ReadonlyArray<readonly [string, Uint8Array]>
  readonly fired: ReadonlyArray<ObservedCall>
  /** Set when opening failed (faults before open): the failure, which must be a typed WriteError. */
  readonly openFailure?: string
}

/** Runs the scenario; faults are injected once the appender is open and cleared before the final flush. */
const run = (s: Scenario): Effect.Effect<Outcome> =>
  Effect.gen(function* () {
    // One macrotask turn per schedule: a run is all microtasks otherwise, and a long property
    // would starve vitest's worker RPC ("Timeout calling onTaskUpdate").
    yield* Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))
    const mem = MemoryFileSystem.unsafeMake()
    const fired: Array<ObservedCall> = []
    const fs = observe(mem, (call) => void (call.injected && fired.push(call)))
    const services = RenameShift.layer.pipe(Layer.provideMerge(Layer.succeed(FileSystem.FileSystem, fs)))
    const policy = RotationPolicy.unsafeMake({ maxBytes: s.maxBytes, maxFiles: s.maxFiles })
    const scope = yield* Scope.make()
    const backupPaths = Array.from({ length: 6 }, (_, i) => `${PATH}.${i + 1}`)
    const inject = () => s.faults.forEach((spec) => mem.injectFault(resolveFault(spec, [PATH, DIR, ...backupPaths])))
    if (s.beforeOpen) inject()
    const opened = yield* Effect.exit(RotatingAppender.make(PATH, { policy, highWaterMark: s.highWaterMark }).pipe(
      Scope.extend(scope),
      Effect.provide(services)
    ))
    if (Exit.isFailure(opened)) {
      yield* Scope.close(scope, Exit.void)
      const error = Cause.failureOption(opened.cause)
      return {
        acknowledged: [], rejected: [], finalFlush: Exit.void, files: mem.files(), fired,
        openFailure: Option.isSome(error) && (error.value._tag === "WriteError" ||
            // An injected AlreadyExists on creating the claim says "another writer holds it":
            // refusing with FileClaimed is the right answer to that lie.
            (error.value._tag === "FileClaimed" && fired.some(claimSaidTaken)))
          ? "WriteError"
          : Cause.pretty(opened.cause)
      }
    }
    const appender = opened.value
    if (!s.beforeOpen) inject()

    const acknowledged: Array<string> = []
    const rejected: Array<string> = []
    let seq = 0
    const line = (text: string, bad: boolean) => `{"n":${++seq},"p":"${text}"${bad ? "\n" : ""}}`
    for (const o of s.ops) {
      switch (o._tag) {
        case "append": {
          const l = line(o.payload, o.bad)
          const exit = yield* Effect.exit(appender.append(l))
          ;(Exit.isSuccess(exit) ? acknowledged : rejected).push(l)
          break
        }
        case "appendAll": {
          const ls = o.payloads.map((p, i) => line(p, o.bad && i === o.payloads.length - 1))
          const exit = yield* Effect.exit(appender.appendAll(ls))
          ;(Exit.isSuccess(exit) ? acknowledged : rejected).push(...ls)
          break
        }
        case "flush":
          yield* Effect.exit(appender.flush)
          break
        case "yield":
          for (let i = 0; i < o.times; i++) yield* Effect.yieldNow()
          break
      }
    }
    mem.clearFaults()
    const finalFlush = yield* Effect.exit(appender.flush)
    yield* Scope.close(scope, Exit.void)
    return { acknowledged, rejected, finalFlush, files: mem.files(), fired }
  })

const claimSaidTaken = (call: ObservedCall) =>
  call.method === "open" && call.path.endsWith(".lock") && typeof call.error === "object" && call.error !== null &&
  (call.error as { readonly reason?: unknown }).reason === "AlreadyExists"

/** Everything wrong with the outcome, as readable lines; empty when every invariant holds. */
const violations = (s: Scenario, o: Outcome): ReadonlyArray<string> => {
  const problems: Array<string> = []
  if (o.openFailure !== undefined && o.openFailure !== "WriteError") problems.push(`opening failed with other than a WriteError: ${o.openFailure}`)
  if (Exit.isFailure(o.finalFlush)) problems.push(`flush after clearing the faults failed: ${String(o.finalFlush.cause)}`)
  const text = (bytes: Uint8Array) => Buffer.from(bytes).toString("utf8")
  const inDir = o.files.filter(([p]) => p.startsWith(DIR + "/"))
  const byName = new Map(inDir.map(([p, b]) => [p.slice(DIR.length + 1), text(b)] as const))

  // Files that should be there, from the rule.
  const segs = segments(o.acknowledged, s.maxBytes)
  const expected = new Map<string, ReadonlyArray<string>>()
  expected.set(NAME, segs[segs.length - 1]!)
  for (let k = 1; k <= s.maxFiles && segs.length - 1 - k >= 0; k++) expected.set(`${NAME}.${k}`, segs[segs.length - 1 - k]!)
  const dropped = segs.slice(0, Math.max(0, segs.length - 1 - s.maxFiles)).flat()

  // The claim is removed at close (renamed aside to `<lock>.<id>.stale`, read (stat, open,
  // fstat, read: LockFile never uses readFile, which follows links and blocks on FIFOs), removed); only a
  // fault on that removal may leave it (LockFile logs it, puts it back under its name, and the
  // next appender on the path finds it stale).
  const lockPath = RotatingAppender.lockPathOf(PATH)
  const lockName = Path.basename(lockPath)
  const claimLeft = byName.has(lockName)
  const hitRelease = (c: ObservedCall) =>
    c.path.startsWith(lockPath) &&
    (c.method === "remove" || c.method === "rename" || c.method === "readFile" || c.method === "stat" || c.method === "open" ||
      c.method === "read" || c.method.startsWith("file.")) // file.*: calls on the open lock file's handle
  if (claimLeft && !o.fired.some(hitRelease)) {
    problems.push(`the claim ${lockName} is still there after close; fired: ${o.fired.map((c) => `${c.method} ${c.path}`).join(", ")}`)
  }
  byName.delete(lockName)
  // A release whose put-back failed too leaves the claim renamed aside (`<lock>.<id>.stale`,
  // inert; the first acquire after this process ends removes it): only after such a fault.
  for (const name of [...byName.keys()]) {
    if (name.startsWith(`${lockName}.`) && name.endsWith(".stale") && o.fired.some(hitRelease)) byName.delete(name)
  }
  for (const name of byName.keys()) if (!expected.has(name)) problems.push(`unexpected file ${name}`)
  for (const [name, lines] of expected) {
    const actual = byName.get(name)
    const want = lines.map((l) => l + "\n").join("")
    if (actual === undefined) {
      if (lines.length > 0 || name !== NAME) problems.push(`missing ${name} (should hold ${lines.length} lines)`)
      continue
    }
    if (actual !== want) problems.push(`${name} holds ${JSON.stringify(actual)}, expected ${JSON.stringify(want)}`)
  }

  // The same facts said directly (clearer messages, and independent of the segment model).
  const ordered = [...byName.keys()].filter((n) => n !== NAME).sort((a, b) => Number(b.split(".").pop()) - Number(a.split(".").pop()))
  const onDisk: Array<string> = []
  for (const name of [...ordered, ...(byName.has(NAME) ? [NAME] : [])]) {
    const content = byName.get(name)!
    if (content.length > 0 && !content.endsWith("\n")) problems.push(`${name} ends with a torn line`)
    const lines = content.split("\n").slice(0, -1)
    if (s.maxBytes > 0 && Buffer.byteLength(content) > s.maxBytes && lines.length > 1) {
      problems.push(`${name} has ${Buffer.byteLength(content)} bytes > maxBytes ${s.maxBytes} with ${lines.length} lines`)
    }
    onDisk.push(...lines)
  }
  const rejected = new Set(o.rejected)
  for (const l of onDisk) if (rejected.has(l)) problems.push(`a line whose append failed is on disk: ${l}`)
  const kept = o.acknowledged.slice(dropped.length)
  if (JSON.stringify(onDisk) !== JSON.stringify(kept)) {
    const missing = kept.filter((l) => !onDisk.includes(l))
    problems.push(`on disk (${onDisk.length} lines) is not the acknowledged lines after the ${dropped.length} retention dropped (${kept.length}); missing ${missing.length}: ${missing.slice(0, 3).join(" | ")}`)
  }
  return problems
}

const check = (s: Scenario) =>
  Effect.map(run(s), (outcome) => {
    const problems = violations(s, outcome)
    if (problems.length > 0) {
      const fired = outcome.fired.map((c) => `${c.method} ${c.path}`).join(", ")
      expect.fail(`${problems.join("\n")}\nfaults fired: ${fired}\nacknowledged: ${outcome.acknowledged.length}`)
    }
  })

describe("RotatingAppender under generated fault schedules", () => {
  // About 20 ms of CPU per schedule: about 14 s per property on an idle 2-core machine.
  const RUNS = 700

  it.effect.prop(
    "with maxFiles large enough to drop nothing, every acknowledged line is on disk exactly once, whole, in order",
    { s: scenario(fc.constant(1000)) },
    ({ s }) => check(s),
    { timeout: propertyTimeout(RUNS), fastCheck: fastCheckParameters(RUNS) }
  )

  it.effect.prop(
    "with maxFiles 0–4, the files hold exactly the newest maxFiles+1 segments of the acknowledged lines",
    { s: scenario(fc.integer({ min: 0, max: 4 })) },
    ({ s }) => check(s),
    { timeout: propertyTimeout(RUNS), fastCheck: fastCheckParameters(RUNS) }
  )
})

describe("RotatingAppender, a failed rotation whose source only seems gone (found by the schedules above)", () => {
  it.effect("a stat that says NotFound after a failed rotation never lets the reopened file pass maxBytes", () =>
    Effect.gen(function* () {
      const mem = MemoryFileSystem.unsafeMake()
      const services = RenameShift.layer.pipe(Layer.provideMerge(Layer.succeed(FileSystem.FileSystem, mem)))
      const l1 = `{"n":1,"p":"${"a".repeat(48)}"}` // 60 bytes with its \n
      const l2 = `{"n":2,"p":"${"b".repeat(48)}"}`
      yield* Effect.scoped(Effect.gen(function* () {
        const appender = yield* RotatingAppender.make(PATH, { policy: RotationPolicy.unsafeMake({ maxBytes: 100, maxFiles: 5 }) })
        yield* appender.append(l1)
        yield* appender.flush
        // The rotation before l2 fails (rename), and the check whether its source vanished is told NotFound,
        // though app.jsonl (with l1) is still there.
        mem.injectFault({ method: "rename", path: PATH, reason: "PermissionDenied" })
        mem.injectFault({ method: "stat", path: PATH, nth: 3, reason: "NotFound" })
        yield* appender.append(l2)
        yield* Effect.exit(appender.flush)
        mem.clearFaults()
        yield* appender.flush
      })).pipe(Effect.provide(services))
      const files = Object.fromEntries(mem.files().filter(([p]) => p.startsWith(`${DIR}/`)).map(([p, b]) => [p.slice(DIR.length + 1), Buffer.from(b).toString()]))
      expect(files).toEqual({ [NAME]: `${l2}\n`, [`${NAME}.1`]: `${l1}\n` })
    }))
})
