/**
 * Where a run of raw bytes must rotate, for `RotatingAppender.appendBytes`: lines end at `\n`
 * (0x0A) only, nothing is decoded. Pure.
 * @internal
 */

export interface ByteCutsPlan {
  /** Ascending offsets into the bytes; a rotation happens before the byte at each. */
  readonly cuts: Array<number>
  /** The active file's size after the bytes are written (0 right after a cut). */
  readonly size: number
  /** Whether the bytes end inside a line (no `\n` after the last line's first byte). */
  readonly open: boolean
}

/**
 * Plans the rotations for writing `bytes` into an active file of `size` bytes, with the rules of
 * the string path: a line that does not fit (`size` plus it would pass `maxBytes`) goes into a
 * fresh file, unless the file is empty (then it goes alone, however long). When `open`, the bytes
 * up to the first `\n` finish a line already started in the file: never a cut inside it. Bytes
 * after the last `\n` start a line of unknown length (the caller streams a line longer than its
 * buffer): it starts a fresh file unless the file is empty. `maxBytes` 0: no cuts.
 *
 * Cost: one backward search per rotation and per chunk, one forward search per oversize line;
 * never a pass per line.
 */
export const planByteCuts = (bytes: Uint8Array, size: number, maxBytes: number, open: boolean): ByteCutsPlan => {
  const n = bytes.length
  const cuts: Array<number> = []
  let pos = 0
  if (open) {
    const nl = bytes.indexOf(10)
    if (nl === -1) return { cuts, size: size + n, open: true }
    pos = nl + 1
    size += pos
  }
  if (pos === n) return { cuts, size, open: false }
  if (maxBytes <= 0) return { cuts, size: size + n - pos, open: bytes[n - 1] !== 10 }
  while (pos < n) {
    const room = maxBytes - size
    // The last line end that still fits into this file.
    const last = room > 0 ? bytes.lastIndexOf(10, Math.min(n, pos + room) - 1) : -1
    if (last >= pos) {
      size += last + 1 - pos
      pos = last + 1
      continue
    }
    // The next line (or the start of an open one) does not fit here: a fresh file.
    if (size > 0) {
      cuts.push(pos)
      size = 0
      continue
    }
    // An empty file and a line longer than maxBytes: it goes alone.
    const nl = bytes.indexOf(10, pos)
    if (nl === -1) return { cuts, size: size + n - pos, open: true }
    size += nl + 1 - pos
    pos = nl + 1
  }
  return { cuts, size, open: false }
}
