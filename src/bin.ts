#!/usr/bin/env node
/**
 * The `effect-logrotate` executable.
 *
 * Its first statements make SIGTERM, SIGINT and SIGHUP safe: loading Effect and the commands
 * takes a noticeable time (up to a second on a loaded machine), and a signal arriving then would
 * have killed the process with Node's default action (exit 143/130/129) instead of the
 * documented behaviour. So this file imports nothing statically: it records any SIGTERM/SIGINT,
 * loads the CLI, starts it (`NodeRuntime.runMain` installs the runtime's own listeners
 * synchronously), removes its own listeners and re-emits the first recorded signal to the
 * runtime's, which interrupts the run exactly as if the signal had arrived then (e.g. `append`
 * writes what it read, nothing, and exits 0). A signal delivered before Node runs this file at
 * all still has the default action.
 *
 * SIGHUP never ends the process: a listener installed here stays until the process exits. A
 * SIGHUP before `append` installed its reopen handler (start-up), or after it removed it (the
 * final flush), is ignored; `append` reopens the active file on those in between. Every other
 * command ignores SIGHUP (as under `nohup`).
 */
const early: Array<NodeJS.Signals> = []
const hold = (signal: NodeJS.Signals) => void early.push(signal)
process.on("SIGTERM", hold)
process.on("SIGINT", hold)
process.on("SIGHUP", () => {})

const { run } = await import("./cli/CliMain.js")
run(process.argv)

process.off("SIGTERM", hold)
process.off("SIGINT", hold)
const first = early[0]
if (first !== undefined) process.emit(first, first)
