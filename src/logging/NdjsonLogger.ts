/**
 * An Effect `Logger` that writes every log entry as one NDJSON line through a
 * `RotatingAppender` (or any appender with `appendAll`, such as a `DailyAppender`).
 *
 * Each line is one JSON object:
 *
 * | field         | value                                                                    |
 * |---------------|--------------------------------------------------------------------------|
 * | `timestamp`   | the entry's date (Effect's `Clock`), ISO-8601 UTC: `2026-01-31T12:00:00.000Z` |
 * | `level`       | the level's label: `TRACE`, `DEBUG`, `INFO`, `WARN`, `ERROR`, `FATAL`   |
 * | `message`     | a string: several messages (`Effect.log("a", 1)`) are joined with a space; an object or array is rendered as compact JSON, an `Error` as `Name: message`, anything else with `String()` |
 * | `annotations` | an object of the entry's annotations (`Effect.annotateLogs`), keys sorted (array-index keys such as `"0"` first, in numeric order, as JavaScript orders them) |
 * | `spans`       | an object, span label → milliseconds since the span started (`Effect.withLogSpan`) |
 * | `fiberId`     | the fiber's thread name, e.g. `#12`                                      |
 * | `cause`       | only when the entry carries a non-empty `Cause`: `Cause.pretty` of it    |
 *
 * Formatting never throws: a `bigint` becomes its decimal string, a circular reference
 * `"[Circular]"`, an `Error` `{ name, message }`, and a value whose serialization throws
 * (a throwing `toJSON` or getter) falls back to `String(value)`.
 *
 * Delivery: a `Logger` is called synchronously, so entries are formatted at once (with the
 * fiber, time and spans of the call) and queued in memory; a background fiber hands each
 * queued batch to the target as soon as it runs, so batches grow with load and there is no
 * timer. Order is the order of the log calls. A target with `appendEncoded` (`RotatingAppender`)
 * is handed bytes: the logger joins every 16 K characters of entries and encodes them as UTF-8,
 * with their `\n`s, into a reused buffer (entries never wait as strings long enough to survive
 * a garbage collection); any other target gets the lines as strings through `appendAll`. Either
 * way a batch is one unit: all of it is accepted, or none. Closing the scope hands over everything queued
 * before the appender itself is flushed and closed, so an entry logged right before shutdown
 * is on disk after it. If the appender rejects a batch (its buffer was full and the flush it
 * waited for failed), the batch is dropped, counted in `entriesDropped`, and reported as a
 * warning to the program's other loggers. Entries logged after the scope closed are dropped.
 *
 * Memory is bounded by construction: the logger holds at most `maxQueued` characters of
 * formatted entries (default 8 MiB, at least 4 × `highWaterMark`; UTF-16 units, bytes for
 * ASCII; encoded for `appendEncoded`, at most 3 bytes each), the queue plus the batch being handed over. An entry that would pass it is dropped, counted in `entriesDropped` at
 * once, and reported as one warning (with the count) after the next completed hand-over.
 *
 * Backpressure: a fiber that logs in a loop without ever waiting would otherwise hold the
 * thread while entries pile up (Effect's scheduler reaches the event loop, where write
 * completions arrive, only every few thousand yields: 1M entries once queued ~1 GiB). The logger
 * installs, for the fibers it logs for, a scheduler (`FiberRef.currentScheduler`): a fiber that
 * logs while the queue holds `highWaterMark` characters (default 256 KiB) waits from its next
 * step until the worker takes the queue; fibers are resumed in order. Only fibers that logged
 * at the mark wait (one that holds a lock or serves a request without logging runs on); the
 * worker and the appender's flusher never wait. So while the target keeps up, nothing is
 * dropped: the queue holds at most `highWaterMark` plus one entry per waiting fiber.
 * Trade-off, chosen over writing synchronously (`fs.writeSync`) from inside the logger: a
 * logging fiber pauses while the log backs up, as with any blocking logger, but rotation, the
 * claim and the after-write identity check stay those of `RotatingAppender`, through the
 * `FileSystem` service (also the in-memory one). Fibers on another scheduler
 * (`Effect.withScheduler`) never wait: their entries past `maxQueued` are dropped.
 *
 * A stuck target: if no hand-over completes for `stallTimeout` (default 1 second, Effect's
 * `Clock`) while a fiber waits (a hung disk, or a target that needs the waiting fiber: one that
 * logged while holding a lock the target takes, as `RotatingAppender.reopen` logs under its own), the waiting fibers are
 * released and nobody waits until a hand-over completes again; meanwhile entries past
 * `maxQueued` are dropped and counted. Never a deadlock, never unbounded growth. See
 * docs/performance.md for the measurements.
 *
 * Formatting: `formatLine` builds the line as text for plain messages and annotations (strings,
 * numbers, booleans, null, plain objects and arrays of them) and falls back to
 * `formatEntry(toEntry(…))` otherwise; both give the same bytes.
 *
 * In context: `layer`/`layerReplace(path)` need a `FileSystem`, `RenameShift` and the
 * `RotationPolicy` (not when given `policy`), and fail at build with `WriteError` or `FileClaimed`;
 * `make(target)` needs only a `Scope`. Logging never fails. `maxQueued` and `stallTimeout` since 0.2.0.
 *
 * @since 0.1.0
 * @example
 * ```ts
 * import { NodeFileSystem } from "@effect/platform-node"
 * import { Effect, Layer } from "effect"
 * import { NdjsonLogger, RenameShift, RotationPolicy } from "effect-logrotate"
 *
 * const LoggingLive = NdjsonLogger.layerReplace("logs/app.jsonl", {
 *   policy: RotationPolicy.unsafeMake({ maxBytes: 10 * 1024 * 1024, maxFiles: 5 })
 * }).pipe(Layer.provide(RenameShift.layer), Layer.provide(NodeFileSystem.layer))
 *
 * Effect.runPromise(Effect.logInfo("started").pipe(Effect.annotateLogs({ port: 8080 }), Effect.provide(LoggingLive)))
 * // logs/app.jsonl: {"timestamp":"…","level":"INFO","message":"started","annotations":{"port":8080},"spans":{},"fiberId":"#1"}
 * ```
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import * as Cause from "effect/Cause"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import * as FiberRef from "effect/FiberRef"
import * as HashMap from "effect/HashMap"
import * as HashSet from "effect/HashSet"
import * as Layer from "effect/Layer"
import * as List from "effect/List"
import * as Logger from "effect/Logger"
import * as Metric from "effect/Metric"
import * as Scheduler from "effect/Scheduler"
import type * as Scope from "effect/Scope"
import type { AppendError, FileClaimed, WriteError } from "../Errors.js"
import * as RotatingAppender from "../rotation/RotatingAppender.js"
import type { RenameShift } from "../rotation/RenameShift.js"
import { type Policy, RotationPolicy } from "../rotation/RotationPolicy.js"

/**
 * What the logger writes to: `RotatingAppender`, `DailyAppender`, or your own.
 *
 * @since 0.1.0
 */
export interface Target {
  /** Accepts lines (without `\n`) as one unit. */
  readonly appendAll: (lines: Iterable<string>) => Effect.Effect<void, AppendError>
  /**
   * Optional: accepts lines already encoded (UTF-8, each ending in `\n`) as one unit, as
   * `RotatingAppender.appendEncoded` does. When the target has it, the logger encodes its entries
   * itself, in groups into a reused buffer, and hands over bytes instead of strings (see the module
   * comment); the buffer is reused once the effect completes.
   *
   * @since 0.2.0
   */
  readonly appendEncoded?: (bytes: Uint8Array) => Effect.Effect<void, AppendError>
}

/**
 * One log entry as written (before `JSON.stringify`).
 *
 * @since 0.1.0
 */
export interface Entry {
  readonly timestamp: string
  readonly level: string
  readonly message: string
  readonly annotations: Record<string, unknown>
  readonly spans: Record<string, number>
  readonly fiberId: string
  readonly cause?: string
}

/**
 * Entries the appender rejected (see the module comment); 0 while the disk is healthy.
 *
 * @since 0.1.0
 */
export const entriesDropped = Metric.counter("effect_logrotate_logger_entries_dropped_total", {
  description: "log entries NdjsonLogger could not hand to its appender", incremental: true
})

/**
 * A `JSON.stringify` replacer that keeps serialization total: bigint → string, symbol and
 * function → `String(v)`, Error → `{ name, message, …own fields }`, a reference to an
 * enclosing object → `"[Circular]"` (a value seen twice side by side is not circular).
 */
const safeReplacer = () => {
  const ancestors: Array<unknown> = []
  return function(this: unknown, _key: string, value: unknown): unknown {
    switch (typeof value) {
      case "bigint":
      case "symbol":
      case "function":
        return String(value)
      case "object": {
        if (value === null) return value
        while (ancestors.length > 0 && ancestors[ancestors.length - 1] !== this) ancestors.pop()
        if (ancestors.includes(value)) return "[Circular]"
        ancestors.push(value)
        return value instanceof Error ? { ...value, name: value.name, message: value.message } : value
      }
      default:
        return value
    }
  }
}

/** `String(value)`, which itself throws for e.g. `Object.create(null)`. */
const safeString = (value: unknown): string => {
  try {
    return String(value)
  } catch {
    return Object.prototype.toString.call(value)
  }
}

/** Compact JSON text of any value; `String(value)` when serialization throws or gives nothing. */
const toJsonText = (value: unknown): string => {
  try {
    return JSON.stringify(value, safeReplacer()) ?? safeString(value)
  } catch {
    return safeString(value)
  }
}

/** A value `JSON.stringify` is guaranteed to accept: itself when it serializes, else its string. */
const toJsonSafe = (value: unknown): unknown => {
  try {
    const text = JSON.stringify(value, safeReplacer())
    return text === undefined ? safeString(value) : JSON.parse(text)
  } catch {
    return safeString(value)
  }
}

const renderMessage = (message: unknown): string => {
  if (typeof message === "string") return message
  if (typeof message !== "object" || message === null || message instanceof Error) return safeString(message)
  return toJsonText(message)
}

/** Whether `key` is an array index ("0", "17", …): JavaScript puts those first in an object, in numeric order. */
const isIndexKey = (key: string): boolean => {
  const c = key.charCodeAt(0)
  return c >= 48 && c <= 57 && /^(?:0|[1-9][0-9]*)$/.test(key) && Number(key) < 4294967295
}

/**
 * Annotation pairs in the order their object is written: keys sorted by code unit, except array
 * indices, which come first in numeric order (as in any JavaScript object, which `JSON.stringify`
 * follows). HashMap order is by hash. Sorts in place.
 */
const sortAnnotations = (pairs: Array<[string, unknown]>): Array<[string, unknown]> => {
  if (pairs.length < 2) return pairs
  pairs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  if (!pairs.some(([key]) => isIndexKey(key))) return pairs
  const indices = pairs.filter(([key]) => isIndexKey(key)).sort(([a], [b]) => Number(a) - Number(b))
  return [...indices, ...pairs.filter(([key]) => !isIndexKey(key))]
}

/** `object[key] = value`, also for `"__proto__"` (as an own property, not the prototype). */
const setOwn = (object: Record<string, unknown>, key: string, value: unknown): void => {
  if (key === "__proto__") Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true })
  else object[key] = value
}

/**
 * The entry for one log call, as the logger writes it. Pure; never throws.
 *
 * @example
 * ```ts
 * const entry = NdjsonLogger.toEntry(options) // inside Logger.make((options) => …)
 * ```
 *
 * @since 0.1.0
 */
export const toEntry = (options: Logger.Logger.Options<unknown>): Entry => {
  const { annotations, cause, date, fiberId, logLevel, message, spans } = options
  const now = date.getTime()
  const annotationsObject: Record<string, unknown> = {}
  for (const [key, value] of sortAnnotations(HashMap.toEntries(annotations))) setOwn(annotationsObject, key, value)
  const spansObject: Record<string, number> = {}
  for (const span of List.toArray(spans)) spansObject[span.label] = now - span.startTime
  const messages = Array.isArray(message) ? message : [message]
  const entry: Entry = {
    timestamp: Number.isNaN(now) ? safeString(date) : date.toISOString(),
    level: logLevel.label,
    message: messages.map(renderMessage).join(" "),
    annotations: annotationsObject,
    spans: spansObject,
    fiberId: FiberId.threadName(fiberId)
  }
  if (Cause.isEmpty(cause)) return entry
  let pretty: string
  try {
    pretty = Cause.pretty(cause, { renderErrorCause: true })
  } catch {
    pretty = "(cause could not be rendered)"
  }
  return { ...entry, cause: pretty }
}

/**
 * One NDJSON line (no trailing `\n`) for an entry. Never throws: when an annotation cannot be
 * serialized, that annotation alone falls back to its `String()`.
 *
 * @since 0.1.0
 */
export const formatEntry = (entry: Entry): string => {
  try {
    return JSON.stringify(entry, safeReplacer())
  } catch {
    const annotations: Record<string, unknown> = {}
    for (const key of Object.keys(entry.annotations)) setOwn(annotations, key, toJsonSafe(entry.annotations[key]))
    return JSON.stringify({ ...entry, annotations })
  }
}

/** Nodes a value may have for the fast path; larger values take the general path. */
const PLAIN_BUDGET = 64

/**
 * A string with none of what `JSON.stringify` escapes (controls, `"`, `\\`) nor surrogates (it
 * escapes lone ones): its JSON text is the string between two quotes. One RegExp scan instead of
 * `JSON.stringify`'s per-character serializer. Anchored (`^[^…]*$`), the scan is one greedy loop;
 * the unanchored search for one such character (`/[…]/`) retried the match at every position and
 * took 1.5–2× as long (170 characters: ~140–220 ns against ~270–500 ns).
 */
const PLAIN_STRING = /^[^\u0000-\u001f"\\\ud800-\udfff]*$/

/** `JSON.stringify(text)` without its quotes: what a line holds between the quotes of a string field. */
const unquoted = (text: string): string => PLAIN_STRING.test(text) ? text : JSON.stringify(text).slice(1, -1)

/**
 * JSON text written by the fast path, or `NOT_PLAIN`. `nested` selects the form: the JSON text
 * itself, or (true) that text as it appears inside a JSON string (`{\"a\":1}`: the quotes and
 * backslashes escaped once more), for a message rendered as JSON and then written as a string.
 */
const NOT_PLAIN: unique symbol = Symbol("NdjsonLogger/NOT_PLAIN")
type Budget = { n: number }

/** A string's JSON text, plain (`"a"`) or nested (`\"a\"`). */
const stringJson = (text: string, nested: boolean): string => {
  if (PLAIN_STRING.test(text)) return nested ? "\\\"" + text + "\\\"" : "\"" + text + "\""
  const json = JSON.stringify(text)
  return nested ? JSON.stringify(json).slice(1, -1) : json
}

/**
 * `JSON.stringify(value)` (or its nested form, see `NOT_PLAIN`) for plain values: strings,
 * numbers, booleans, null, and plain objects (prototype `Object.prototype` or null) and arrays of
 * those, without `toJSON`, at most `PLAIN_BUDGET` nodes (so a cycle is never followed far); for
 * those it equals `JSON.stringify(value, safeReplacer())`. Anything else gives `NOT_PLAIN` (the
 * caller takes the general path). `undefined` inside an object leaves its key out and inside an
 * array is `null`, as `JSON.stringify` does; at the top it is `NOT_PLAIN`. Pure.
 */
const plainJson = (value: unknown, nested: boolean, budget: Budget): string | typeof NOT_PLAIN => {
  if (--budget.n < 0) return NOT_PLAIN
  switch (typeof value) {
    case "string":
      return stringJson(value, nested)
    case "number":
      return Number.isFinite(value) ? String(value) : "null"
    case "boolean":
      return value ? "true" : "false"
    case "object": {
      if (value === null) return "null"
      if (Array.isArray(value)) {
        let out = "["
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i]
          const json = item === undefined ? "null" : plainJson(item, nested, budget)
          if (json === NOT_PLAIN) return NOT_PLAIN
          out += i === 0 ? json : "," + json
        }
        return out + "]"
      }
      const proto = Object.getPrototypeOf(value)
      if ((proto !== Object.prototype && proto !== null) || "toJSON" in value) return NOT_PLAIN
      let out = ""
      for (const key of Object.keys(value)) {
        const item = (value as Record<string, unknown>)[key]
        if (item === undefined) {
          if (--budget.n < 0) return NOT_PLAIN
          continue
        }
        const json = plainJson(item, nested, budget)
        if (json === NOT_PLAIN) return NOT_PLAIN
        out = out === "" ? keyJson(key, nested, OPEN) + json : out + keyJson(key, nested, COMMA) + json
      }
      return out === "" ? "{}" : out + "}"
    }
    default:
      return NOT_PLAIN
  }
}

/** `renderMessage` of one message, through the fast path when it is plain. */
const fastMessage = (message: unknown): string => {
  if (typeof message === "string") return message
  if (typeof message !== "object" || message === null || message instanceof Error) return safeString(message)
  const json = plainJson(message, false, { n: PLAIN_BUDGET })
  return json === NOT_PLAIN ? toJsonText(message) : json
}

/**
 * The JSON string of one message's text, `JSON.stringify(renderMessage(message))`, without its
 * quotes (the line's cached pieces hold them): for a plain object or array, its JSON text written
 * at once in the nested form (no second encoding pass).
 */
const messageJson = (message: unknown): string => {
  if (typeof message === "string") return unquoted(message)
  if (typeof message === "object" && message !== null && !(message instanceof Error)) {
    const nested = plainJson(message, true, { n: PLAIN_BUDGET })
    if (nested !== NOT_PLAIN) return nested
  }
  return unquoted(fastMessage(message))
}

/** `"timestamp":"…","level":"…"` prefixes: ISO strings change once a millisecond, so the last one is kept. */
/**
 * A sequential (flat) copy of a string built by concatenation. A cached piece reused in every
 * line is then copied by the appender's join as one block, not walked as a tree each time.
 */
const flat = (text: string): string => JSON.parse(JSON.stringify(text)) as string

/** What goes before an object key: `{` (the first key) or `,`. */
const OPEN = 0
const COMMA = 1
/**
 * Object keys as they are written with what goes before them, `{"key":` or `,"key":` (or nested,
 * `{\"key\":`), cached for keys up to 64 characters: one piece instead of three in the line.
 */
const keyTexts = [[new Map<string, string>(), new Map<string, string>()], [new Map<string, string>(), new Map<string, string>()]] as const
const keyJson = (key: string, nested: boolean, before: typeof OPEN | typeof COMMA): string => {
  const cache = keyTexts[nested ? 1 : 0][before]
  let text = cache.get(key)
  if (text === undefined) {
    text = (before === OPEN ? "{" : ",") + stringJson(key, nested) + ":"
    if (key.length <= 64) {
      if (cache.size >= 1024) cache.clear()
      cache.set(key, text = flat(text))
    }
  }
  return text
}

/**
 * `{"timestamp":"…","level":"…","message":"` (up to the message's opening quote) for the entry's
 * millisecond and level: ISO strings change once a millisecond, so the last prefix is kept.
 */
let lastMillis = Number.NaN
let lastLevel = ""
let lastPrefix = ""
const prefixOf = (date: Date, level: string): string => {
  const millis = date.getTime()
  if (millis !== lastMillis || level !== lastLevel) {
    const timestamp = Number.isNaN(millis) ? safeString(date) : date.toISOString()
    const prefix = flat(`{"timestamp":${JSON.stringify(timestamp)},"level":${JSON.stringify(level)},"message":"`)
    if (Number.isNaN(millis)) return prefix
    lastMillis = millis
    lastLevel = level
    lastPrefix = prefix
  }
  return lastPrefix
}

/**
 * `"fiberId":"#12"}` of the last fiber, and the whole tail of an entry without annotations or spans,
 * from the message's closing quote: `","annotations":{},"spans":{},"fiberId":"#12"}`.
 */
let lastFiber: FiberId.FiberId | undefined
let lastFiberTail = ""
let lastBareTail = ""
const fiberTailOf = (fiberId: FiberId.FiberId): string => {
  if (fiberId !== lastFiber) {
    lastFiber = fiberId
    lastFiberTail = flat(`"fiberId":${JSON.stringify(FiberId.threadName(fiberId))}}`)
    lastBareTail = flat(`","annotations":{},"spans":{},${lastFiberTail}`)
  }
  return lastFiberTail
}
const bareTailOf = (fiberId: FiberId.FiberId): string => {
  if (fiberId !== lastFiber) fiberTailOf(fiberId)
  return lastBareTail
}

/**
 * `formatEntry(toEntry(options))`, built directly as text for the common entry: no `Cause`,
 * annotations and messages that are plain values (see `plainJson`). Anything else takes the
 * general path, so the output is the same byte for byte (a property test checks it).
 *
 * @since 0.1.0
 */
export const formatLine = (options: Logger.Logger.Options<unknown>): string => {
  try {
    return fastLine(options) ?? formatEntry(toEntry(options))
  } catch { // a getter that throws: the general path renders that value with String()
    return formatEntry(toEntry(options))
  }
}

/** `formatLine` for the common entry; undefined when it needs the general path. */
const fastLine = (options: Logger.Logger.Options<unknown>): string | undefined => {
  const { annotations, cause, date, fiberId, logLevel, message, spans } = options
  if (!Cause.isEmpty(cause)) return undefined
  let annotationsText = "{}"
  if (HashMap.size(annotations) > 0) {
    const pairs = sortAnnotations(HashMap.toEntries(annotations))
    let out = ""
    for (const [key, value] of pairs) {
      if (value === undefined) continue // JSON.stringify leaves the key out
      const json = plainJson(value, false, { n: PLAIN_BUDGET })
      if (json === NOT_PLAIN) return undefined
      out = out === "" ? keyJson(key, false, OPEN) + json : out + keyJson(key, false, COMMA) + json
    }
    if (out !== "") annotationsText = out + "}"
  }
  let spansText = "{}"
  if (List.isCons(spans)) {
    const now = date.getTime()
    const spansObject: Record<string, number> = {}
    for (const span of spans) spansObject[span.label] = now - span.startTime
    spansText = JSON.stringify(spansObject)
  }
  let messageText: string
  if (Array.isArray(message) && message.length !== 1) {
    let text = ""
    for (let i = 0; i < message.length; i++) text += (i === 0 ? "" : " ") + fastMessage(message[i])
    messageText = unquoted(text)
  } else {
    messageText = messageJson(Array.isArray(message) ? message[0] : message)
  }
  const prefix = prefixOf(date, logLevel.label)
  return annotationsText === "{}" && spansText === "{}"
    ? prefix + messageText + bareTailOf(fiberId)
    : prefix + messageText + "\",\"annotations\":" + annotationsText + ",\"spans\":" + spansText + "," + fiberTailOf(fiberId)
}

/**
 * The string logger: one NDJSON line per entry, without writing anywhere. Compose it with
 * your own sink, or use `make` to write it through an appender.
 *
 * @example
 * ```ts
 * const line = NdjsonLogger.format.log(options) // '{"timestamp":"…","level":"INFO",…}'
 * ```
 *
 * @since 0.1.0
 */
export const format: Logger.Logger<unknown, string> = Logger.make(formatLine)

/**
 * The logger writing through `target`, for programs that compose their own layers. Its
 * background fiber and final hand-over live in the current scope; close that scope before
 * the target's (acquiring the target first in the same scope does that).
 *
 * @example
 * ```ts
 * const LoggingLive = Logger.replaceScoped(
 *   Logger.defaultLogger,
 *   Effect.flatMap(RotatingAppender.make("logs/app.jsonl", { policy }), NdjsonLogger.make)
 * )
 * ```
 *
 * @since 0.1.0
 */
export const make = (
  target: Target,
  options?: MakeOptions
): Effect.Effect<Logger.Logger<unknown, void>, never, Scope.Scope> =>
  Effect.flatMap(build(target, options), ({ logger, throttle }) =>
    // Fibers that run with this logger installed run on the throttle (see the module comment).
    Effect.as(Effect.locallyScopedWith(FiberRef.currentScheduler, (base) => throttle.over(base)), logger))

/** The logger and its throttle, not yet installed: `make` and the layers install them. */
const build = (
  target: Target,
  options: MakeOptions | undefined
): Effect.Effect<{ readonly logger: Logger.Logger<unknown, void>; readonly throttle: Throttle }, never, Scope.Scope> =>
  Effect.gen(function* () {
    const highWaterMark = Math.max(1, options?.highWaterMark ?? DEFAULT_HIGH_WATER_MARK)
    // Room for a full queue, the batch being handed over, and fibers that log one entry each past the mark.
    const maxQueued = Math.max(4 * highWaterMark, options?.maxQueued ?? DEFAULT_MAX_QUEUED)
    const stallTimeout = options?.stallTimeout ?? DEFAULT_STALL_TIMEOUT
    const queue: Queue = target.appendEncoded === undefined
      ? new LineQueue(target)
      : new EncodedQueue(target.appendEncoded, Math.min(highWaterMark, 1024 * 1024) + 64 * 1024)
    /** Characters (UTF-16 units; bytes for ASCII) queued, and in the batch being handed over. */
    let queued = 0
    let handingOver = 0
    /** Hand-overs completed: the watchdog compares it across `stallTimeout`. */
    let completed = 0
    /** No hand-over completed for `stallTimeout` while a fiber waited: park nobody until one does. */
    let stalled = false
    /** Entries dropped at `maxQueued` since the last warning. */
    let overflowed = 0
    let closed = false
    const wake = yield* Effect.makeLatch(false)
    const parked = yield* Effect.makeLatch(false)
    const throttle = new Throttle(() => parked.unsafeOpen())
    const logger: Logger.Logger<unknown, void> = Logger.make((options) => {
      if (closed) return
      const line = formatLine(options)
      if (queued + handingOver + line.length > maxQueued) {
        overflowed++
        entriesDropped.unsafeUpdate(1, [])
        return
      }
      queue.push(line)
      queued += line.length
      if (queued >= highWaterMark && !stalled) throttle.park(options.fiberId)
      wake.unsafeOpen()
    })

    /** Hands everything queued to the target; runs to completion once started. */
    const handOver = Effect.suspend(() => {
      if (queue.entries === 0) return Effect.void
      const entries = queue.entries
      const deliver = queue.take()
      handingOver = queued
      queued = 0
      throttle.release() // the queue is empty again: waiting fibers go on while these lines are written
      return deliver.pipe(
        Effect.catchAll((error: AppendError) =>
          Metric.incrementBy(entriesDropped, entries).pipe(
            Effect.zipRight(Effect.logWarning("log entries dropped: the appender rejected them")),
            Effect.annotateLogs({ entries, error: error.message })
          )
        ),
        Effect.zipRight(Effect.suspend(() => {
          handingOver = 0
          completed++
          stalled = false
          if (overflowed === 0) return Effect.void
          const entries = overflowed
          overflowed = 0
          return Effect.logWarning(
            "log entries dropped: the logger's queue was full (maxQueued) while the appender fell behind"
          ).pipe(Effect.annotateLogs({ entries, maxQueued }))
        })),
        Effect.uninterruptible,
        // Nothing the hand-over logs (nor the appender's background flush it forks) comes back
        // into this logger: a failing disk would otherwise feed it a line per failure, forever.
        Effect.locallyWith(FiberRef.currentLoggers, HashSet.remove(logger))
      )
    })

    // Close the latch before taking the queue, so a log call after the take wakes the next round.
    // Forked before the throttle is installed, as is the appender's flusher: neither ever waits on it.
    const worker = yield* wake.await.pipe(
      Effect.zipRight(wake.close),
      Effect.zipRight(handOver),
      Effect.forever,
      Effect.interruptible, // a fork inherits uninterruptibility; the finalizer must be able to stop it
      Effect.forkDaemon
    )
    // Wakes when a fiber starts waiting; if no hand-over completes within `stallTimeout` while one
    // still waits, the target is stuck (or needs a waiting fiber): release them, park nobody more.
    const watchdog = yield* parked.await.pipe(
      Effect.zipRight(parked.close),
      Effect.zipRight(Effect.suspend(() => {
        const before = completed
        return Effect.sleep(stallTimeout).pipe(Effect.zipRight(Effect.sync(() => {
          if (completed === before && throttle.waiting && !closed) {
            stalled = true
            throttle.release()
          }
        })))
      })),
      Effect.forever,
      Effect.interruptible,
      Effect.forkDaemon
    )
    /** Hands over until nothing is queued, then stops accepting: no entry is left behind. */
    const handOverAll: Effect.Effect<void> = Effect.suspend(() => {
      if (queue.entries > 0) return Effect.zipRight(handOver, handOverAll)
      closed = true
      throttle.release()
      return Effect.void
    })
    // Interrupting waits for an in-flight hand-over (it is uninterruptible) to finish.
    yield* Effect.addFinalizer(() =>
      Effect.zipRight(Fiber.interruptAll([worker, watchdog]), handOverAll)
    )
    return { logger, throttle }
  })

/**
 * Options of `make`.
 *
 * @since 0.1.0
 */
export interface MakeOptions {
  /**
   * Characters of formatted entries queued (bytes, for ASCII) at which a fiber that logs through
   * this logger waits until the queue is handed to the target. Default 256 KiB.
   */
  readonly highWaterMark?: number
  /**
   * Characters the logger holds at most: the queue plus the batch being handed over. An entry
   * that does not fit is dropped and counted in `entriesDropped` (never while fibers can wait
   * and the target keeps up; see the module comment). At least 4 × `highWaterMark` (a full queue plus the batch
   * being handed over, with room for fibers that each log one entry past the mark). Default 8 MiB.
   *
   * @since 0.2.0
   */
  readonly maxQueued?: number
  /**
   * How long fibers wait at most for a hand-over that does not complete (a stuck disk, or a
   * target that needs a waiting fiber): after it they are released and nobody waits until the
   * target completes a hand-over again. Measured with Effect's `Clock`. Default 1 second.
   *
   * @since 0.2.0
   */
  readonly stallTimeout?: Duration.DurationInput
}

/**
 * What a logger has queued for its target, and how it hands it over: strings to `appendAll`
 * (`LineQueue`), or bytes to `appendEncoded` (`EncodedQueue`).
 */
interface Queue {
  /** Entries queued. */
  readonly entries: number
  push(line: string): void
  /** Takes everything queued (the queue is empty after): the effect that hands it to the target. */
  take(): Effect.Effect<void, AppendError>
}

/** Lines queued as strings, handed to `appendAll`: for targets without `appendEncoded`. */
class LineQueue implements Queue {
  private lines: Array<string> = []
  constructor(private readonly target: Target) {}
  get entries(): number {
    return this.lines.length
  }
  push(line: string): void {
    this.lines.push(line)
  }
  take(): Effect.Effect<void, AppendError> {
    const lines = this.lines
    this.lines = []
    return this.target.appendAll(lines)
  }
}

/**
 * Characters of entries kept as strings before they are joined and encoded at once (`EncodedQueue`):
 * about 50 entries of 330 characters, few enough that a scavenge rarely finds them alive.
 */
const GROUP_CHARS = 16 * 1024

/**
 * Lines queued as UTF-8 bytes, handed to `appendEncoded`. An entry stays a string only until
 * `GROUP_CHARS` of them are queued; then the group is joined and encoded in one call, with its
 * `\n`s, into a reused buffer. So no line lives long enough to survive scavenges in bulk (a queue of
 * strings did: promoted, then marked and compacted), and the target copies bytes instead of joining.
 * Two buffers: one being handed over, one filling; a buffer grows (doubling) when entries outrun it.
 */
class EncodedQueue implements Queue {
  private group: Array<string> = []
  private groupChars = 0
  private bytes: Buffer
  private length = 0
  private spare: Buffer | undefined
  entries = 0
  constructor(
    private readonly appendEncoded: (bytes: Uint8Array) => Effect.Effect<void, AppendError>,
    private readonly capacity: number
  ) {
    this.bytes = Buffer.allocUnsafe(capacity)
  }
  push(line: string): void {
    this.group.push(line)
    this.entries++
    if ((this.groupChars += line.length) >= GROUP_CHARS) this.encode()
  }
  /** Joins the group and encodes it after what is encoded, `\n` after each line. */
  private encode(): void {
    const group = this.group
    if (group.length === 0) return
    const joined = group.length === 1 ? group[0]! : group.join("\n")
    const room = joined.length * 3 + 1 // UTF-8 bytes per UTF-16 unit, at most
    if (this.length + room > this.bytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(2 * this.bytes.length, this.length + room))
      this.bytes.copy(grown, 0, 0, this.length)
      this.bytes = grown
    }
    const written = this.bytes.write(joined, this.length, "utf8")
    this.bytes[this.length + written] = 10
    this.length += written + 1
    group.length = 0
    this.groupChars = 0
  }
  take(): Effect.Effect<void, AppendError> {
    this.encode()
    const storage = this.bytes
    const bytes = storage.subarray(0, this.length)
    this.bytes = this.spare ?? Buffer.allocUnsafe(this.capacity)
    this.spare = undefined
    this.length = 0
    this.entries = 0
    // The target copies the bytes when it accepts them: the buffer is free once it is done.
    return Effect.ensuring(this.appendEncoded(bytes), Effect.sync(() => {
      if (storage.length <= 2 * this.capacity) this.spare = storage
    }))
  }
}

const DEFAULT_HIGH_WATER_MARK = 256 * 1024
const DEFAULT_MAX_QUEUED = 8 * 1024 * 1024
const DEFAULT_STALL_TIMEOUT: Duration.DurationInput = "1 second"

type Task = () => void

/**
 * The backpressure of the logger. A `Logger` is called synchronously inside the log call and
 * cannot wait; but the fiber that called it yields to its `Scheduler` between operations. A
 * fiber that logged while the queue was at its high-water mark is marked (`park`); at its next
 * step this scheduler makes it yield and holds the task that would resume it. Handing the queue
 * over releases every held task (to the scheduler it ran on before, in order). Only fibers that
 * logged are held: one that holds a lock or serves a request without logging runs on. The
 * logger's worker and the appender's flusher were forked before this scheduler was installed,
 * so they never wait on it, and the event loop, no longer held by the logging fiber, gets to the
 * write completions.
 */
class Throttle {
  private readonly marked = new Set<FiberId.FiberId>()
  private held: Array<readonly [Task, number, Fiber.RuntimeFiber<unknown, unknown> | undefined, Scheduler.Scheduler]> = []

  /** `onHold` runs whenever a task is held. */
  constructor(private readonly onHold: () => void) {}

  /** Whether some fiber is marked or held. */
  get waiting(): boolean {
    return this.marked.size > 0 || this.held.length > 0
  }

  /** Marks the fiber that just logged: it waits from its next step until `release`. */
  park(fiberId: FiberId.FiberId): void {
    this.marked.add(fiberId)
  }

  /** The scheduler installed for the program's fibers, over the one they had (`base`). */
  over(base: Scheduler.Scheduler): Scheduler.Scheduler {
    return {
      shouldYield: (fiber) => this.marked.size !== 0 && this.marked.has(fiber.id()) ? 0 : base.shouldYield(fiber),
      scheduleTask: (task, priority, fiber) => {
        if (fiber === undefined || this.marked.size === 0 || !this.marked.has(fiber.id())) {
          return base.scheduleTask(task, priority, fiber)
        }
        this.held.push([task, priority, fiber, base])
        this.onHold()
      }
    }
  }

  /** Unmarks every fiber and resumes the held ones, in the order they were held. */
  release(): void {
    this.marked.clear()
    const held = this.held
    if (held.length === 0) return
    this.held = []
    for (const [task, priority, fiber, base] of held) base.scheduleTask(task, priority, fiber)
  }
}

/**
 * Options of the layers: the appender's (without `policy`, the program's `RotationPolicy` is
 * used; `highWaterMark` applies to both the appender and the logger) and the logger's.
 *
 * @since 0.1.0
 */
export type Options = Partial<RotatingAppender.Options> & Omit<MakeOptions, "highWaterMark">

const appenderLogger = (path: string, options: Options | undefined) =>
  Effect.gen(function* () {
    const policy = options?.policy ?? (yield* RotationPolicy)
    const appender = yield* RotatingAppender.make(path, { ...options, policy })
    const { highWaterMark, maxQueued, stallTimeout } = options ?? {}
    return yield* build(appender, {
      ...(highWaterMark === undefined ? {} : { highWaterMark }),
      ...(maxQueued === undefined ? {} : { maxQueued }),
      ...(stallTimeout === undefined ? {} : { stallTimeout })
    })
  })

/**
 * `self`, run in a child fiber whose FiberRefs are not taken over (`Fiber.await`, not `join`).
 * A layer hands every FiberRef its build changed to the fibers under it, and Effect copies a
 * fiber's changed FiberRefs on every log call (`getFiberRefs`): building the appender left
 * `interruptedCause` changed (the claim's read timeout races a fiber), one more copy per entry.
 */
const withoutFiberRefs = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.flatMap(Effect.fork(self), (fiber) => Effect.flatMap(Fiber.await(fiber), (exit) => exit))

/** A layer that puts the logger for `path` into the current loggers with `update`, for its lifetime. */
const installed = (
  path: string,
  options: Options | undefined,
  update: (
    loggers: HashSet.HashSet<Logger.Logger<unknown, unknown>>,
    logger: Logger.Logger<unknown, void>
  ) => HashSet.HashSet<Logger.Logger<unknown, unknown>>
): Layer.Layer<never, WriteError | FileClaimed, FileSystem.FileSystem | RenameShift | RotationPolicy> =>
  Layer.scopedDiscard(Effect.flatMap(
    withoutFiberRefs(appenderLogger(path, options)),
    // The only FiberRefs the layer changes for the fibers under it: the throttle, and the loggers.
    ({ logger, throttle }) =>
      Effect.zipRight(
        Effect.locallyScopedWith(FiberRef.currentScheduler, (base) => throttle.over(base)),
        Effect.locallyScopedWith(FiberRef.currentLoggers, (loggers) => update(loggers, logger))
      )
  ))

/** Effect's console loggers: the default one, and the pretty one `runMain` installs in its place. */
const consoleLoggers: ReadonlyArray<Logger.Logger<unknown, void>> = [Logger.defaultLogger, Logger.prettyLoggerDefault]

/**
 * Adds the NDJSON logger writing to `path` next to the loggers already installed (the console
 * keeps logging). The file is flushed and closed with the layer.
 *
 * @example
 * ```ts
 * NdjsonLogger.layer("logs/app.jsonl").pipe(
 *   Layer.provide(Layer.mergeAll(RenameShift.layer, RotationPolicy.layerConfig())),
 *   Layer.provide(NodeFileSystem.layer))
 * ```
 *
 * @since 0.1.0
 */
export function layer(
  path: string,
  options: Options & { readonly policy: Policy }
): Layer.Layer<never, WriteError | FileClaimed, FileSystem.FileSystem | RenameShift>
export function layer(
  path: string,
  options?: Options
): Layer.Layer<never, WriteError | FileClaimed, FileSystem.FileSystem | RenameShift | RotationPolicy>
export function layer(
  path: string,
  options?: Options
): Layer.Layer<never, WriteError | FileClaimed, FileSystem.FileSystem | RenameShift | RotationPolicy> {
  return installed(path, options, (loggers, logger) => HashSet.add(loggers, logger))
}

/**
 * Replaces Effect's console logger (`Logger.defaultLogger`, or `Logger.prettyLoggerDefault`
 * that `NodeRuntime.runMain` installs) with the NDJSON logger writing to `path`. Other
 * loggers (the tracer logger, any you added) stay.
 *
 * @example
 * ```ts
 * NdjsonLogger.layerReplace("logs/app.jsonl", { policy: RotationPolicy.unsafeMake({ maxBytes: 1e6, maxFiles: 3 }) }).pipe(
 *   Layer.provide(RenameShift.layer), Layer.provide(NodeFileSystem.layer))
 * ```
 *
 * @since 0.1.0
 */
export function layerReplace(
  path: string,
  options: Options & { readonly policy: Policy }
): Layer.Layer<never, WriteError | FileClaimed, FileSystem.FileSystem | RenameShift>
export function layerReplace(
  path: string,
  options?: Options
): Layer.Layer<never, WriteError | FileClaimed, FileSystem.FileSystem | RenameShift | RotationPolicy>
export function layerReplace(
  path: string,
  options?: Options
): Layer.Layer<never, WriteError | FileClaimed, FileSystem.FileSystem | RenameShift | RotationPolicy> {
  return installed(path, options, (loggers, logger) =>
    HashSet.add(consoleLoggers.reduce((set, console) => HashSet.remove(set, console), loggers), logger))
}
