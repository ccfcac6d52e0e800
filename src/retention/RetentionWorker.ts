/**
 * The background retention worker (ADR-0016): when the policy is enabled, it sweeps
 * `policy.dirs` once at startup and then `checkIntervalSeconds` after the end of each sweep,
 * in a fiber of its own that never blocks the host. Sweeps never overlap (the next one is
 * scheduled only when the previous one has finished). Nothing inside the loop can stop it: a
 * sweep reports per-file failures itself, and anything unexpected is logged as an error and
 * the loop goes on. Closing the layer's scope (host shutdown) interrupts the fiber: an
 * in-flight compression removes its `.gz.tmp` and keeps the original (see `Compressor`).
 *
 * Each directory is swept with its own settings when the policy has an entry for it in
 * `directories` (`Sweeper.thresholdsFor`): build such a policy in code (`RetentionPolicy.layer`
 * with `directories`) or from a file (`RetentionConfig.layerConfig`, `LOG_RETENTION_CONFIG`).
 *
 * When the policy is disabled, the layer logs "retention disabled" once and does nothing.
 *
 * A policy with `su` is refused (the layer fails with `InvalidSu`, and `sweepOnce` logs it and
 * sweeps nothing) unless it also sets `allowProcessWideSu: true`: `su` switches the effective
 * ids of the whole process, so in a host every other fiber (appenders included) would act as
 * that user while a directory is swept. Sweep such directories in a process of their own (the
 * CLI's `sweep --su USER:GROUP` or `watch --su USER:GROUP`, which opts in, being alone in its process).
 *
 * In context: `layer` needs the `RetentionPolicy` and a `Sweeper` (itself on `FileSystem`,
 * `SafeFs`, `Compressor`); it fails only with `InvalidSu`. With a `LogEvents` layer under the
 * `Sweeper`, every sweep's events are published.
 *
 * @since 0.1.0
 * @example
 * ```ts
 * import { NodeFileSystem, NodeRuntime } from "@effect/platform-node"
 * import { Layer } from "effect"
 * import { Compressor, RetentionPolicy, RetentionWorker, SafeFs, Sweeper } from "effect-logrotate"
 *
 * const RetentionLive = RetentionWorker.layer.pipe(
 *   Layer.provide(Sweeper.layer),
 *   Layer.provide(Compressor.layer),
 *   Layer.provide(SafeFs.layerNode),
 *   Layer.provide(RetentionPolicy.layerConfig({ prefix: "TAU" })), // TAU_LOG_RETENTION_…
 *   Layer.provide(NodeFileSystem.layer)
 * )
 * Layer.launch(RetentionLive).pipe(NodeRuntime.runMain)
 * ```
 */
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import { InvalidSu } from "../Errors.js"
import { type Policy, RetentionPolicy } from "./RetentionPolicy.js"
import { Sweeper } from "./Sweeper.js"

/**
 * Fails with `InvalidSu` when the policy sets `su` without `allowProcessWideSu: true` (see the
 * module comment).
 *
 * @example
 * ```ts
 * yield* RetentionWorker.checkSu(policy) // InvalidSu unless su is unset or explicitly allowed
 * ```
 *
 * @since 0.1.0
 */
export const checkSu = (policy: Policy): Effect.Effect<void, InvalidSu> =>
  policy.su === undefined || policy.allowProcessWideSu === true ? Effect.void : Effect.fail(new InvalidSu({
    value: `${policy.su.user}:${policy.su.group}`,
    reason: "process-wide",
    detail: "su switches the effective ids of the whole process, so every other fiber of this host would act as that " +
      "user meanwhile; it needs a process of its own (the CLI: `effect-logrotate sweep --su` or `watch --su`), " +
      "or allowProcessWideSu: true in the policy when nothing else in the process writes files"
  }))

/**
 * One sweep of the policy's directories, never failing: a defect or failure is logged.
 *
 * @example
 * ```ts
 * yield* RetentionWorker.sweepOnce // what the worker runs at each tick
 * ```
 *
 * @since 0.1.0
 */
export const sweepOnce: Effect.Effect<void, never, RetentionPolicy | Sweeper> = Effect.gen(function* () {
  const policy = yield* RetentionPolicy
  const sweeper = yield* Sweeper
  yield* checkSu(policy)
  yield* sweeper.sweep(policy.dirs, policy)
}).pipe(
  Effect.catchAllCause((cause) =>
    Cause.isInterruptedOnly(cause)
      ? Effect.interrupt
      : Effect.logError("retention sweep failed unexpectedly").pipe(Effect.annotateLogs({ cause: Cause.pretty(cause) }))
  ),
  Effect.annotateLogs({ component: "retention" })
)

/**
 * The worker, scoped to the layer: sweeps at startup, then every `checkIntervalSeconds`
 * after the previous sweep ends; interrupted when the scope closes. Fails with `InvalidSu` when
 * the policy sets `su` without `allowProcessWideSu: true`.
 *
 * @example
 * ```ts
 * const AppLive = Layer.mergeAll(LoggingLive, RetentionWorker.layer.pipe(Layer.provide(RetentionDeps)))
 * ```
 *
 * @since 0.1.0
 */
export const layer: Layer.Layer<never, InvalidSu, RetentionPolicy | Sweeper> = Layer.scopedDiscard(
  Effect.gen(function* () {
    const policy = yield* RetentionPolicy
    if (!policy.enabled) {
      return yield* Effect.logInfo("retention disabled").pipe(Effect.annotateLogs({ component: "retention" }))
    }
    yield* checkSu(policy)
    yield* Effect.logInfo("retention enabled").pipe(Effect.annotateLogs({
      component: "retention", dirs: policy.dirs.join(","), maxAgeDays: policy.maxAgeDays,
      compressAgeDays: policy.compressAgeDays, checkIntervalSeconds: policy.checkIntervalSeconds,
      ...(policy.maxTotalBytes === undefined ? {} : { maxTotalBytes: policy.maxTotalBytes }),
      ...(policy.directories === undefined ? {} : { directoriesWithOwnSettings: policy.directories.length })
    }))
    yield* sweepOnce.pipe(
      Effect.repeat(Schedule.spaced(Duration.seconds(policy.checkIntervalSeconds))),
      // A fork inherits uninterruptibility: built inside an uninterruptible region, closing
      // the scope would otherwise wait forever for this never-ending loop.
      Effect.interruptible,
      Effect.forkScoped
    )
  })
)
