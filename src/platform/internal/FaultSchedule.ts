/**
 * The fault schedule behind `MemoryFileSystem.injectFault` and the tests' instrumented file
 * systems: which call fails next. A fault names a method, optionally a path (exact, or a
 * RegExp), and fails the `nth` matching call from the moment it is injected, `times` calls in a row.
 * Faults are checked in the order injected; every matching fault counts the call.
 */
import type { SystemErrorReason } from "@effect/platform/Error"

export interface Fault<Method extends string = string> {
  readonly method: Method
  /** Fail the n-th matching call from now on (1-based). Default 1. */
  readonly nth?: number
  /** How many consecutive matching calls fail, starting at `nth`. Default 1; `Infinity` for all. */
  readonly times?: number
  /** Only calls on this path (exact), or matching this RegExp, count. Default: every path. */
  readonly path?: string | RegExp
  /** The `SystemError` reason. Default `"Unknown"`. */
  readonly reason?: SystemErrorReason
}

export interface FaultSchedule<Method extends string> {
  readonly inject: (fault: Fault<Method>) => void
  readonly clear: () => void
  /** Counts a call against every matching fault and returns the first one due to fail it, if any. */
  readonly due: (method: Method, path: string) => Fault<Method> | undefined
}

/** An empty schedule; `normalize` is applied to a fault's exact path before comparing (e.g. `a//b` → `a/b`). */
export const unsafeMake = <Method extends string>(normalize: (path: string) => string = (path) => path): FaultSchedule<Method> => {
  const faults: Array<{ fault: Fault<Method>; seen: number }> = []
  const matches = (fault: Fault<Method>, path: string) =>
    fault.path === undefined ? true : typeof fault.path === "string" ? normalize(fault.path) === path : fault.path.test(path)
  return {
    inject: (fault) => void faults.push({ fault, seen: 0 }),
    clear: () => void faults.splice(0, faults.length),
    due: (method, path) => {
      for (const entry of faults) {
        if (entry.fault.method !== method || !matches(entry.fault, path)) continue
        entry.seen++
        const first = entry.fault.nth ?? 1
        const last = first + (entry.fault.times ?? 1) - 1
        if (entry.seen >= first && entry.seen <= last) return entry.fault
      }
      return undefined
    }
  }
}
