/**
 * Runs the CLI in this process with Node's runtime: `NodeRuntime.runMain`, which on SIGTERM or
 * SIGINT interrupts the run (the commands turn that into their documented stop) and exits with
 * {@link exitCode}. Loaded by `bin.ts` only after it has put its own signal listeners in place.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import { exitCode, main } from "./Cli.js"

/**
 * Starts the run on a full argv (`process.argv`). When this returns, the runtime's SIGTERM and
 * SIGINT listeners are installed (`runMain` adds them synchronously, after forking the run), so a
 * signal emitted from then on interrupts the run.
 */
export const run = (argv: ReadonlyArray<string>): void =>
  NodeRuntime.runMain(main(argv).pipe(Effect.provide(NodeContext.layer)), {
    disablePrettyLogger: true,
    teardown: (exit, onExit) => onExit(exitCode(exit as Exit.Exit<number, unknown>))
  })
