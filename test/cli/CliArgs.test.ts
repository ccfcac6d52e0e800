import { Args, Command, Options } from "@effect/cli"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { describe, expect, it } from "@effect/vitest"
import * as Descriptor from "@effect/cli/CommandDescriptor"
import { Console, Effect, Either, FastCheck as fc, HashMap, Option } from "effect"
import * as CliArgs from "../../src/cli/CliArgs.js"
import { command } from "../../src/cli/Cli.js"

const grammar = CliArgs.grammarOf(command, ["append", "sweep", "watch", "logrotate-config"])
const problemOf = (args: ReadonlyArray<string>) =>
  Either.match(CliArgs.check(grammar, args), {
    onRight: () => undefined,
    onLeft: (e) => ({ command: e.command, argument: e.argument, problem: e.problem, suggestions: e.suggestions })
  })

describe("CliArgs", () => {
  it("reads every command's options, with or without a value, and the built-ins from the Command definitions", () => {
    expect([...grammar.commands.keys()].sort()).toEqual(["append", "logrotate-config", "sweep", "watch"])
    const sweep = grammar.commands.get("sweep")!
    expect(sweep.flags).toContainEqual({ names: ["--dry-run"], value: undefined })
    expect(sweep.flags).toContainEqual({ names: ["--max-age-days"], value: "DAYS" })
    expect(sweep.positionals).toEqual(["<dir>"])
    expect(grammar.commands.get("append")!.positionals).toEqual(["<file>"])
    expect(grammar.commands.get("watch")!.flags.map((f) => f.names[0])).toContain("--interval-seconds")
    expect(grammar.builtIns).toContainEqual({ names: ["-h", "--help"], value: undefined })
    expect(grammar.builtIns.find((f) => f.names.includes("--log-level"))?.value).toContain("debug")
    expect(grammar.builtIns.map((f) => f.names.at(-1)).sort()).toEqual(["--completions", "--help", "--log-level", "--version", "--wizard"])
  })

  it("an option declared on a Command is accepted with no second list to update", () => {
    const withSu = Command.make("x", { dirs: Args.text({ name: "dir" }).pipe(Args.repeated), su: Options.text("su").pipe(Options.optional) },
      () => Effect.void)
    const g = CliArgs.grammarOf(Command.make("prog").pipe(Command.withSubcommands([withSu])))
    expect(Either.isRight(CliArgs.check(g, ["x", "d", "--su", "nobody:nogroup"]))).toBe(true)
    expect(Either.isLeft(CliArgs.check(g, ["x", "d", "--sudo", "nobody:nogroup"]))).toBe(true)
  })

  it.each([
    [["sweep", "d"]],
    [["sweep", "d", "--dry-run"]],
    [["sweep", "--dry-run", "d"]],
    [["sweep", "--json", "d1", "d2"]],
    [["sweep", "d", "--max-age-days", "30"]],
    [["sweep", "d", "--max-age-days=30", "--compress-age-days=7"]],
    [["sweep", "--dry-run=false", "d"]],
    [["sweep", "--", "-x"]],
    [["sweep", "d", "--dry-run", "--", "--dryrun", "-n", "0"]],
    [["sweep", "d", "--log-level", "debug"]],
    [["sweep", "d", "--log-level=debug"]],
    [["--log-level", "debug", "sweep", "d"]],
    [["sweep", "d", "--completions", "bash"]],
    [["sweep", "-h"]],
    [["sweep", "--help"]],
    [["--version"]],
    [["--help"]],
    [["append", "f", "--max-files", "-1"]], // a negative number reaches the setting, which names it
    [["append", "--max-bytes", "10MiB", "f"]],
    [["watch", "--interval-seconds", "60", "d"]],
    [["logrotate-config", "d", "--compress-age-days", "1"]],
    [["sweep", "d", "--env-prefix", "sweep"]] // a value equal to a command name is still a value
  ] as const)("accepts %j", (args) => {
    expect(Either.isRight(CliArgs.check(grammar, args))).toBe(true)
  })

  it.each([
    [["sweep", "--max-age-days", "5", "--log-level", "info", "d"], ["sweep", "--log-level", "info", "--max-age-days", "5", "d"]],
    [["sweep", "--dry-run", "d", "--help"], ["sweep", "--help", "--dry-run=true", "d"]],
    [["--log-level=info", "sweep", "d", "--json", "-h", "--", "-x"], ["--log-level=info", "sweep", "-h", "d", "--json=true", "--", "-x"]],
    [["sweep", "d", "--", "-x"], ["sweep", "d", "--", "-x"]]
  ] as const)("hands %j to @effect/cli as %j: built-ins first, where it finds them", (args, expected) => {
    expect(CliArgs.check(grammar, args)).toEqual(Either.right(expected))
  })

  it.each([
    // the reported typos: each would have become a directory (or a path in the config)
    [["sweep", "d", "--dryrun"], "sweep", "--dryrun", "unknown", ["--dry-run"]],
    [["sweep", "d", "-n"], "sweep", "-n", "unknown", []],
    [["sweep", "d", "--max-age", "30"], "sweep", "--max-age", "unknown", ["--max-age-days"]],
    [["watch", "d", "--interval", "60"], "watch", "--interval", "unknown", ["--interval-seconds"]],
    [["logrotate-config", "d", "--compress-age", "1"], "logrotate-config", "--compress-age", "unknown", ["--compress-age-days"]],
    // the same mistake on every command
    [["append", "f", "--maxbytes", "1"], "append", "--maxbytes", "unknown", ["--max-bytes"]],
    [["append", "f", "--max", "1"], "append", "--max", "unknown", ["--max-bytes", "--max-files"]],
    [["sweep", "d", "--interval-seconds", "5"], "sweep", "--interval-seconds", "unknown", []],
    [["sweep", "d", "--dry-run=", "x"], "sweep", "--dry-run", "empty-value", []],
    [["sweep", "d", "--max-age=30"], "sweep", "--max-age=30", "unknown", ["--max-age-days"]],
    // @effect/cli matches these case-insensitively but then reads no value: a real sweep
    [["sweep", "d", "--DRY-RUN"], "sweep", "--DRY-RUN", "unknown", ["--dry-run"]],
    [["sweep", "d", "-dry-run"], "sweep", "-dry-run", "unknown", ["--dry-run"]],
    [["sweep", "d", "-x", "--", "-y"], "sweep", "-x", "unknown", []],
    [["sweep", "d", "-"], "sweep", "-", "unknown", []],
    [["--dry-run", "sweep", "d"], undefined, "--dry-run", "unknown", []],
    // left over by @effect/cli, so taken as directories
    [["sweep", "d", "--max-age-days", "3", "--max-age-days", "5"], "sweep", "--max-age-days", "repeated", []],
    [["sweep", "d", "--max-age-days=3", "--max-age-days", "5"], "sweep", "--max-age-days", "repeated", []],
    [["sweep", "--dry-run", "--dry-run", "d"], "sweep", "--dry-run", "repeated", []],
    [["sweep", "d", "--max-age-days"], "sweep", "--max-age-days", "missing-value", []],
    [["sweep", "d", "--max-age-days", "--", "4"], "sweep", "--max-age-days", "missing-value", []],
    [["sweep", "d", "--max-age-days", "--json"], "sweep", "--max-age-days", "missing-value", []],
    [["sweep", "d", "--log-level"], "sweep", "--log-level", "missing-value", []],
    [["sweep", "d", "--max-age-days="], "sweep", "--max-age-days", "empty-value", []],
    [["sweep", "d", "--dry-run=maybe"], "sweep", "--dry-run=maybe", "not-boolean", []],
    [["sweep", "d", "--log-level", "debg"], "sweep", "--log-level", "not-a-choice", []],
    [["sweep", "d", "--log-level=debg"], "sweep", "--log-level", "not-a-choice", []],
    // @effect/cli still reads its built-ins after "--" (the directory would be lost or help shown)
    [["sweep", "d", "--", "--log-level=warning"], "sweep", "--log-level=warning", "built-in-after-dashes", []],
    [["sweep", "d", "--", "-x", "-H"], "sweep", "-H", "built-in-after-dashes", []],
    // @effect/cli does not know `--help=…` and stops reading options there: the dry run became a real sweep
    [["sweep", "d", "--dry-run", "--help=false"], "sweep", "--help=false", "built-in-with-value", []],
    [["sweep", "d", "--dry-run", "--help=no"], "sweep", "--help=no", "built-in-with-value", []],
    [["sweep", "--dry-run", "d", "--version=0"], "sweep", "--version=0", "built-in-with-value", []],
    [["sweep", "d", "--wizard=false", "--dry-run"], "sweep", "--wizard=false", "built-in-with-value", []],
    [["watch", "d", "--help=true"], "watch", "--help=true", "built-in-with-value", []],
    [["logrotate-config", "d", "--version=false"], "logrotate-config", "--version=false", "built-in-with-value", []],
    [["--version=false", "sweep", "d"], undefined, "--version=false", "built-in-with-value", []],
    // a boolean flag silently takes a following 0/1/yes/no… as its value
    [["sweep", "d", "--dry-run", "0"], "sweep", "--dry-run", "ambiguous-boolean", []],
    [["sweep", "--json", "yes", "d"], "sweep", "--json", "ambiguous-boolean", []]
  ] as const)("rejects %j: %s %s is %s", (args, cmd, argument, problem, suggestions) => {
    expect(problemOf(args)).toEqual({ command: cmd, argument, problem, suggestions })
  })

  it("the message names the argument, suggests the closest option, lists the accepted ones and the -- rule", () => {
    const error = Either.getLeft(CliArgs.check(grammar, ["sweep", "d", "--dryrun"])).pipe((o) => o._tag === "Some" ? o.value : undefined)
    expect(error?._tag).toBe("ArgvError")
    const [first, options, builtIns, dashes] = error?.message.split("\n") ?? []
    expect(first).toBe('sweep: unknown option "--dryrun" (did you mean --dry-run?)')
    expect(options).toMatch(/^  options of sweep: --max-age-days DAYS, --compress-age-days DAYS, --dry-run, --json, /)
    expect(builtIns).toMatch(/^  built-in options: .*--log-level \{all\|trace\|debug\|info\|warning\|error\|fatal\|none\}, -h\/--help/)
    expect(dashes).toBe('  a <dir> whose name starts with "-" goes after "--": effect-logrotate sweep [options] -- <dir>...')
  })

  it("a built-in that takes no value, given one, is named with the accepted form", () => {
    const error = Either.getLeft(CliArgs.check(grammar, ["sweep", "d", "--dry-run", "--help=false"])).pipe(Option.getOrThrow)
    expect(error.message.split("\n")[0]).toBe('sweep: option "--help=false": --help takes no value; write it alone, or leave it out')
  })

  it.each([
    ["--dryrun", "--dry-run", 1], ["--max-age-days", "--max-age-days", 0], ["", "abc", 3], ["abc", "", 3], ["kitten", "sitting", 3]
  ] as const)("distance(%j, %j) = %d", (a, b, d) => {
    expect(CliArgs.distance(a, b)).toBe(d)
  })

  // The check is only sound if what it accepts, @effect/cli parses as the check reads it: every
  // "-" argument an option (with its value), everything else, and everything after "--", a <dir>;
  // a built-in that answers instead of running (--help, --version, --completions) runs no sweep.
  // The probe is the real `sweep`, every option of it, with a handler that records what it was given.
  const sweepDescriptor = Option.getOrThrow(HashMap.get(Command.getSubcommands(command), "sweep")) as Descriptor.Command<{
    readonly name: string
    readonly options: ReadonlyArray<unknown>
    readonly args: ReadonlyArray<ReadonlyArray<string>>
  }>
  let seen: unknown
  const probe = Command.fromDescriptor(sweepDescriptor, (a) => Effect.sync(() => {
    seen = { dirs: a.args[0], options: a.options.map((o) => Option.isOption(o) ? Option.getOrUndefined(o) : o) }
  }))
  const probeRoot = Command.make("prog").pipe(Command.withSubcommands([probe]))
  const probeGrammar = CliArgs.grammarOf(probeRoot)
  const sweepFlags = probeGrammar.commands.get("sweep")!.flags
  const runProbe = Command.run(probeRoot, { name: "prog", version: "0" })
  const silent = (base: Console.Console): Console.Console => ({
    ...base, log: () => Effect.void, info: () => Effect.void, error: () => Effect.void, warn: () => Effect.void
  })
  const parse = (args: ReadonlyArray<string>) =>
    Effect.gen(function* () {
      seen = undefined
      yield* Console.consoleWith((base) => Effect.withConsole(runProbe(["node", "prog", "sweep", ...args]), silent(base))).pipe(
        Effect.provide(NodeContext.layer))
      return seen
    })
  /** As the CLI's dispatch: help and `--version` are answered before @effect/cli sees the line (no sweep runs). */
  const dispatch = (args: ReadonlyArray<string>) =>
    CliArgs.helpRequest(probeGrammar, ["sweep", ...args]) !== undefined || CliArgs.versionRequest(["sweep", ...args])
      ? Effect.succeed(undefined)
      : parse(args)
  const TRUE = ["true", "1", "y", "yes", "on"]
  /** How the check reads an accepted command line: the sweep's options in order and its <dir>s, or undefined if no sweep runs. */
  const model = (args: ReadonlyArray<string>) => {
    const read = { dirs: [] as Array<string>, options: sweepFlags.map((f): unknown => f.value === undefined ? false : undefined) }
    let answered = false
    for (let i = 0; i < args.length; i++) {
      const arg = args[i]!
      if (arg === "--") {
        read.dirs.push(...args.slice(i + 1))
        break
      }
      if (!arg.startsWith("-")) {
        read.dirs.push(arg)
        continue
      }
      const [name, inline] = arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined]
      const own = sweepFlags.findIndex((f) => f.names.includes(name))
      if (own >= 0) {
        read.options[own] = sweepFlags[own]!.value === undefined ? inline === undefined || TRUE.includes(inline) : inline ?? args[++i]!
        continue
      }
      const builtIn = probeGrammar.builtIns.find((f) => f.names.includes(name))!
      if (builtIn.value !== undefined && inline === undefined) i++
      if (name !== "--log-level") answered = true
    }
    return answered ? undefined : read
  }
  // Raw tokens (mostly rejected) and well-formed pieces (mostly accepted), so both sides are exercised.
  // (No bare --wizard: it would prompt on stdin.)
  const token = fc.constantFrom("d1", "d2", "sweep", "0", "yes", "5", "-1", "P", "a:b", "--", "-x", "--dry-run", "--dry-run=false",
    "--dry-run=1", "--json", "--quiet", "--quiet=no", "--dryrun", "--max-age-days", "--max-age-days=7", "--compress-age-days",
    "--compress-age-days=3", "--su", "--su=a:b", "--env-prefix", "--env-prefix=Q", "--log-level", "info", "debg",
    "--log-level=warning", "--max-age-days=", "-", "--dry-run=no", "--help=false", "--help=true", "--version=0", "--wizard=no",
    "--log-level=info", "--completions=bash", "--completions", "bash", "--help", "-h", "--version")
  const piece = fc.constantFrom(["d1"], ["d2"], ["0"], ["--dry-run"], ["--json"], ["--quiet"], ["--dry-run=no"], ["--max-age-days", "5"],
    ["--max-age-days", "-1"], ["--max-age-days=7"], ["--compress-age-days", "2"], ["--su", "a:b"], ["--su=0:0"], ["--env-prefix", "P"],
    ["--log-level", "info"], ["--log-level=warning"], ["--completions", "bash"], ["--help=false"], ["--version=0"], ["--wizard=no"],
    ["--", "-x"], ["--", "0", "--json"])
  const commandLine = fc.array(fc.oneof(token.map((t) => [t]), piece), { maxLength: 6 }).map((parts) => parts.flat())

  it("the probe is the real sweep command: the same options and built-ins", () => {
    expect(probeGrammar.commands.get("sweep")).toEqual(grammar.commands.get("sweep"))
    expect(probeGrammar.builtIns).toEqual(grammar.builtIns)
    expect(sweepFlags.map((f) => f.names[0])).toEqual(
      ["--max-age-days", "--compress-age-days", "--dry-run", "--json", "--quiet", "--max-total-size", "--config", "--su", "--naming", "--env-prefix"])
  })

  it.effect("a boolean option followed by a built-in and a boolean-looking <dir> stays a flag: the <dir> is not its value", () =>
    Effect.gen(function* () {
      // Found by the property below (seed 119026659): the built-in moved away left `--json 0`.
      for (const args of [["--json", "--log-level=warning", "0"], ["--dry-run", "--log-level", "info", "no"]]) {
        const checked = CliArgs.check(probeGrammar, ["sweep", ...args])
        if (Either.isLeft(checked)) return expect.fail(`rejected ${args.join(" ")}: ${checked.left.message}`)
        expect(yield* parse(checked.right.slice(1))).toEqual(model(args))
      }
    }))

  it.effect("a bare built-in moved in front of a <dir> spelled like a boolean: --version is answered by the CLI, --wizard refused", () =>
    Effect.gen(function* () {
      // Found by the property below (seed 1571616457): `sweep 0 --version` reached @effect/cli as
      // `sweep --version 0`, a sweep of `--version` and `0`.
      const version = CliArgs.check(probeGrammar, ["sweep", "0", "--version"])
      expect(version).toEqual(Either.right(["sweep", "--version", "0"]))
      expect(CliArgs.versionRequest(["sweep", "0", "--version"])).toBe(true)
      expect(CliArgs.versionRequest(["sweep", "--", "--version"])).toBe(false)
      const wizard = CliArgs.check(probeGrammar, ["sweep", "no", "--wizard"])
      expect(Either.isLeft(wizard) && [wizard.left.problem, wizard.left.argument, wizard.left.next])
        .toEqual(["built-in-before-boolean", "--wizard", "no"])
      expect(CliArgs.check(probeGrammar, ["sweep", "d", "--wizard"])).toEqual(Either.right(["sweep", "--wizard", "d"]))
    }))

  it("the generated command lines exercise both sides: some accepted, some rejected", () => {
    const sample = fc.sample(commandLine, { numRuns: 400, seed: 42 })
    const accepted = sample.filter((args) => Either.isRight(CliArgs.check(probeGrammar, ["sweep", ...args]))).length
    expect(accepted).toBeGreaterThanOrEqual(80)
    expect(sample.length - accepted).toBeGreaterThanOrEqual(80)
  })

  it.effect.prop("@effect/cli parses every accepted command line as the check reads it", [commandLine],
    ([args]) => Effect.gen(function* () {
      const checked = CliArgs.check(probeGrammar, ["sweep", ...args])
      if (Either.isLeft(checked)) return
      expect(yield* dispatch(checked.right.slice(1))).toEqual(model(args))
    }), { timeout: 120_000, fastCheck: { numRuns: 200 } })

  it.each([
    [["frobnicate"], "frobnicate", []],
    [["swep", "d"], "swep", ["sweep"]],
    [["--log-level", "info", "wach", "d"], "wach", ["watch"]],
    [["log", "d"], "log", ["logrotate-config"]],
    [["/var/log", "sweep"], "/var/log", []]
  ] as const)("%j: an argument before any command that is no command's name is an unknown command", (args, argument, suggestions) => {
    expect(problemOf(args)).toEqual({ command: undefined, argument, problem: "unknown-command", suggestions })
    const error = Either.getLeft(CliArgs.check(grammar, args)).pipe(Option.getOrThrow)
    expect(error.message.split("\n")[0]).toBe(`unknown command ${JSON.stringify(argument)}${suggestions.length ? ` (did you mean ${suggestions.join(" or ")}?)` : ""}`)
    expect(error.message).toContain("commands: append, sweep, watch, logrotate-config (each has --help)")
  })

  it.each([
    [[], { command: undefined }],
    [["--help"], { command: undefined }],
    [["-h", "sweep"], { command: undefined }],
    [["sweep", "d", "--help"], { command: "sweep" }],
    [["watch", "-h"], { command: "watch" }],
    [["sweep", "--help=true"], { command: "sweep" }],
    [["sweep", "--help=false", "d"], undefined],
    [["sweep", "d"], undefined],
    [["--version"], undefined],
    [["sweep", "--", "d"], undefined]
  ] as const)("helpRequest(%j) is %j", (args, expected) => {
    expect(CliArgs.helpRequest(grammar, args)).toEqual(expected)
  })
})
