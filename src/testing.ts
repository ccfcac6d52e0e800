/**
 * Test helpers for code that uses effect-logrotate (or any `FileSystem` code):
 * the deterministic in-memory FileSystem with fault injection.
 *
 * `MemoryFileSystem.layer()` provides both `FileSystem` and `MemoryFileSystem` (to inspect files,
 * count calls, inject faults); `SafeFs.layerMemory` puts `SafeFs` over the same files, so the
 * appenders and the sweep can run on it unchanged.
 *
 * @since 0.1.0
 * @example
 * ```ts
 * import { it, expect } from "@effect/vitest"
 * import { MemoryFileSystem } from "effect-logrotate/testing"
 * import { Effect } from "effect"
 * import { DailyAppender } from "effect-logrotate"
 *
 * it.effect("a daily appender writes one line per append", () =>
 *   Effect.gen(function* () {
 *     const daily = yield* DailyAppender.make("/logs", "events")
 *     yield* daily.appendJson({ id: 1 })
 *     yield* daily.flush
 *     const mem = yield* MemoryFileSystem.MemoryFileSystem
 *     const written = mem.files().filter(([path]) => path.endsWith(".ndjson")) // not the claim .events.lock
 *     expect(written.map(([path]) => path)).toEqual([expect.stringMatching(/^\/logs\/events-\d{4}-\d{2}-\d{2}\.ndjson$/)])
 *     expect(new TextDecoder().decode(written[0]![1])).toBe('{"id":1}\n')
 *   }).pipe(Effect.scoped, Effect.provide(MemoryFileSystem.layer())))
 * ```
 */

/**
 * A deterministic in-memory `FileSystem` with fault injection.
 *
 * @since 0.1.0
 */
export * as MemoryFileSystem from "./platform/MemoryFileSystem.js"
