#!/usr/bin/env node
/** The `effect-logrotate` executable. */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Effect, type Exit } from "effect"
import { exitCode, main } from "./Cli.js"

NodeRuntime.runMain(main(process.argv).pipe(Effect.provide(NodeContext.layer)), {
  disablePrettyLogger: true,
  teardown: (exit, onExit) => onExit(exitCode(exit as Exit.Exit<number, unknown>))
})
