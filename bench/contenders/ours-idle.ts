/**
 * Not in the default set (`--only ours-idle`): opens a RotatingAppender with the Node layers and
 * closes it without writing, to show the RSS floor of ours (modules loaded + appender built).
 */
import * as Effect from "effect/Effect"
import type { ContenderOptions, RunInfo } from "../lines.js"
import { withAppender } from "./_ours.js"

export const run = async (opts: ContenderOptions): Promise<RunInfo> => {
  await withAppender(opts, () => Effect.void)
  return { linesWritten: 0, note: "writes nothing (RSS floor)" }
}
