/**
 * Vitest's default runs `cpus - 1` test files at once: one at a time on a 2-core machine, so the
 * suite's wall time was the sum of its files' (the fault schedules alone take over 30 s). Much of
 * that time is spent waiting on processes and the disk, so two files at a time are run even there.
 * `isolate: false`: a worker keeps its module cache from one file to the next, so effect and the
 * sources are loaded once per worker, not once per file (that loading was 24–38 s of "collect").
 * The tests share no global state: no mocks, no stubbed globals or environment, own temp dirs.
 * `testTimeout` 30 s: a harness limit for a loaded machine (contract tests on the real disk took
 * 4–7 s at load average 10, against vitest's 5 s default); no test asserts a duration.
 */
import { availableParallelism } from "node:os"
import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    maxWorkers: Math.max(2, availableParallelism() - 1),
    isolate: false,
    testTimeout: 30_000
  }
})
