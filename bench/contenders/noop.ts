/** Not a contender: loads nothing and writes nothing, to show the RSS floor of a child process. */
import type { ContenderOptions, RunInfo } from "../lines.js"

export const run = async (opts: ContenderOptions): Promise<RunInfo> => {
  opts.startClock()
  return { linesWritten: 0, note: "writes nothing (RSS floor)" }
}
