/**
 * What the appender tests read back: the log files of a directory (the claim's lock file left
 * out), oldest first, and the check that a run of lines rotated at line ends only.
 */
import { expect } from "@effect/vitest"
import { Effect } from "effect"
import * as RotationPolicy from "../../src/rotation/RotationPolicy.js"
import { readAll } from "./fileSystems.js"

export const policy = (maxBytes: number, maxFiles: number) => RotationPolicy.unsafeMake({ maxBytes, maxFiles })

/** The bytes `lines` make as NDJSON: each followed by `\n`. */
export const joined = (lines: ReadonlyArray<string>) => lines.map((l) => l + "\n").join("")

/** A claim's lock file (`.<name>.lock`): present while an appender is open, never a log. */
export const isLock = (name: string) => /(^|\/)\.[^/]*\.lock$/.test(name)

/** The log files of `dir` while an appender is open (its lock file left out). */
export const readLogs = (dir: string) =>
  Effect.map(readAll(dir), (files) => Object.fromEntries(Object.entries(files).filter(([name]) => !isLock(name))))

/** The log files, oldest first (`app.jsonl.N` … `.1`, then `app.jsonl`). */
export const oldestFirst = (files: Record<string, string>) =>
  Object.keys(files).sort((a, b) => Number(b.split(".")[2] ?? 0) - Number(a.split(".")[2] ?? 0))

/**
 * `files` hold exactly `lines` in order, every file ends in `\n` and holds at most `maxBytes`,
 * and each rotation was needed (the next file's first line would not have fitted). Returns the
 * number of files.
 */
export const expectRotatedAtLineEnds = (files: Record<string, string>, lines: ReadonlyArray<string>, maxBytes: number) => {
  const names = oldestFirst(files)
  expect(names.map((n) => files[n]).join("")).toBe(joined(lines))
  names.forEach((name, k) => {
    const bytes = Buffer.byteLength(files[name]!)
    expect(bytes).toBeLessThanOrEqual(maxBytes)
    expect(files[name]!.endsWith("\n")).toBe(true)
    const next = names[k + 1]
    if (next !== undefined) expect(bytes + Buffer.byteLength(files[next]!.split("\n")[0]! + "\n")).toBeGreaterThan(maxBytes)
  })
  return names.length
}
