/**
 * Test helpers for code that uses effect-logrotate (or any `FileSystem` code):
 * the deterministic in-memory FileSystem with fault injection.
 *
 * @example
 * ```ts
 * import { it, expect } from "@effect/vitest"
 * import { MemoryFileSystem } from "effect-logrotate/testing"
 * ```
 */
export * as MemoryFileSystem from "./platform/MemoryFileSystem.js"
