/**
 * Shared pieces of the fault-schedule property tests (test/faults/): arbitraries for
 * `MemoryFileSystem.injectFault` schedules, the fast-check parameters (run count and replay
 * from the environment), and a FileSystem wrapper that sees every call and every injected
 * fault that fired, so a test can check invariants after each step and match fired faults
 * against what the code reported.
 *
 * Environment:
 * - `FAULT_RUNS`: schedules per property (default: each property's own, chosen to stay well
 *   under 20 s on a 2-core machine). `FAULT_RUNS=20000` for a long campaign.
 * - `FAULT_SEED` (and optionally `FAULT_PATH`): replay the failure fast-check printed
 *   (`{ seed: …, path: "…" }`).
 */
import { SystemError, type SystemErrorReason } from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import { type Cause, Effect, FastCheck as fc } from "effect"
import type { Fault, FaultMethod } from "../../src/platform/MemoryFileSystem.js"

/** Every `SystemError` reason `@effect/platform` defines. */
export const REASONS: ReadonlyArray<SystemErrorReason> = [
  "AlreadyExists", "BadResource", "Busy", "InvalidData", "NotFound", "PermissionDenied",
  "TimedOut", "UnexpectedEof", "Unknown", "WouldBlock", "WriteZero"
]

export const reason: fc.Arbitrary<SystemErrorReason> = fc.constantFrom(...REASONS)

/** Where a generated fault applies: every path, one of the scenario's paths (by index), or a regex. */
export type FaultTarget =
  | { readonly _tag: "Any" }
  | { readonly _tag: "Index"; readonly index: number }
  | { readonly _tag: "Pattern"; readonly source: string }

/**
 * A fault as generated; `resolveFault` turns it into a `Fault` for `MemoryFileSystem.injectFault`,
 * or for `instrumentBoth` (test/support/retention.ts, which also sees the SafeFs calls), by the
 * method names `M` of either.
 */
export interface FaultSpec<M extends string = FaultMethod> {
  readonly method: M
  readonly nth: number
  readonly times: number
  readonly reason: SystemErrorReason
  readonly target: FaultTarget
}

/**
 * A fault on one of `methods`: the `nth` (1..maxNth) matching call fails, and the next
 * `times - 1` too (mostly 1, sometimes 2–3, sometimes "from then on" as 1000), with any reason,
 * on any path, on one path of the scenario, or on paths matching one of `patterns`.
 */
export const faultSpec = <M extends string = FaultMethod>(
  methods: ReadonlyArray<M>,
  options: { readonly maxNth: number; readonly patterns?: ReadonlyArray<string> }
): fc.Arbitrary<FaultSpec<M>> =>
  fc.record({
    method: fc.constantFrom(...methods),
    // Mostly early calls, so most schedules fire; sometimes any call up to maxNth.
    nth: fc.oneof(
      { weight: 3, arbitrary: fc.integer({ min: 1, max: Math.min(3, options.maxNth) }) },
      { weight: 2, arbitrary: fc.integer({ min: 1, max: options.maxNth }) }
    ),
    times: fc.oneof(
      { weight: 6, arbitrary: fc.constant(1) },
      { weight: 2, arbitrary: fc.integer({ min: 2, max: 3 }) },
      { weight: 1, arbitrary: fc.constant(1000) }
    ),
    reason,
    target: fc.oneof(
      { weight: 3, arbitrary: fc.constant<FaultTarget>({ _tag: "Any" }) },
      { weight: 3, arbitrary: fc.nat({ max: 1000 }).map((index): FaultTarget => ({ _tag: "Index", index })) },
      ...(options.patterns && options.patterns.length > 0
        ? [{
          weight: 1,
          arbitrary: fc.constantFrom(...options.patterns).map((source): FaultTarget => ({ _tag: "Pattern", source }))
        }]
        : [])
    )
  })

/** A schedule: up to `maxFaults` faults, injected in order. */
export const schedule = <M extends string = FaultMethod>(
  methods: ReadonlyArray<M>,
  options: { readonly maxNth: number; readonly maxFaults: number; readonly patterns?: ReadonlyArray<string> }
): fc.Arbitrary<ReadonlyArray<FaultSpec<M>>> =>
  fc.oneof(
    { weight: 1, arbitrary: fc.constant<ReadonlyArray<FaultSpec<M>>>([]) },
    { weight: 9, arbitrary: fc.array(faultSpec(methods, options), { minLength: 1, maxLength: options.maxFaults, size: "max" }) }
  )

/** `spec` as a `Fault`; an `Index` target picks `paths[index % paths.length]` (every path if none). */
export const resolveFault = <M extends string = FaultMethod>(
  spec: FaultSpec<M>,
  paths: ReadonlyArray<string>
): Omit<Fault, "method"> & { readonly method: M } => {
  const base = { method: spec.method, nth: spec.nth, times: spec.times, reason: spec.reason }
  switch (spec.target._tag) {
    case "Any":
      return base
    case "Index":
      return paths.length === 0 ? base : { ...base, path: paths[spec.target.index % paths.length]! }
    case "Pattern":
      return { ...base, path: new RegExp(spec.target.source) }
  }
}

const runsFor = (defaultRuns: number) => {
  const runs = Number(process.env.FAULT_RUNS ?? defaultRuns)
  return Number.isFinite(runs) && runs > 0 ? runs : defaultRuns
}

/**
 * Per-test timeout for a property: generous (the machine may be shared, and `FAULT_RUNS` may
 * scale it up), and a minute longer than fast-check's own limit below.
 */
export const propertyTimeout = (defaultRuns: number) => Math.max(300_000, 150 * runsFor(defaultRuns)) + 60_000

/**
 * fast-check parameters: `FAULT_RUNS` overrides `defaultRuns`; `FAULT_SEED`/`FAULT_PATH`
 * replay a printed failure. fast-check prints the seed and path of any failure. Shrinking a
 * failure re-runs many schedules; `interruptAfterTimeLimit` stops it in time for fast-check to
 * print the seed and the smallest counterexample so far, rather than vitest timing out with
 * neither. (A passing property interrupted by the limit, on a badly overloaded machine, passes
 * with the schedules it ran.)
 */
export const fastCheckParameters = (defaultRuns: number) => {
  const seed = process.env.FAULT_SEED === undefined ? undefined : Number(process.env.FAULT_SEED)
  const path = process.env.FAULT_PATH
  return {
    numRuns: runsFor(defaultRuns),
    interruptAfterTimeLimit: propertyTimeout(defaultRuns) - 60_000,
    ...(seed === undefined ? {} : { seed }),
    ...(path === undefined ? {} : { path })
  }
}

/** One call on the observed FileSystem (or on a `File` it opened), after it returned. */
export interface ObservedCall {
  /** 0-based, in the order calls returned. */
  readonly step: number
  readonly method: string
  readonly path: string
  /** The error the call failed with, if any. */
  readonly error?: unknown
  /** The call failed with a fault `injectFault` scheduled. */
  readonly injected: boolean
}

/** True for a `SystemError` that `MemoryFileSystem`'s fault injection made. */
export const isInjected = (error: unknown): error is SystemError =>
  error instanceof SystemError && error.description === "injected fault"

const DERIVED = new Set(["exists", "readFileString", "stream", "sink", "writeFileString"])

/**
 * Wraps `base` so `after` runs after every call returns (success or failure), including the
 * calls on the `File`s it opens (read, write, sync, stat, truncate). The methods `FileSystem.make`
 * derives (exists, readFileString, stream, sink, writeFileString) are rebuilt on the wrapped
 * ones, so their underlying calls are seen too.
 */
export const observe = (
  base: FileSystem.FileSystem,
  after: (call: ObservedCall) => void
): FileSystem.FileSystem => {
  let step = 0
  const report = (method: string, path: string, error?: unknown) =>
    after({ step: step++, method, path, injected: isInjected(error), ...(error === undefined ? {} : { error }) })
  const watch = <A, E, R>(method: string, path: string, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    effect.pipe(
      Effect.onExit((exit) =>
        Effect.sync(() => report(method, path, exit._tag === "Failure" ? failureOf(exit.cause) : undefined))
      )
    )
  const wrapFile = (file: FileSystem.File, path: string): FileSystem.File => ({
    [FileSystem.FileTypeId]: FileSystem.FileTypeId,
    fd: file.fd,
    stat: watch("file.stat", path, file.stat),
    seek: (offset, from) => file.seek(offset, from),
    sync: watch("sync", path, file.sync),
    read: (buffer) => watch("read", path, file.read(buffer)),
    readAlloc: (size) => watch("read", path, file.readAlloc(size)),
    truncate: (length) => watch("file.truncate", path, file.truncate(length)),
    write: (buffer) => watch("write", path, file.write(buffer)),
    writeAll: (buffer) => watch("write", path, file.writeAll(buffer))
  })
  const wrapped: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(base)) {
    if (typeof value !== "function" || DERIVED.has(key)) {
      wrapped[key] = value
      continue
    }
    wrapped[key] = (...args: Array<unknown>) => {
      const result = (value as (...a: Array<unknown>) => unknown).apply(base, args)
      if (!Effect.isEffect(result)) return result
      const path = typeof args[0] === "string" ? args[0] : ""
      const observed = watch(key, path, result as Effect.Effect<unknown, unknown, unknown>)
      return key === "open"
        ? Effect.map(observed, (file) => wrapFile(file as FileSystem.File, path))
        : observed
    }
  }
  return FileSystem.make(wrapped as unknown as Parameters<typeof FileSystem.make>[0])
}

const failureOf = (cause: Cause.Cause<unknown>): unknown => {
  const failures = [...iterateFailures(cause)]
  return failures[0] ?? cause
}

function* iterateFailures(cause: Cause.Cause<unknown>): Generator<unknown> {
  switch (cause._tag) {
    case "Fail":
      yield cause.error
      return
    case "Die":
      yield cause.defect
      return
    case "Sequential":
    case "Parallel":
      yield* iterateFailures(cause.left)
      yield* iterateFailures(cause.right)
      return
    default:
      return
  }
}

/** The error and its `cause`/`error` chain (a `SweepFailure` holds `error`, a `CompressError` `cause`). */
export const errorChain = (error: unknown): ReadonlyArray<unknown> => {
  const out: Array<unknown> = []
  let current: unknown = error
  for (let depth = 0; depth < 8 && current !== undefined && current !== null; depth++) {
    out.push(current)
    if (typeof current !== "object") break
    const next = (current as { cause?: unknown; error?: unknown }).error ?? (current as { cause?: unknown }).cause
    if (next === current) break
    current = next
  }
  return out
}

/** Bytes equal. */
export const sameBytes = (a: Uint8Array | undefined, b: Uint8Array | undefined) =>
  a !== undefined && b !== undefined && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
    Buffer.from(b.buffer, b.byteOffset, b.byteLength)
  )
