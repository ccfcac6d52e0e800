#!/usr/bin/env node
/** The `effect-logrotate` executable. */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import { exitCode, main } from "./Cli.js"

NodeRuntime.runMain(main(process.argv).pipe(Effect.provide(NodeContext.layer)), {
  disablePrettyLogger: true,
  teardown: (exit, onExit) => onExit(exitCode(exit as Exit.Exit<number, unknown>))
})
