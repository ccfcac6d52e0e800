/**
 * Runs the CLI in this process with Node's runtime: `NodeRuntime.runMain`, which on SIGTERM or
 * SIGINT interrupts the run (the commands turn that into their documented stop) and exits with
 * {@link exitCode}. Loaded by `bin.ts` only after it has put its own signal listeners in place.
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeTerminal from "@effect/platform-node/NodeTerminal"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import { exitCode, main } from "./Cli.js"

/**
 * What @effect/cli needs (`CliApp.Environment`), and no more: `NodeContext.layer` would add the
 * command executor and the worker manager, code that every start-up would load for nothing.
 */
const CliEnvironment = Layer.mergeAll(NodeFileSystem.layer, NodePath.layer, NodeTerminal.layer)

/**
 * Starts the run on a full argv (`process.argv`). When this returns, the runtime's SIGTERM and
 * SIGINT listeners are installed (`runMain` adds them synchronously, after forking the run), so a
 * signal emitted from then on interrupts the run.
 */
export const run = (argv: ReadonlyArray<string>): void =>
  NodeRuntime.runMain(main(argv).pipe(Effect.provide(CliEnvironment)), {
    disablePrettyLogger: true,
    teardown: (exit, onExit) => onExit(exitCode(exit as Exit.Exit<number, unknown>))
  })
