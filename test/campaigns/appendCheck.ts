/**
 * The appender's invariants, read from disk, and the lines the campaigns feed it.
 *
 * Files are read oldest to newest (`app.jsonl.N` … `app.jsonl.1`, `app.jsonl`) and their lines
 * matched against the runs that wrote them, in the order the runs ran:
 * - every line is whole (parses as JSON and is byte-identical to a line that was fed), except
 *   one torn tail per killed run (a strict prefix of its next line) standing alone on its line;
 *   a torn tail with another line glued onto it is a violation;
 * - each run's lines are on disk at most once and in order, and without a gap (a line on disk
 *   means every earlier line of that run was written, so a gap is a lost line); a completed
 *   run's lines are all there; a forbidden run (a refused second writer) has none;
 * - no file passes `maxBytes` unless it holds a single line;
 * - after a completed run every file ends with `\n`, and no lock file is left.
 */
import { once } from "node:events"
import * as fs from "node:fs"
import * as Path from "node:path"
import { clip, isLockName, type Prng, type Running, sleep } from "./support.js"

export const MAX_BYTES = 4096

export interface Run {
  /** The `run` field of its lines. */
  readonly id: string
  readonly lines: ReadonlyArray<string>
  /** Lines written to its stdin: none past these can be on disk. */
  readonly fed: number
  /** It ran to completion: every line must be on disk. */
  readonly complete: boolean
  /** It must have written nothing (a writer that was refused). */
  readonly forbidden?: boolean
}

/** `count` NDJSON lines of run `id`: mostly 40–200 bytes, about 1% larger than `maxBytes`. */
export const makeLines = (rng: Prng, id: string, count: number): Array<string> =>
  Array.from({ length: count }, (_, seq) => {
    const n = rng.next() < 0.01 ? rng.int(MAX_BYTES + 1, 3 * MAX_BYTES) : rng.int(10, 170)
    let pad = ""
    while (pad.length < n) pad += String.fromCharCode(97 + rng.int(0, 25))
    return JSON.stringify({ run: id, seq, pad })
  })

/** Feeds `lines` to `run`'s stdin, `perTick` lines every `tickMs`, honouring backpressure; stops when it exits. */
export const feed = (run: Running, lines: ReadonlyArray<string>, perTick: number, tickMs: number) => {
  let fed = 0
  let stopped = false
  const stdin = run.child.stdin!
  const done = (async () => {
    while (fed < lines.length && !stopped && !run.exited()) {
      const chunk = lines.slice(fed, fed + perTick)
      const ok = stdin.write(chunk.join("\n") + "\n")
      fed += chunk.length
      // `once` rejects on the EPIPE a killed reader causes: that ends the feed like the exit does.
      if (!ok) await Promise.race([once(stdin, "drain").catch(() => {}), run.done])
      if (tickMs > 0) await sleep(tickMs)
    }
  })()
  return {
    done,
    fed: () => fed,
    stop: () => void (stopped = true),
    end: async () => {
      await done
      if (!run.exited()) stdin.end()
    }
  }
}

export const backupIndex = (base: string, name: string): number | undefined => {
  if (!name.startsWith(base + ".")) return undefined
  const suffix = name.slice(base.length + 1)
  return /^[1-9]\d{0,8}$/.test(suffix) ? Number(suffix) : undefined
}

/** The files of `base` in `dir`, oldest first, and what else is there. */
export const rotatedSet = (dir: string, base: string) => {
  const files: Array<{ readonly name: string; readonly index: number }> = []
  const locks: Array<string> = []
  const unexpected: Array<string> = []
  for (const name of fs.readdirSync(dir)) {
    const index = name === base ? 0 : backupIndex(base, name)
    if (index !== undefined) files.push({ name, index })
    else if (isLockName(name)) locks.push(name)
    else unexpected.push(name)
  }
  files.sort((a, b) => (a.index === 0 ? 1 : b.index === 0 ? -1 : b.index - a.index))
  return { files, locks, unexpected }
}

export interface AppendCheck {
  readonly violations: Array<string>
  /** What the kill left: `torn` (a torn tail), `lock`. */
  readonly left: Array<string>
  /** Distinct whole lines on disk per run id. */
  readonly onDisk: Map<string, number>
}

export const checkAppendDir = (file: string, runs: ReadonlyArray<Run>, phase: "kill" | "final"): AppendCheck => {
  const at = phase === "kill" ? "after the kill" : "after the completed run"
  const dir = Path.dirname(file)
  const base = Path.basename(file)
  const v: Array<string> = []
  const left = new Set<string>()
  const { files, locks, unexpected } = rotatedSet(dir, base)
  for (const name of unexpected) v.push(`${at}: unexpected entry ${name} next to ${base}`)
  if (locks.length > 0) {
    if (phase === "final") v.push(`${at}: lock file ${locks.join(", ")} left behind`)
    else left.add("lock")
  }
  const byId = new Map(runs.map((r, i) => [r.id, { run: r, order: i }] as const))
  const next = new Map<string, number>(runs.map((r) => [r.id, 0]))
  const torn = new Set<string>()
  const forbidden = new Map<string, number>()
  /** Whole lines found per run, each counted once. */
  const found = new Map<string, Set<number>>(runs.map((r) => [r.id, new Set<number>()]))
  let current = 0
  const report = (msg: string) => {
    if (v.length < 40) v.push(`${at}: ${msg}`)
    else if (v.length === 40) v.push(`${at}: … (more violations not shown)`)
  }

  /** Accounts for a whole line of run `id`, number `seq`, found in `where`. */
  const whole = (id: string, seq: number, where: string) => {
    const { run, order } = byId.get(id)!
    if (run.forbidden) {
      const n = (forbidden.get(id) ?? 0) + 1
      forbidden.set(id, n)
      if (n === 1) report(`${where}: line ${id}:${seq} of a writer that must have been refused is on disk`)
      return
    }
    if (order < current) report(`${where}: line ${id}:${seq} comes after lines of the later run ${runs[current]!.id} (out of order)`)
    current = Math.max(current, order)
    if (torn.has(id)) report(`${where}: line ${id}:${seq} follows run ${id}'s torn tail`)
    if (seq >= run.fed) report(`${where}: line ${id}:${seq} was never fed (only ${run.fed} were)`)
    found.get(id)!.add(seq)
    const expected = next.get(id)!
    if (seq < expected) report(`${where}: line ${id}:${seq} is on disk twice (or out of order: ${expected} lines of ${id} already seen)`)
    else {
      if (seq > expected) report(`${where}: lines ${id}:${expected}…${seq - 1} are missing, but the later line ${id}:${seq} is on disk (a written line was lost)`)
      next.set(id, seq + 1)
    }
  }

  /** The run, seq of `text` if it is exactly a fed line. */
  const identify = (text: string): { id: string; seq: number } | undefined => {
    if (!text.startsWith("{")) return undefined
    try {
      const parsed = JSON.parse(text) as { run?: unknown; seq?: unknown }
      if (typeof parsed.run !== "string" || typeof parsed.seq !== "number") return undefined
      const entry = byId.get(parsed.run)
      return entry && entry.run.lines[parsed.seq] === text ? { id: parsed.run, seq: parsed.seq } : undefined
    } catch {
      return undefined
    }
  }

  /** A strict prefix of the next line of some run (that run's torn tail). */
  const tornOf = (text: string): string | undefined => {
    for (const r of runs) {
      const line = r.lines[next.get(r.id)!]
      if (line !== undefined && text.length > 0 && text.length < line.length + 1 && (line + "\n").startsWith(text)) return r.id
    }
    return undefined
  }

  for (let f = 0; f < files.length; f++) {
    const { name } = files[f]!
    const bytes = fs.readFileSync(Path.join(dir, name))
    const text = bytes.toString("utf8")
    const terminated = text.endsWith("\n")
    const pieces = text === "" ? [] : text.split("\n")
    if (terminated) pieces.pop()
    if (bytes.length > MAX_BYTES && pieces.length > 1) report(`${name} is ${bytes.length} bytes (max ${MAX_BYTES}) and holds ${pieces.length} lines (only a lone oversize line may pass maxBytes)`)
    if (bytes.length === 0 && phase === "final" && f < files.length - 1) report(`backup ${name} is empty`)
    if (!terminated && pieces.length > 0 && phase === "final") report(`${name} does not end with a newline (a torn tail was not terminated)`)
    pieces.forEach((piece, i) => {
      const where = `${name} line ${i + 1}`
      const isLast = f === files.length - 1 && i === pieces.length - 1
      if (piece === "") return report(`${where} is empty`)
      const id = identify(piece)
      if (id && (terminated || i < pieces.length - 1)) return whole(id.id, id.seq, where)
      const tornRun = id ? id.id : tornOf(piece)
      if (tornRun !== undefined) {
        // A torn tail standing alone on its line (or, right after the kill, the unterminated end of the newest file).
        const { run, order } = byId.get(tornRun)!
        if (order < current) report(`${where}: a torn fragment of ${tornRun} comes after lines of the later run ${runs[current]!.id}`)
        if (run.complete) report(`${where}: a torn fragment of ${tornRun}:${next.get(tornRun)} from a run that completed: ${clip(piece, 80)}`)
        else if (phase === "kill" && !isLast) report(`${where}: a torn fragment of ${tornRun}:${next.get(tornRun)} that is not the end of the newest file`)
        torn.add(tornRun)
        left.add("torn")
        return
      }
      // A torn tail with a whole line glued after it?
      for (let k = 1; k < piece.length; k++) {
        if (piece[k] !== "{") continue
        const tail = identify(piece.slice(k))
        if (tail && tornOf(piece.slice(0, k)) !== undefined) {
          report(`${where}: GLUED: a torn fragment of ${tornOf(piece.slice(0, k))}:${next.get(tornOf(piece.slice(0, k))!)} (${k} bytes) and the whole line ${tail.id}:${tail.seq} share one line`)
          left.add("torn")
          return whole(tail.id, tail.seq, where)
        }
      }
      report(`${where} is neither a whole fed line nor a torn tail: ${clip(piece, 100)}`)
    })
  }
  const onDisk = new Map<string, number>()
  for (const r of runs) {
    const n = r.forbidden ? forbidden.get(r.id) ?? 0 : found.get(r.id)!.size
    onDisk.set(r.id, n)
    if (r.forbidden && n > 0) report(`${n} lines of ${r.id}, a writer that must have been refused, are on disk`)
    if (r.complete && n < r.lines.length) report(`run ${r.id} completed but only ${n} of its ${r.lines.length} lines are on disk`)
  }
  return { violations: v, left: [...left], onDisk }
}
