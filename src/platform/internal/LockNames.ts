/**
 * The names effect-logrotate's lock files take, and the check that an active file never takes
 * one (pure). Appending to such a name would write a file another writer or the sweep deletes
 * as a stale lock, or claim the sweep's own lock:
 * - `.<x>.lock`: an appender's claim on `x` (and the sweep's `.effect-logrotate.lock`);
 * - `.<x>.lock.break`: the recovery lock of a lock file;
 * - `.<x>.lock.<id>.stale`, `.<x>.lock.break.<id>.stale`: a lock file renamed aside to be removed;
 * - `effect-logrotate`: its claim `.effect-logrotate.lock` is the sweep's directory lock.
 * @internal
 */

/** The sweep's lock file in each swept directory. */
export const SWEEP_LOCK_NAME = ".effect-logrotate.lock"

/** Why `name` (a base name) may not be an active file's name; `undefined` when it may. Pure. */
export const reservedReason = (name: string): string | undefined => {
  if (name === "effect-logrotate") return `its claim ${SWEEP_LOCK_NAME} is the sweep's directory lock`
  if (!name.startsWith(".")) return undefined
  if (name.endsWith(".lock")) return "it is the name of an effect-logrotate lock file (.<name>.lock)"
  if (name.endsWith(".lock.break")) return "it is the name of an effect-logrotate lock recovery file (.<name>.lock.break)"
  if (/\.lock(\.break)?\.[^/]+\.stale$/.test(name)) return "it is the name of an effect-logrotate lock file set aside (.<name>.lock.<id>.stale)"
  return undefined
}

/** What an active file's name may be, for error messages. */
export const ACCEPTED = "a file name that is not one of effect-logrotate's lock names " +
  "(.<name>.lock, .<name>.lock.break, .<name>.lock.<id>.stale, or effect-logrotate)"
