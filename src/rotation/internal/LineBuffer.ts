/**
 * Encoded NDJSON lines waiting to be written, and the offsets at which the file must
 * rotate before the bytes that follow. Lines are encoded once, straight into a reused
 * buffer: no per-line Buffer, no byteLength pass. A batch is encoded as one string (its
 * lines joined with `\n`) in one UTF-8 encode (`pushJoined`).
 * @internal
 */
export interface Batch {
  readonly bytes: Buffer
  readonly length: number
  /** Ascending offsets; a rotation happens before the byte at each. */
  readonly cuts: ReadonlyArray<number>
}

export class LineBuffer {
  private bytes: Buffer
  private cuts: Array<number> = []
  length = 0

  constructor(private readonly initialCapacity: number) {
    this.bytes = Buffer.allocUnsafe(initialCapacity)
  }

  /** Whether a rotation is marked in what is pending. */
  get hasCuts(): boolean {
    return this.cuts.length > 0
  }

  get isEmpty(): boolean {
    return this.length === 0 && this.cuts.length === 0
  }

  /** Appends `line` and `\n`; returns the bytes added. */
  push(line: string): number {
    this.reserve(line.length * 3 + 1) // worst case UTF-8 bytes per UTF-16 unit
    const n = this.bytes.write(line, this.length, "utf8")
    this.bytes[this.length + n] = 10
    this.length += n + 1
    return n + 1
  }

  /**
   * Appends `joined` (lines already joined with `\n`, none containing `\n`) and a final `\n`
   * in one UTF-8 encode; returns the bytes added. The bytes of line k end at the k-th `\n`
   * from the returned start (`lineEnd`).
   */
  pushJoined(joined: string): number {
    this.reserve(joined.length * 3 + 1)
    const n = this.bytes.write(joined, this.length, "utf8")
    this.bytes[this.length + n] = 10
    this.length += n + 1
    return n + 1
  }

  /**
   * Appends `bytes` as they are (already encoded lines, each ending in `\n`: `appendEncoded`);
   * returns the bytes added. One copy.
   */
  pushBytes(bytes: Uint8Array): number {
    this.reserve(bytes.length)
    this.bytes.set(bytes, this.length)
    this.length += bytes.length
    return bytes.length
  }

  /** The offset just past the first `\n` at or after `from` (a line's end, its `\n` included). */
  lineEnd(from: number): number {
    const nl = this.bytes.indexOf(10, from)
    return nl === -1 || nl >= this.length ? this.length : nl + 1
  }

  /** Marks a rotation before the byte at `offset` (an offset returned before a `push`). */
  cutAt(offset: number): void {
    this.cuts.push(offset)
  }

  /** Hands everything over for writing and starts again empty, on `spare` storage if given. */
  take(spare: Buffer | undefined): Batch {
    const batch = { bytes: this.bytes, length: this.length, cuts: this.cuts }
    this.bytes = spare ?? Buffer.allocUnsafe(this.initialCapacity)
    this.length = 0
    this.cuts = []
    return batch
  }

  /** Puts the unwritten rest of `batch` (from `offset`, cuts from index `cut`) back in front. */
  restore(batch: Batch, offset: number, cut: number): void {
    const rest = batch.bytes.subarray(offset, batch.length)
    const merged = Buffer.allocUnsafe(Math.max(this.initialCapacity, rest.length + this.length))
    rest.copy(merged, 0)
    this.bytes.copy(merged, rest.length, 0, this.length)
    this.cuts = [...batch.cuts.slice(cut).map((c) => c - offset), ...this.cuts.map((c) => c + rest.length)]
    this.bytes = merged
    this.length += rest.length
  }

  private reserve(extra: number): void {
    if (this.length + extra <= this.bytes.length) return
    const grown = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.length + extra))
    this.bytes.copy(grown, 0, 0, this.length)
    this.bytes = grown
  }
}
