/**
 * The one line generator every contender uses, and the options each contender's `run` receives.
 *
 * Line `i` is `{"seq":i,"pad":"xxx…"}` padded so that the line plus its "\n" is exactly
 * `lineBytes` bytes (ASCII only, so chars = bytes), unless the seq alone is longer.
 * Lines are generated one at a time; nothing large is pre-generated.
 */

export interface ContenderOptions {
  /** Directory the contender writes its log file(s) into; the parent counts every file in it. */
  readonly dir: string
  /** Directory for anything that is not a log line (audit/history files); never counted. */
  readonly scratch: string
  readonly lines: number
  readonly lineBytes: number
  readonly maxBytes: number
  readonly maxFiles: number
  /** Absolute path of the repository root (for contenders that spawn the CLI). */
  readonly root: string
  /**
   * Call right before the first write; the clock stops when `run` resolves (everything
   * flushed and closed). If never called, the clock starts when `run` is called.
   */
  readonly startClock: () => void
}

export interface RunInfo {
  /** Lines actually written, when a contender writes fewer than `opts.lines` (a capped baseline). */
  readonly linesWritten?: number
  /** Peak RSS (KiB) of another process doing the work (the CLI), reported instead of the child's own. */
  readonly workerMaxRssKiB?: number
  readonly note?: string
}

export type Run = (opts: ContenderOptions) => Promise<void | RunInfo>

/** `(i) => line i` without the trailing newline: `lineBytes - 1` characters. */
export const lineGenerator = (lineBytes: number): ((i: number) => string) => {
  const pad = "x".repeat(Math.max(0, lineBytes))
  return (i) => {
    const head = `{"seq":${i},"pad":"`
    return head + pad.slice(0, Math.max(0, lineBytes - 1 - head.length - 2)) + "\"}"
  }
}

/**
 * `(i) => { seq, pad }` for contenders that serialize an object themselves (loggers); the
 * padding matches `lineGenerator`, so the payload is the same, plus whatever fields the logger adds.
 */
export const objectGenerator = (lineBytes: number): ((i: number) => { seq: number; pad: string }) => {
  const pad = "x".repeat(Math.max(0, lineBytes))
  return (i) => {
    const headLength = `{"seq":${i},"pad":"`.length
    return { seq: i, pad: pad.slice(0, Math.max(0, lineBytes - 1 - headLength - 2)) }
  }
}

/** The same write loop for every stream contender: one line per write(), waiting for 'drain' when write() says so. */
export const writeAllLines = async (
  out: { write: (chunk: string) => boolean; once: (event: "drain", listener: () => void) => unknown },
  opts: ContenderOptions
): Promise<void> => {
  const line = lineGenerator(opts.lineBytes)
  opts.startClock()
  for (let i = 0; i < opts.lines; i++) {
    if (!out.write(line(i) + "\n")) await new Promise<void>((resolve) => out.once("drain", resolve))
  }
}

/**
 * The same batching loop for every batched contender: lines `lineGenerator(lineBytes)(i)` for
 * i = 0 … lines-1 in arrays of `size` (a fresh array per batch), handed to `write`; the clock starts
 * right before the first batch is generated. A contender that writes a joined batch joins it
 * itself (`batch.join("\n") + "\n"`): the join is part of what it costs.
 */
export const forEachBatch = async (
  opts: ContenderOptions,
  size: number,
  write: (batch: Array<string>) => void | Promise<void>
): Promise<void> => {
  const line = lineGenerator(opts.lineBytes)
  opts.startClock()
  for (let i = 0; i < opts.lines; i += size) {
    const pending = write(batchAt(line, i, size, opts.lines))
    if (pending !== undefined) await pending
  }
}

/** Lines `start … min(start + size, total) - 1` of `line` in a fresh array: the one batch builder. */
export const batchAt = (line: (i: number) => string, start: number, size: number, total: number): Array<string> => {
  const n = Math.min(size, total - start)
  const batch = new Array<string>(n)
  for (let j = 0; j < n; j++) batch[j] = line(start + j)
  return batch
}

/** `forEachBatch` into a Node writable: one write() of the joined batch, awaiting 'drain' when write() says so. */
export const writeJoinedBatches = (
  out: { write: (chunk: string) => boolean; once: (event: "drain", listener: () => void) => unknown },
  opts: ContenderOptions,
  size: number
): Promise<void> =>
  forEachBatch(opts, size, (batch) => {
    if (!out.write(batch.join("\n") + "\n")) return new Promise<void>((resolve) => out.once("drain", resolve))
  })
