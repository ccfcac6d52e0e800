/**
 * effect-logrotate: size rotation and age retention for NDJSON operational logs, as
 * Effect services composed through Layers.
 *
 * The whole contract, in one place (each module's comment has the details; docs/architecture.md
 * shows how the parts fit):
 *
 * **Rotation** writes. A `RotatingAppender` appends whole NDJSON lines to one file and rotates it
 * by size (`RotationPolicy`: `maxBytes`, default 10 MiB, 0 = never; `maxFiles` backups, default 5):
 * before a line would take the file past `maxBytes`, `<name>` is renamed to `<name>.1`, `.1` to
 * `.2` … and what passes `maxFiles` is removed (`RenameShift`); with `compress` (0.2.0) the backups
 * from `.2` up are gzipped in the background, `.1` left plain. A `DailyAppender` writes one file per
 * UTC day (or hour) instead, named by a `FileNaming` (default `<prefix>-YYYY-MM-DD.ndjson`), the
 * names retention manages. `LineReader` feeds a stream (stdin) into an appender byte for byte.
 *
 * **Retention** acts on files once written, by the date in their name: the pure planner
 * (`RetentionPlan`) decides, per directory, to gzip files older than `compressAgeDays`, to delete
 * files older than `maxAgeDays`, then (0.2.0, `SizeCap`) to delete the oldest until the directory
 * fits `maxTotalBytes`; today's file is never touched. The `Sweeper` carries a plan out through the
 * crash-safe `Compressor` and `SafeFs`, and the `RetentionWorker` sweeps at start and then every
 * interval. The policy comes from `LOG_RETENTION_…` variables (`RetentionPolicy`), from code, or
 * (0.2.0) from a JSON file with an entry per directory (`RetentionConfig`). `LogrotateConfig`
 * renders the logrotate configuration that does the same job instead.
 *
 * **Logging**: `NdjsonLogger` is an Effect `Logger` writing every `Effect.log…` entry as one NDJSON
 * line through an appender, in bounded memory (`maxQueued`) and never blocked for long by a stuck
 * disk (`stallTimeout`). `LogEvents` (0.2.0) publishes what rotation and retention did (`Rotated`,
 * `Compressed`, `Deleted` …) as a `Stream` any fiber can subscribe to.
 *
 * **What it needs**: a `FileSystem` (`NodeFileSystem.layer`, or `MemoryFileSystem` from
 * `effect-logrotate/testing` in tests), and for retention `SafeFs.layerNode`; settings are read
 * through Effect's `Config`, time through its `Clock` (`TestClock` drives days, hours and intervals in tests).
 * Errors are typed values in the error channel (`Errors`); a sweep never fails, it reports.
 *
 * **Guarantees** (each with the test that proves it in docs/reliability.md): every acknowledged
 * line is on disk exactly once, whole and in order, under any schedule of failing calls; no file
 * passes `maxBytes` except one holding a single longer line; one writer per file (a second appender
 * fails with `FileClaimed`) and one sweep per directory, across processes, with locks recovered
 * after a crash; at every instant a file being compressed exists as its original, a complete
 * `.gz`, or both, never neither; a crash at any point loses at most what was buffered in the killed
 * process, and the next run heals what it left (torn tail, half shift, `.gz.tmp`); the active path
 * and the swept entries are never followed through a symbolic link. **Not** guaranteed: network
 * file systems or several hosts on one directory, writers that bypass the claim, hard links to the
 * active file, fsync per batch (see "Not guaranteed" in docs/reliability.md).
 *
 * The `effect-logrotate` command (`append`, `sweep`, `watch`, `logrotate-config`) is these parts
 * run from the command line; see docs/cli.md.
 *
 * @since 0.1.0
 * @example
 * ```ts
 * import { NodeFileSystem, NodeRuntime } from "@effect/platform-node"
 * import { Effect, Layer } from "effect"
 * import {
 *   Compressor, NdjsonLogger, RenameShift, RetentionPolicy, RetentionWorker, RotationPolicy, SafeFs, Sweeper
 * } from "effect-logrotate"
 *
 * // logging + rotation: Effect.log… as NDJSON lines in logs/app.jsonl, rotated at 10 MiB, 5 backups kept
 * const LoggingLive = NdjsonLogger.layerReplace("logs/app.jsonl", {
 *   policy: RotationPolicy.unsafeMake({ maxBytes: 10 * 1024 * 1024, maxFiles: 5 })
 * }).pipe(Layer.provide(RenameShift.layer))
 *
 * // retention: the dated files of LOG_RETENTION_DIRS, swept at start and every LOG_RETENTION_CHECK_INTERVAL_SECONDS
 * const RetentionLive = RetentionWorker.layer.pipe(
 *   Layer.provide(Sweeper.layer),
 *   Layer.provide(Compressor.layer),
 *   Layer.provide(Layer.mergeAll(SafeFs.layerNode, RetentionPolicy.layerConfig())))
 *
 * Effect.logInfo("started").pipe(
 *   Effect.zipRight(Effect.never),
 *   Effect.provide(Layer.mergeAll(LoggingLive, RetentionLive).pipe(Layer.provide(NodeFileSystem.layer))),
 *   NodeRuntime.runMain)
 * ```
 */

/**
 * Byte sizes as operators write them (`512KiB`, `10MB`).
 *
 * @since 0.1.0
 */
export * as ByteSize from "./ByteSize.js"
/**
 * Every error the library fails with, as tagged values (exported flat: `import { FileClaimed } from "effect-logrotate"`).
 *
 * @since 0.1.0
 */
export * from "./Errors.js"
/**
 * Rotation by renaming: `<name>` -> `.1` -> `.2` …, planned purely.
 *
 * @since 0.1.0
 */
export * as RenameShift from "./rotation/RenameShift.js"
/**
 * One NDJSON file, rotated by size, one writer per file.
 *
 * @since 0.1.0
 */
export * as RotatingAppender from "./rotation/RotatingAppender.js"
/**
 * The size-rotation policy `{ maxBytes, maxFiles, compress? }` and its configuration.
 *
 * @since 0.1.0
 */
export * as RotationPolicy from "./rotation/RotationPolicy.js"
/**
 * Crash- and interrupt-safe gzip of a checked file, in bounded memory.
 *
 * @since 0.1.0
 */
export * as Compressor from "./retention/Compressor.js"
/**
 * The default naming's names, `<prefix>-YYYY-MM-DD.ndjson` (`.gz`, `.gz.tmp`); new code uses `FileNaming`.
 *
 * @since 0.1.0
 */
export * as DatedFile from "./retention/DatedFile.js"
/**
 * How dated log files are named, as a value (a pattern such as `{prefix}-{date}-{hour}.ndjson`).
 *
 * @since 0.2.0
 */
export * as FileNaming from "./retention/FileNaming.js"
/**
 * A Node readable (stdin) fed into an appender byte for byte.
 *
 * @since 0.1.0
 */
export * as LineReader from "./rotation/LineReader.js"
/**
 * The logrotate configuration doing the built-in retention's job (pure).
 *
 * @since 0.1.0
 */
export * as LogrotateConfig from "./retention/LogrotateConfig.js"
/**
 * Per-directory retention: defaults and an entry per directory, from a JSON file or code.
 *
 * @since 0.2.0
 */
export * as RetentionConfig from "./retention/RetentionConfig.js"
/**
 * The retention planner: compress, delete, finish or keep, and why (pure).
 *
 * @since 0.1.0
 */
export * as RetentionPlan from "./retention/RetentionPlan.js"
/**
 * The retention policy (ADR-0016) and its configuration.
 *
 * @since 0.1.0
 */
export * as RetentionPolicy from "./retention/RetentionPolicy.js"
/**
 * The background worker: a sweep at start, then every interval.
 *
 * @since 0.1.0
 */
export * as RetentionWorker from "./retention/RetentionWorker.js"
/**
 * Descriptor-level file operations that act on the file that was checked.
 *
 * @since 0.1.0
 */
export * as SafeFs from "./platform/SafeFs.js"
/**
 * The total-size cap of one directory (`maxTotalBytes`), a pure step of the planner.
 *
 * @since 0.2.0
 */
export * as SizeCap from "./retention/SizeCap.js"
/**
 * Executes a retention plan per directory; a sweep reports failures, never fails.
 *
 * @since 0.1.0
 */
export * as Sweeper from "./retention/Sweeper.js"
/**
 * An Effect `Logger` writing each entry as one NDJSON line through an appender.
 *
 * @since 0.1.0
 */
export * as NdjsonLogger from "./logging/NdjsonLogger.js"
/**
 * One NDJSON file per UTC day (or hour), named as retention manages them.
 *
 * @since 0.1.0
 */
export * as DailyAppender from "./rotation/DailyAppender.js"
/**
 * What rotation and retention did, as typed events to subscribe to.
 *
 * @since 0.2.0
 */
export * as LogEvents from "./logging/LogEvents.js"
