/**
 * The plan's step 4: the host-service example's four operational appenders (heartbeat,
 * jobs, audit, telemetry), each its own file and policy, in one Layer graph, under
 * concurrent load with tiny `maxBytes`.
 */
import { FileSystem } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { type Context, Effect, Layer, type Scope } from "effect"
import { Audit, Heartbeat, Jobs, type Limits, OperationalAppenders, Telemetry } from "../examples/host-service.js"
import type { RenameShift } from "../src/rotation/RenameShift.js"
import type * as RotatingAppender from "../src/rotation/RotatingAppender.js"
import * as RotationPolicy from "../src/rotation/RotationPolicy.js"
import { fileSystems, readAll, tempDir } from "./support/fileSystems.js"

const WRITERS = 4
const LINES_PER_WRITER = 120

interface Line {
  readonly src: string
  readonly w: number
  readonly seq: number
}

const sources: ReadonlyArray<readonly [string, Context.Tag<any, RotatingAppender.RotatingAppender>]> = [
  ["heartbeat", Heartbeat], ["jobs", Jobs], ["audit", Audit], ["telemetry", Telemetry]
]

/** WRITERS fibers per appender, all 16 at once; odd writers batch 3 lines with appendAll, even ones appendJson. */
const load = Effect.forEach(sources, ([src, tag]) =>
  Effect.flatMap(tag, (log) =>
    Effect.forEach(Array.from({ length: WRITERS }, (_, w) => w), (w) =>
      Effect.gen(function* () {
        const line = (seq: number) => ({ src, w, seq, pad: "x".repeat(seq % 23) })
        for (let seq = 0; seq < LINES_PER_WRITER;) {
          if (w % 2 === 1 && seq + 3 <= LINES_PER_WRITER) {
            yield* log.appendAll([0, 1, 2].map((k) => JSON.stringify(line(seq + k))))
            seq += 3
          } else {
            yield* log.appendJson(line(seq++))
          }
          if (seq % 10 === 0) yield* Effect.yieldNow()
        }
      }), { concurrency: "unbounded", discard: true })), { concurrency: "unbounded", discard: true })

/**
 * The FileSystem in context, with every byte written through an open handle recorded per
 * path in the order written: for an appender, its whole output stream, rotated away or not.
 */
const recordingWrites = Effect.map(FileSystem.FileSystem, (base) => {
  const written = new Map<string, Array<Uint8Array>>()
  const record = (path: string, bytes: Uint8Array) => void written.set(path, [...(written.get(path) ?? []), Uint8Array.from(bytes)]) // a copy: Buffer#slice is a view, and buffers are reused
  const wrap = (file: FileSystem.File, path: string): FileSystem.File => ({
    [FileSystem.FileTypeId]: FileSystem.FileTypeId,
    fd: file.fd,
    stat: file.stat,
    seek: (offset, from) => file.seek(offset, from),
    sync: file.sync,
    read: (buffer) => file.read(buffer),
    readAlloc: (size) => file.readAlloc(size),
    truncate: (length) => file.truncate(length),
    write: (buffer) => Effect.tap(file.write(buffer), (n) => record(path, buffer.subarray(0, Number(n)))),
    writeAll: (buffer) => Effect.tap(file.writeAll(buffer), () => record(path, buffer))
  })
  const fs = FileSystem.make({ ...base, open: (path, options) => Effect.map(base.open(path, options), (file) => wrap(file, path)) })
  const text = (path: string) => Buffer.concat(written.get(path) ?? []).toString()
  return { fs, text }
})

/**
 * What `maxBytes`/`maxFiles` rotation must leave of `stream` (the lines in the order written):
 * a line that would take the file past `maxBytes` starts a new one; the newest `maxFiles`
 * rotated files and the active one are kept. Oldest first, as `familyOf` lists them.
 */
const expectedFamily = (base: string, stream: string, maxBytes: number, maxFiles: number) => {
  const files: Array<string> = [""]
  for (const line of stream.split("\n").slice(0, -1)) {
    const last = files.at(-1)!
    if (last.length > 0 && Buffer.byteLength(last) + Buffer.byteLength(line) + 1 > maxBytes) files.push("")
    files[files.length - 1] += line + "\n"
  }
  const kept = files.slice(-(maxFiles + 1))
  return kept.map((text, i) => [i === kept.length - 1 ? base : `${base}.${kept.length - 1 - i}`, text] as const)
}

/** The files of `base` (active and backups), oldest first, as `[name, text]`. */
const familyOf = (files: Record<string, string>, base: string) =>
  Object.entries(files)
    .filter(([name]) => name === base || /^\d+$/.test(name.slice(base.length + 1)) && name.startsWith(base + "."))
    .sort(([a], [b]) => {
      const index = (name: string) => (name === base ? 0 : Number(name.slice(base.length + 1)))
      return index(b) - index(a)
    })

describe.each(fileSystems)("host-service appenders under concurrent load on $name", ({ layer }) => {
  const run = <A, E>(self: Effect.Effect<A, E, FileSystem.FileSystem | Scope.Scope | RenameShift>) =>
    self.pipe(Effect.provide(layer()))

  const limits = (maxFiles: number): Limits & { readonly program: RotationPolicy.Policy } => ({
    jobs: RotationPolicy.unsafeMake({ maxBytes: 700, maxFiles }),
    audit: RotationPolicy.unsafeMake({ maxBytes: 1024, maxFiles }),
    // heartbeat and telemetry use the program's policy:
    program: RotationPolicy.unsafeMake({ maxBytes: 512, maxFiles })
  })
  const maxBytesOf = (l: ReturnType<typeof limits>, src: string) =>
    src === "jobs" ? l.jobs!.maxBytes : src === "audit" ? l.audit!.maxBytes : l.program.maxBytes

  const runLoad = (dir: string, l: ReturnType<typeof limits>) =>
    load.pipe(Effect.provide(OperationalAppenders(dir, l).pipe(Layer.provide(RotationPolicy.layer(l.program)))))

  it.scoped("maxFiles large enough to keep everything: no line lost or torn, per-writer order kept, no file over its maxBytes", () =>
    run(Effect.gen(function* () {
      const dir = yield* tempDir
      const l = limits(1000)
      const { fs, text } = yield* recordingWrites
      yield* runLoad(dir, l).pipe(Effect.provideService(FileSystem.FileSystem, fs))
      const files = yield* readAll(dir)
      for (const [src] of sources) {
        const family = familyOf(files, `${src}.jsonl`)
        expect(family).toEqual(expectedFamily(`${src}.jsonl`, text(`${dir}/${src}.jsonl`), maxBytesOf(l, src), 1000))
        expect(family.length).toBeGreaterThan(5) // it did rotate, several times
        for (const [name, text] of family) {
          expect(Buffer.byteLength(text), name).toBeLessThanOrEqual(maxBytesOf(l, src))
          expect(text.endsWith("\n"), name).toBe(true)
        }
        const lines = family.flatMap(([, text]) => text.split("\n").filter((s) => s !== "").map((s) => JSON.parse(s) as Line))
        expect(lines.length).toBe(WRITERS * LINES_PER_WRITER)
        expect(lines.every((line) => line.src === src)).toBe(true)
        for (let w = 0; w < WRITERS; w++) {
          expect(lines.filter((line) => line.w === w).map((line) => line.seq)).toEqual(
            Array.from({ length: LINES_PER_WRITER }, (_, i) => i)
          )
        }
      }
      expect(Object.keys(files).every((name) => sources.some(([src]) => name.startsWith(`${src}.jsonl`)))).toBe(true)
    })))

  it.scoped("maxFiles 3: each appender keeps its active file and 3 backups, holding each writer's newest lines, whole", () =>
    run(Effect.gen(function* () {
      const dir = yield* tempDir
      const l = limits(3)
      const { fs, text } = yield* recordingWrites
      yield* runLoad(dir, l).pipe(Effect.provideService(FileSystem.FileSystem, fs))
      const files = yield* readAll(dir)
      for (const [src] of sources) {
        const family = familyOf(files, `${src}.jsonl`)
        expect(family.map(([name]) => name)).toEqual([`${src}.jsonl.3`, `${src}.jsonl.2`, `${src}.jsonl.1`, `${src}.jsonl`])
        // Exactly the newest files of everything written, cut where the policy cuts.
        expect(family).toEqual(expectedFamily(`${src}.jsonl`, text(`${dir}/${src}.jsonl`), maxBytesOf(l, src), 3))
        for (const [name, text] of family) expect(Buffer.byteLength(text), name).toBeLessThanOrEqual(maxBytesOf(l, src))
        const lines = family.flatMap(([, text]) => text.split("\n").filter((s) => s !== "").map((s) => JSON.parse(s) as Line))
        for (let w = 0; w < WRITERS; w++) {
          const kept = lines.filter((line) => line.w === w).map((line) => line.seq)
          // What rotation dropped is each writer's oldest lines: the kept ones are a contiguous run ending at the last.
          expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => LINES_PER_WRITER - kept.length + i))
        }
        expect(lines.some((line) => line.seq === LINES_PER_WRITER - 1)).toBe(true)
      }
    })))
})
