/**
 * A host service with the plan's operational appenders, an NDJSON logger, a daily event
 * file and the retention worker, all as Layers, writing to ./logs with tiny limits so that
 * rotation and a retention sweep happen within seconds.
 *
 *   npx tsx examples/host-service.ts                        # until Ctrl-C (or SIGTERM)
 *   HOST_SERVICE_SECONDS=8 npx tsx examples/host-service.ts  # stops by itself after 8 s
 *
 * What it writes:
 *   logs/heartbeat.jsonl, jobs.jsonl, audit.jsonl, telemetry.jsonl   RotatingAppender each, own policy
 *   logs/host.jsonl                                                  NdjsonLogger (every Effect.log*)
 *   logs/events-YYYY-MM-DD.ndjson                                    DailyAppender (UTC day)
 * It starts by printing the limits in use (sizes, backups, ages, sweep interval). Into a new
 * or empty ./logs it seeds two old daily files (40 and 10 days old); the first sweep deletes
 * the one past maxAgeDays (30) and gzips the one past compressAgeDays (7). A ./logs left by an
 * earlier run is used as it is, and it says so: nothing is seeded again (remove ./logs to see
 * the first sweep once more). Every second it prints each file's size, `+N` for N rotated
 * backups (explained where it first appears) and the `.gz` files; as they happen, what rotated; and each sweep's
 * summary with every failure. Rotations are not found by polling: the host subscribes to `LogEvents`
 * and prints a line for each `Rotated` (and `BackupRemoved`) event the appenders publish. Ctrl-C interrupts the program; closing the Layers flushes and
 * closes every file, then the final listing prints. Run from another directory, it writes to
 * that directory's ./logs (test/examples.test.ts runs it twice in a temp directory).
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as Console from "effect/Console"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import * as Path from "node:path"
import { pathToFileURL } from "node:url"
import {
  Compressor,
  DailyAppender,
  LogEvents,
  NdjsonLogger,
  RenameShift,
  RetentionPolicy,
  RetentionWorker,
  RotatingAppender,
  RotationPolicy,
  SafeFs,
  Sweeper
} from "../src/index.js"

// ---------------------------------------------------------------------------------------
// The operational appenders: one tag per file, each with its own policy, in one Layer.

export class Heartbeat extends Context.Tag("host-service/Heartbeat")<Heartbeat, RotatingAppender.RotatingAppender>() {}
export class Jobs extends Context.Tag("host-service/Jobs")<Jobs, RotatingAppender.RotatingAppender>() {}
export class Audit extends Context.Tag("host-service/Audit")<Audit, RotatingAppender.RotatingAppender>() {}
export class Telemetry extends Context.Tag("host-service/Telemetry")<Telemetry, RotatingAppender.RotatingAppender>() {}

export interface Limits {
  readonly heartbeat?: RotationPolicy.Policy
  readonly jobs?: RotationPolicy.Policy
  readonly audit?: RotationPolicy.Policy
  readonly telemetry?: RotationPolicy.Policy
}

/** The program's default policy (heartbeat, telemetry) and the logger's (host.jsonl): 4 KiB, 3 backups. */
const programPolicy = RotationPolicy.unsafeMake({ maxBytes: 4096, maxFiles: 3 })
const loggerPolicy = RotationPolicy.unsafeMake({ maxBytes: 4096, maxFiles: 3 })

/** The example's limits: audit keeps more, smaller files; heartbeat and telemetry use the program's policy. */
export const exampleLimits: Limits = {
  jobs: RotationPolicy.unsafeMake({ maxBytes: 4096, maxFiles: 3 }),
  audit: RotationPolicy.unsafeMake({ maxBytes: 2048, maxFiles: 5 })
}

/**
 * The four operational appenders under `dir`. An appender without a policy in `limits`
 * uses the program's `RotationPolicy`.
 */
export const OperationalAppenders = (dir: string, limits: Limits = exampleLimits) => {
  const options = (policy: RotationPolicy.Policy | undefined) => (policy ? { policy } : {})
  return Layer.mergeAll(
    RotatingAppender.layerAs(Heartbeat, Path.join(dir, "heartbeat.jsonl"), options(limits.heartbeat)),
    RotatingAppender.layerAs(Jobs, Path.join(dir, "jobs.jsonl"), options(limits.jobs)),
    RotatingAppender.layerAs(Audit, Path.join(dir, "audit.jsonl"), options(limits.audit)),
    RotatingAppender.layerAs(Telemetry, Path.join(dir, "telemetry.jsonl"), options(limits.telemetry))
  )
}

// ---------------------------------------------------------------------------------------
// The service's work: four loops writing to their appenders, logging, and recording events.

const LOGS = "logs"
const DAY_MS = 24 * 60 * 60 * 1000

/** The retention worker's policy over ./logs: tiny ages and interval, so a sweep happens within seconds. */
const retention = { enabled: true, dirs: [LOGS], maxAgeDays: 30, compressAgeDays: 7, checkIntervalSeconds: 5 } as const
const now = Effect.map(Clock.currentTimeMillis, (ms) => new Date(ms).toISOString())

const heartbeat = Effect.gen(function* () {
  const log = yield* Heartbeat
  let seq = 0
  yield* Effect.suspend(() =>
    Effect.flatMap(now, (at) => log.appendJson({ at, event: "heartbeat", seq: ++seq, rssBytes: process.memoryUsage().rss }))
  ).pipe(Effect.repeat(Schedule.spaced("100 millis")))
})

const jobWorker = (worker: number) =>
  Effect.gen(function* () {
    const jobs = yield* Jobs
    const events = yield* DailyAppender.DailyAppender
    let seq = 0
    yield* Effect.gen(function* () {
      const id = `w${worker}-${++seq}`
      const ms = yield* Random.nextIntBetween(50, 400)
      yield* jobs.appendJson({ at: yield* now, event: "job.started", id })
      yield* Effect.sleep(ms)
      yield* jobs.appendJson({ at: yield* now, event: "job.finished", id, ms })
      yield* events.appendJson({ at: yield* now, event: "job.finished", id })
      yield* Effect.logInfo("job finished").pipe(Effect.annotateLogs({ job: id, ms }))
    }).pipe(Effect.withLogSpan("job"), Effect.forever)
  })

const audit = Effect.gen(function* () {
  const log = yield* Audit
  const events = yield* DailyAppender.DailyAppender
  const actors = ["ann", "bob", "cy"] as const
  const actions = ["login", "config.read", "config.write", "logout"] as const
  yield* Effect.gen(function* () {
    const actor = actors[yield* Random.nextIntBetween(0, actors.length)]
    const action = actions[yield* Random.nextIntBetween(0, actions.length)]
    yield* log.appendJson({ at: yield* now, actor, action, resource: "/settings" })
    yield* events.appendJson({ at: yield* now, event: "audit", actor, action })
  }).pipe(Effect.repeat(Schedule.spaced("250 millis")))
})

const telemetry = Effect.gen(function* () {
  const log = yield* Telemetry
  yield* Effect.gen(function* () {
    const at = yield* now
    const load = (yield* Random.nextIntBetween(0, 1000)) / 10
    yield* log.appendAll([
      JSON.stringify({ at, metric: "cpu.percent", value: load }),
      JSON.stringify({ at, metric: "heap.used", value: process.memoryUsage().heapUsed })
    ])
  }).pipe(Effect.repeat(Schedule.spaced("50 millis")))
})

// ---------------------------------------------------------------------------------------
// What the terminal shows: the limits, sizes and rotations once a second, each sweep's summary.

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)}K`
const sizeOf = (bytes: number) => bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} B`
const rotation = (policy: RotationPolicy.Policy) => `rotate at ${sizeOf(policy.maxBytes)}, keep ${policy.maxFiles} backups`

/** The first screen: every limit in use, read from the values the Layers below are built with. */
export const describeLimits = (): ReadonlyArray<string> => [
  "limits (tiny on purpose, so rotation and retention show within seconds):",
  `  heartbeat.jsonl, telemetry.jsonl  ${rotation(exampleLimits.heartbeat ?? programPolicy)}`,
  `  jobs.jsonl                        ${rotation(exampleLimits.jobs ?? programPolicy)}`,
  `  audit.jsonl                       ${rotation(exampleLimits.audit ?? programPolicy)}`,
  `  host.jsonl (every Effect.log*)    ${rotation(loggerPolicy)}`,
  `  events-YYYY-MM-DD.ndjson          gzip after ${retention.compressAgeDays} days, delete after ${retention.maxAgeDays} days;` +
  ` sweep at start, then every ${retention.checkIntervalSeconds} s`,
  "each second: file size+N, where +N counts its rotated backups"
]

/** Said once, under the first status line with a `+N`. */
const explainBackups = (active: string, backups: number, max: number) =>
  `       (${active.replace(/\.jsonl$/, "")} …+${backups}: ${active} has ${backups} rotated backup${backups === 1 ? "" : "s"} beside it, ` +
  `${backups === 1 ? `${active}.1` : `${active}.1 (newest) .. ${active}.${backups}`}; at most ${max} are kept, the oldest is deleted)`

const policyOf = (active: string): RotationPolicy.Policy =>
  active === "jobs.jsonl" ? exampleLimits.jobs ?? programPolicy
  : active === "audit.jsonl" ? exampleLimits.audit ?? programPolicy
  : active === "host.jsonl" ? loggerPolicy
  : programPolicy

/** Active file → `{ size, backups }` for every file in `dir` (gz and dated files as their own). */
const snapshot = (dir: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const names = (yield* fs.readDirectory(dir)).sort()
    const sizes = new Map<string, number>()
    for (const name of names) {
      // A file can be renamed or removed between the listing and its stat (a rotation, a sweep).
      const info = yield* Effect.option(fs.stat(Path.join(dir, name)))
      if (Option.isSome(info)) sizes.set(name, Number(info.value.size))
    }
    return sizes
  })

const family = (sizes: ReadonlyMap<string, number>, active: string) =>
  [...sizes.keys()].filter((n) => n === active || RenameShift.backupIndex(active, n) !== undefined)

const statusPrinter = (started: number) =>
  Effect.gen(function* () {
    let explained = false
    yield* Effect.gen(function* () {
      const sizes = yield* snapshot(LOGS)
      const actives = [...sizes.keys()].filter((n) => /\.jsonl$|^events-.*\.ndjson$/.test(n))
      const gzipped = [...sizes.keys()].filter((n) => n.endsWith(".gz"))
      const seconds = Math.round(((yield* Clock.currentTimeMillis) - started) / 1000)
      const line = actives.map((active) => {
        const backups = family(sizes, active).length - 1
        return `${active.replace(/\.jsonl$/, "")} ${kib(sizes.get(active) ?? 0)}${backups > 0 ? `+${backups}` : ""}`
      }).concat(gzipped.map((name) => `${name} ${kib(sizes.get(name) ?? 0)}`))
      yield* Console.log(`[${String(seconds).padStart(3)}s] ${line.join("  ")}`)
      const withBackups = actives.find((active) => family(sizes, active).length > 1)
      if (!explained && withBackups !== undefined) {
        explained = true
        yield* Console.log(explainBackups(withBackups, family(sizes, withBackups).length - 1, policyOf(withBackups).maxFiles))
      }
    }).pipe(
      Effect.catchAll((error) => Console.error(`status: ${error.message}`)), // never stops the service
      Effect.repeat(Schedule.spaced("1 second"))
    )
  })

/**
 * What rotated, as it happens: the appenders publish `Rotated` (and `BackupRemoved`) on the
 * `LogEvents` of the Layer graph; `events` was subscribed before any appender wrote.
 */
const rotationPrinter = (events: Stream.Stream<LogEvents.Element>) =>
  Stream.runForEach(events, (event) => {
    switch (event._tag) {
      case "Rotated":
        return Console.log(`       rotated ${Path.basename(event.path)} (${kib(event.bytes)}) -> ${event.backup === undefined ? "deleted" : Path.basename(event.backup)}`)
      case "BackupRemoved":
        return Console.log(`       removed ${Path.basename(event.path)} (${kib(event.bytes ?? 0)}): more than ${policyOf(Path.basename(event.active)).maxFiles} backups`)
      case "Missed":
        return Console.log(`       (${event.count} events missed)`)
      default:
        return Effect.void // the sweep's events: printSweep shows its report
    }
  })

const printSweep = (report: Sweeper.SweepReport) =>
  Console.log([
    `[sweep] ${report.dirs.join(",")}:`,
    ...report.compressed.map((c) => `compressed ${Path.basename(c.path)} (${kib(c.bytesBefore)} -> ${kib(c.bytesAfter)})`),
    ...report.deleted.map((d) => `deleted ${Path.basename(d.path)} (${kib(d.bytes)}, ${d.reason})`),
    report.compressed.length + report.deleted.length === 0 ? "nothing to do" : "",
    `${report.failed.length} failed, ${kib(report.bytesFreed)} freed`,
    ...report.failed.map((f) => `\n        failed: ${f.message}`)
  ].filter((s) => s !== "").join(" "))

/** The real Sweeper, printing each report: swapping a Layer, the way tests swap FileSystem. */
const PrintingSweeper = Layer.effect(
  Sweeper.Sweeper,
  Effect.map(Sweeper.make, (sweeper): Sweeper.Service => ({
    sweep: (dirs, policy, options) => Effect.tap(sweeper.sweep(dirs, policy, options), printSweep)
  }))
)

/**
 * Two old daily files for the first sweep, one past maxAgeDays (deleted), one past
 * compressAgeDays (gzipped), into a new or empty ./logs only. A ./logs with files is an
 * earlier run's: seeding again would recompress a file whose `.gz` is already there.
 */
const SeedOldFiles = Layer.effectDiscard(Effect.gen(function* () {
  const fs = yield* FileSystem.FileSystem
  const today = yield* Clock.currentTimeMillis
  yield* fs.makeDirectory(LOGS, { recursive: true })
  const existing = yield* fs.readDirectory(LOGS)
  if (existing.length > 0) {
    const gz = existing.filter((n) => n.endsWith(".gz")).sort()
    yield* Console.log(
      `./${LOGS} has ${existing.length} files from an earlier run${gz.length > 0 ? ` (${gz.join(", ")} gzipped by its sweep)` : ""}: ` +
      `not seeding the old sample files again; rm -rf ${LOGS} to see the first sweep gzip and delete them`
    )
    return
  }
  for (const daysAgo of [40, 10]) {
    const day = new Date(today - daysAgo * DAY_MS)
    const lines = Array.from({ length: 200 }, (_, i) =>
      JSON.stringify({ at: new Date(day.getTime() + i * 1000).toISOString(), event: "seeded", seq: i }))
    const name = DailyAppender.fileName("events", day)
    yield* fs.writeFileString(Path.join(LOGS, name), lines.join("\n") + "\n")
    yield* Console.log(`seeded ${LOGS}/${name} (${daysAgo} days old)`)
  }
}))

// ---------------------------------------------------------------------------------------
// The Layer graph.

/** The program's default policy (heartbeat, telemetry). */
const ProgramPolicy = RotationPolicy.layer(programPolicy)

/**
 * `layerReplace`: entries go to host.jsonl only, so the terminal shows just the lines
 * printed below; `NdjsonLogger.layer` would keep the console logger as well.
 */
const LoggingLive = NdjsonLogger.layerReplace(Path.join(LOGS, "host.jsonl"), { policy: loggerPolicy })

const RetentionLive = RetentionWorker.layer.pipe(
  Layer.provide(PrintingSweeper),
  Layer.provide(Compressor.layer),
  Layer.provide(SafeFs.layerNode),
  Layer.provide(RetentionPolicy.layer(retention))
)

/**
 * Everything above the logger is built after it (`provideMerge`), so the retention worker's
 * own fiber logs through it too; side by side (`mergeAll`) it would not.
 */
export const HostLive = Layer.mergeAll(
  OperationalAppenders(LOGS),
  DailyAppender.layer(LOGS, "events"),
  RetentionLive
).pipe(
  Layer.provideMerge(LoggingLive),
  // Seeding decides from ./logs as the last run left it: before any appender creates a file.
  Layer.provide(Layer.mergeAll(RenameShift.layer, ProgramPolicy, SeedOldFiles)),
  // One LogEvents for the whole graph: the appenders and the sweeper publish, main subscribes.
  Layer.provideMerge(LogEvents.layer()),
  Layer.provideMerge(NodeFileSystem.layer)
)

const finalListing = Effect.gen(function* () {
  const sizes = yield* snapshot(LOGS)
  yield* Console.log(`stopped; ${sizes.size} files in ./${LOGS}:`)
  const note = (name: string) =>
    name.endsWith(".gz") ? "  gzipped by a sweep" : /\.\d+$/.test(name) ? "  rotated backup" : ""
  for (const [name, size] of sizes) yield* Console.log(`  ${name.padEnd(34)} ${String(size).padStart(6)} B${note(name)}`)
}).pipe(
  Effect.catchAll((error) => Console.error(`cannot list ./${LOGS}: ${error.message}`)),
  Effect.provide(NodeFileSystem.layer)
)

const main = Effect.gen(function* () {
  const seconds = yield* Config.option(Config.integer("HOST_SERVICE_SECONDS").pipe(
    Config.validate({ message: "must be a whole number >= 1", validation: (n) => n >= 1 })
  ))
  const started = yield* Clock.currentTimeMillis
  yield* Console.log(`host-service writing to ./${LOGS}; ${Option.match(seconds, {
    onNone: () => "Ctrl-C to stop",
    onSome: (n) => `stopping after ${n} s`
  })}`)
  for (const line of describeLimits()) yield* Console.log(line)
  const work = Effect.gen(function* () {
    // Subscribed before the loops write (the appenders publish nothing until a line is written).
    const events = yield* LogEvents.subscribe
    yield* Effect.all([heartbeat, jobWorker(1), jobWorker(2), jobWorker(3), audit, telemetry, statusPrinter(started), rotationPrinter(events)], {
      concurrency: "unbounded", discard: true
    })
  }).pipe(Effect.scoped)
  const bounded = Option.match(seconds, {
    onNone: () => work,
    onSome: (n) => Effect.raceFirst(work, Effect.sleep(`${n} seconds`))
  })
  yield* Effect.logInfo("host-service started").pipe(
    Effect.zipRight(bounded),
    Effect.onInterrupt(() => Console.log("interrupted; closing the Layers (flushing every file)")),
    Effect.provide(HostLive)
  )
}).pipe(Effect.ensuring(finalListing))

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(Path.resolve(process.argv[1])).href) {
  NodeRuntime.runMain(main)
}
