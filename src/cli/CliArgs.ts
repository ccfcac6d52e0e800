/**
 * The command line checked before `@effect/cli` parses it, so that a typo can never become a path.
 *
 * Why: `@effect/cli` 0.77 looks for each option by name among the arguments and hands whatever it
 * did not consume to the command's `Args`. With a repeated `Args` (`<dir>...`) an unknown flag is
 * therefore accepted as a directory: `sweep d --dryrun` swept `d` for real and `--dryrun` as a
 * second directory; `sweep d --max-age 30` swept with the default age and the directories
 * `--max-age` and `30`. The same happens to an option given twice (the second occurrence is left
 * over), to `--flag=` with an empty value, to `--dry-run=maybe`, to `--log-level debg` (both
 * become directories), to a built-in after another option (`sweep --dry-run d --help` swept
 * `--help`), and to `--dry-run 0` (a boolean flag takes a following `true`/`false`/`1`/`0`/`yes`/
 * `no`/`on`/`off`/`y`/`n` as its value, so a directory named `0` turned the dry run off).
 *
 * The rule enforced here, for every command: before the first `--`, every argument that starts
 * with `-` must be one of the command's options or a built-in option of `@effect/cli`
 * (`-h`/`--help`, `--version`, `--log-level`, `--completions`, `--wizard`), at most once, with a
 * value when the option takes one (`--name VALUE` or `--name=VALUE`; a value may not start with
 * `-` unless it is a negative number, which the setting then rejects by name; an option with a
 * fixed set of values, like `--log-level`, takes one of them). A boolean option of the command is
 * written alone or as `--name=true|false`; a built-in that takes no value (`--help`, `--version`,
 * `--wizard`) is written alone only: `@effect/cli` does not recognise `--help=false` and stops
 * reading options there, so `sweep d --dry-run --help=false` was a real sweep. The built-ins that
 * take a value are written `--log-level LEVEL` or `--log-level=LEVEL`, `--completions SHELL` or
 * `--completions=SHELL` (both spellings are parsed by `@effect/cli`). Everything after `--` is a positional argument, so a directory or
 * file whose name starts with `-` is given there, except the spellings of the built-ins, which
 * `@effect/cli` still reads there (such a path is written `./--help`). Anything else is an
 * {@link ArgvError}: the CLI exits 2 before touching anything. What passes is handed on with the
 * built-ins first, where `@effect/cli` finds them.
 *
 * Option names are not kept in a second list: {@link grammarOf} reads them from the `Command`
 * definitions (`Command.getUsage`) and from `@effect/cli`'s own built-in options, so a new option
 * is accepted as soon as it is declared. Names match exactly, not case-insensitively as
 * `@effect/cli`'s default `CliConfig` does: it finds `--DRY-RUN` but then reads no value for
 * `--dry-run`, so `--DRY-RUN` ran a real sweep; here it is rejected with `--dry-run` suggested.
 * {@link check} is a pure function of the grammar and the arguments.
 */
import * as BuiltInOptions from "@effect/cli/BuiltInOptions"
import * as Command from "@effect/cli/Command"
import * as Descriptor from "@effect/cli/CommandDescriptor"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Options from "@effect/cli/Options"
import type * as Usage from "@effect/cli/Usage"
import * as Data from "effect/Data"
import * as Either from "effect/Either"
import * as Option from "effect/Option"

/** One option: its names (`--dry-run`, or `-h` and `--help`) and the value it takes, if any. */
export interface Flag {
  readonly names: ReadonlyArray<string>
  /** The value's placeholder (`DAYS`, `all | trace | …`); `undefined` for a boolean flag. */
  readonly value: string | undefined
}

/** What a command accepts: its own options and its positional arguments' names (`<dir>`). */
export interface CommandGrammar {
  readonly flags: ReadonlyArray<Flag>
  readonly positionals: ReadonlyArray<string>
}

/** The whole command line: the program, its subcommands, and the built-ins every level accepts. */
export interface Grammar {
  readonly program: string
  readonly builtIns: ReadonlyArray<Flag>
  readonly commands: ReadonlyMap<string, CommandGrammar>
}

/** The ways an argument can be wrong. */
export type Problem =
  | "unknown" // starts with `-` and names no option of this command
  | "unknown-command" // before any command: an argument that is not a command's name (`frobnicate`)
  | "repeated" // an option given a second time
  | "missing-value" // an option that takes a value, without one
  | "empty-value" // `--name=`
  | "not-boolean" // `--flag=x` where x is not true/false/1/0/yes/no/on/off/y/n
  | "ambiguous-boolean" // `--flag 0`: the 0 would silently become the flag's value
  | "not-a-choice" // `--log-level debg`: @effect/cli would take both as <dir>s
  | "built-in-after-dashes" // `-- --help`: @effect/cli still reads built-ins after `--`
  | "built-in-with-value" // `--help=false`: @effect/cli does not know it, stops reading options there
  | "built-in-before-boolean" // `sweep 0 --wizard`: moved to the front, `--wizard 0` would read the 0 as its value

/** A command line rejected before parsing; nothing has been read or touched. */
export class ArgvError extends Data.TaggedError("ArgvError")<{
  readonly program: string
  /** The subcommand (`sweep`), or `undefined` for the arguments before it. */
  readonly command: string | undefined
  /** The argument at fault, or for `repeated`/`empty-value` the option's name. */
  readonly argument: string
  readonly problem: Problem
  /** For `missing-value`, `ambiguous-boolean`, `built-in-before-boolean` and `not-a-choice`: the value, or the argument after the option. */
  readonly next: string | undefined
  /** For `not-a-choice`: the accepted values. */
  readonly choices: ReadonlyArray<string>
  /** The closest accepted names, best first (may be empty). */
  readonly suggestions: ReadonlyArray<string>
  /** The command's own options, then the built-ins every command accepts. */
  readonly options: ReadonlyArray<Flag>
  readonly builtIns: ReadonlyArray<Flag>
  /** The command's positional arguments (`<dir>`), or at the top level the subcommands. */
  readonly positionals: ReadonlyArray<string>
  readonly commands: ReadonlyArray<string>
}> {
  override get message(): string {
    const arg = JSON.stringify(this.argument)
    const what = (() => {
      switch (this.problem) {
        case "unknown":
          return `unknown option ${arg}`
        case "unknown-command":
          return `unknown command ${arg}`
        case "repeated":
          return `option ${arg} is given more than once`
        case "missing-value":
          return this.next === undefined
            ? `option ${arg} needs a value`
            : `option ${arg} needs a value, but is followed by ${JSON.stringify(this.next)}`
        case "empty-value":
          return `option ${arg} has an empty value`
        case "not-boolean":
          return `option ${arg}: a flag takes no value, or one of true, false, 1, 0, yes, no, on, off, y, n`
        case "not-a-choice":
          return `option ${arg} takes one of ${this.choices.join(", ")}, not ${JSON.stringify(this.next)}`
        case "built-in-with-value":
          return `option ${arg}: ${this.argument.slice(0, this.argument.indexOf("="))} takes no value; write it alone, or leave it out`
        case "built-in-before-boolean":
          return `option ${arg} and a <dir> named ${JSON.stringify(this.next)}: ${arg} would read it as its value; ` +
            `give ${JSON.stringify(this.next)} after "--" (or as ./${this.next})`
        case "built-in-after-dashes":
          return `${arg} after "--" would still be read as a built-in option; to name a path, write ./${this.argument}`
        case "ambiguous-boolean":
          return `option ${arg} is followed by ${JSON.stringify(this.next)}, which would be read as its value; ` +
            `write ${this.argument}=${this.next} for that, or give ${JSON.stringify(this.next)} after "--"`
      }
    })()
    const hint = this.suggestions.length > 0 ? ` (did you mean ${this.suggestions.join(" or ")}?)` : ""
    const positional = this.positionals[0]
    const full = this.command === undefined ? this.program : `${this.program} ${this.command}`
    return [
      `${this.command === undefined ? "" : `${this.command}: `}${what}${hint}`,
      ...(this.command === undefined
        ? [`  commands: ${this.commands.join(", ")} (each has --help)`]
        : [`  options of ${this.command}: ${this.options.length === 0 ? "none" : this.options.map(formatFlag).join(", ")}`]),
      `  built-in options: ${this.builtIns.map(formatFlag).join(", ")}`,
      ...(positional === undefined ? [] : [
        `  a ${positional} whose name starts with "-" goes after "--": ${full} [options] -- ${positional}...`
      ])
    ].join("\n")
  }
}

/** The values of an option with a fixed set (`--log-level`); `@effect/cli` shows them as `a | b | c`. */
export const choicesOf = (flag: Flag): ReadonlyArray<string> | undefined =>
  flag.value?.includes(" | ") ? flag.value.split(" | ") : undefined

/** `--max-age-days DAYS`, `-h/--help`, `--log-level {all|trace|…}`. */
export const formatFlag = (flag: Flag): string => {
  const names = flag.names.join("/")
  if (flag.value === undefined) return names
  return flag.value.includes(" | ") ? `${names} {${flag.value.split(" | ").join("|")}}` : `${names} ${flag.value}`
}

// ---------------------------------------------------------------------------------------
// The grammar, read from the Command definitions

/** The options (names starting with `-`) and positionals (`<name>`) a usage tree mentions. */
export const fromUsage = (usage: Usage.Usage): CommandGrammar => {
  const flags: Array<Flag> = []
  const positionals: Array<string> = []
  const walk = (u: Usage.Usage): void => {
    switch (u._tag) {
      case "Named": {
        const names = u.names.filter((n) => n.startsWith("-"))
        if (names.length > 0) flags.push({ names, value: Option.getOrUndefined(u.acceptedValues) })
        else positionals.push(...u.names.filter((n) => n.startsWith("<")))
        return
      }
      case "Optional":
      case "Repeated":
        return walk(u.usage)
      case "Alternation":
      case "Concat":
        walk(u.left)
        return walk(u.right)
      case "Empty":
      case "Mixed":
        return
    }
  }
  walk(usage)
  return { flags, positionals }
}

/** The grammar of a program with subcommands, as `@effect/cli` will parse it. */
export const grammarOf = <Name extends string, R, E, A>(command: Command.Command<Name, R, E, A>,
  /** The order to list the subcommands in (e.g. as defined); others follow. */
  order: ReadonlyArray<string> = []): Grammar => {
  const builtIns = fromUsage(Options.getUsage(BuiltInOptions.builtInOptions(command.descriptor, Command.getUsage(command), HelpDoc.empty)))
  const commands = new Map<string, CommandGrammar>()
  const rank = (name: string) => order.includes(name) ? order.indexOf(name) : order.length
  const subs = [...Command.getSubcommands(command)].sort(([a], [b]) => rank(a) - rank(b))
  for (const [name, sub] of subs) commands.set(name, fromUsage(Descriptor.getUsage(sub)))
  return { program: [...Command.getNames(command)][0] ?? "command", builtIns: builtIns.flags, commands }
}

// ---------------------------------------------------------------------------------------
// The check

const TRUE_OR_FALSE = new Set(["true", "1", "y", "yes", "on", "false", "0", "n", "no", "off"])
/** As `@effect/cli`: the literals a boolean flag takes as its value. */
export const isBooleanLiteral = (value: string): boolean => TRUE_OR_FALSE.has(value)

/** A value may not look like an option; negative numbers pass, to be rejected by the setting, by name. */
const looksLikeOption = (arg: string) => arg.startsWith("-") && !/^-\d/.test(arg)

/** Levenshtein distance. */
export const distance = (a: string, b: string): number => {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length]!
}

/**
 * The accepted long names closest to an unknown one: those it abbreviates (`--max-age` for
 * `--max-age-days`), else those within two edits (`--dryrun`, `-dry-run` for `--dry-run`).
 */
export const suggest = (argument: string, flags: ReadonlyArray<Flag>): Array<string> => {
  const name = argument.split("=")[0]!.toLowerCase()
  const candidates = flags.flatMap((f) => f.names).filter((n) => n.startsWith("--"))
  if (name.length >= 4) {
    const extended = candidates.filter((c) => c.startsWith(name))
    if (extended.length > 0) return extended
  }
  const scored = candidates.map((c) => ({ c, d: distance(name, c) })).filter(({ d }) => d <= 2)
  const best = Math.min(...scored.map(({ d }) => d))
  return scored.filter(({ d }) => d === best).map(({ c }) => c)
}

/** The commands closest to an unknown one: those it abbreviates, else those within two edits. */
export const suggestCommand = (argument: string, commands: ReadonlyArray<string>): Array<string> => {
  const name = argument.toLowerCase()
  const extended = name.length >= 2 ? commands.filter((c) => c.startsWith(name)) : []
  if (extended.length > 0) return extended
  const scored = commands.map((c) => ({ c, d: distance(name, c) })).filter(({ d }) => d <= 2)
  const best = Math.min(...scored.map(({ d }) => d))
  return scored.filter(({ d }) => d === best).map(({ c }) => c)
}

/**
 * Whose help a checked command line asks for (`-h`, `--help`, `--help=true`, or nothing at all):
 * `{ command: undefined }` for the program's, `{ command: "sweep" }` for a command's; `undefined`
 * when it asks for none. Built-ins after `--`, and `--help=…` (a built-in given a value), are refused
 * by {@link check} and never reach here; `--help=true` is still read as help for a caller that skips it.
 */
export const helpRequest = (grammar: Grammar, args: ReadonlyArray<string>): { readonly command: string | undefined } | undefined => {
  if (args.length === 0) return { command: undefined }
  const isHelp = (a: string) =>
    a === "-h" || a === "--help" || (a.startsWith("--help=") && ["true", "1", "y", "yes", "on"].includes(a.slice(7)))
  const dashes = args.indexOf("--")
  const at = args.findIndex((arg) => grammar.commands.has(arg))
  const top = at < 0 ? args : args.slice(0, at)
  if (top.some(isHelp)) return { command: undefined }
  if (at < 0) return undefined
  const sub = args.slice(at + 1, dashes > at ? dashes : undefined)
  return sub.some(isHelp) ? { command: args[at]! } : undefined
}

/**
 * Whether a checked command line asks for the version (`--version` anywhere before `--`). The CLI
 * answers it itself, as it does help: once the built-ins are moved to the front, `sweep 0 --version`
 * reaches @effect/cli as `sweep --version 0`, which reads the `0` as the flag's value and sweeps
 * `--version` and `0` as directories.
 */
export const versionRequest = (args: ReadonlyArray<string>): boolean => {
  const dashes = args.indexOf("--")
  return (dashes < 0 ? args : args.slice(0, dashes)).includes("--version")
}

/** A segment's arguments split into built-in options (with their values) and the rest, in order. */
interface Segment {
  readonly builtIns: Array<string>
  readonly rest: Array<string>
}

const checkSegment = (
  grammar: Grammar,
  command: string | undefined,
  args: ReadonlyArray<string>
): Either.Either<Segment, ArgvError> => {
  const own = command === undefined ? { flags: [], positionals: [] } : grammar.commands.get(command)!
  const accepted = [...own.flags, ...grammar.builtIns]
  const fail = (argument: string, problem: Problem, next?: string, choices: ReadonlyArray<string> = []) =>
    Either.left(new ArgvError({
      program: grammar.program, command, argument, problem, next, choices,
      suggestions: problem === "unknown" ? suggest(argument, accepted)
        : problem === "unknown-command" ? suggestCommand(argument, [...grammar.commands.keys()]) : [],
      options: own.flags, builtIns: grammar.builtIns, positionals: own.positionals, commands: [...grammar.commands.keys()]
    }))
  const segment: Segment = { builtIns: [], rest: [] }
  const seen = new Set<Flag>()
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    if (arg === "--") {
      // @effect/cli honours `--` for the command's options but looks for its built-ins in every
      // argument, case-insensitively (`sweep d -- -H` shows the help).
      const builtIn = args.slice(i + 1).find((a) => {
        const name = (a.startsWith("--") && a.includes("=") ? a.slice(0, a.indexOf("=")) : a).toLowerCase()
        return grammar.builtIns.some((f) => f.names.includes(name))
      })
      if (builtIn !== undefined) return fail(builtIn, "built-in-after-dashes")
      segment.rest.push(...args.slice(i))
      break
    }
    if (!arg.startsWith("-")) {
      // Before the command, only built-in options: anything else was meant as a command.
      if (command === undefined) return fail(arg, "unknown-command")
      segment.rest.push(arg)
      continue
    }
    const equals = arg.startsWith("--") ? arg.indexOf("=") : -1
    const name = equals > 0 ? arg.slice(0, equals) : arg
    // Exact: @effect/cli finds `--DRY-RUN` case-insensitively but then reads the value under
    // `--dry-run` and finds nothing, so `--DRY-RUN` would silently be a real sweep.
    const flag = accepted.find((f) => f.names.includes(name))
    if (flag === undefined) return fail(arg, "unknown")
    if (seen.has(flag)) return fail(name, "repeated")
    seen.add(flag)
    const into = grammar.builtIns.includes(flag) ? segment.builtIns : segment.rest
    // A choice outside its set fails @effect/cli's parse of the option, which then leaves the
    // option and its value to the <dir>s.
    const choices = choicesOf(flag)
    if (equals > 0) {
      // `--help=false`, `--version=0`, `--wizard=no`: @effect/cli knows no such option, and where
      // it stands (moved to the front) it stops reading options: `sweep d --dry-run --help=false`
      // was a real sweep of `d`, `--dry-run` and `--help=false`.
      if (into === segment.builtIns && flag.value === undefined) return fail(arg, "built-in-with-value")
      const value = arg.slice(equals + 1)
      if (value === "") return fail(name, "empty-value")
      if (flag.value === undefined && !isBooleanLiteral(value)) return fail(arg, "not-boolean")
      if (choices !== undefined && !choices.includes(value)) return fail(name, "not-a-choice", value, choices)
      into.push(arg)
      continue
    }
    const next = args[i + 1]
    if (flag.value !== undefined) {
      if (next === undefined || next === "--" || looksLikeOption(next)) return fail(arg, "missing-value", next)
      if (choices !== undefined && !choices.includes(next)) return fail(arg, "not-a-choice", next, choices)
      into.push(arg, next)
      i++
    } else if (next !== undefined && isBooleanLiteral(next)) {
      return fail(arg, "ambiguous-boolean", next)
    } else {
      // Spelled `--flag=true`: once the built-ins are moved out, a bare flag could stand right
      // before a positional `0`/`no`, which @effect/cli would read as its value
      // (`sweep d --dry-run --log-level=info 0` was a real sweep).
      into.push(into === segment.rest && arg.startsWith("--") ? `${arg}=true` : arg)
    }
  }
  // The built-ins go to the front (see check): a bare one that would end up right before a <dir>
  // spelled like a boolean would take it as its value. Help and version are answered before
  // @effect/cli sees the line (helpRequest, versionRequest); any other bare built-in is refused.
  const last = segment.builtIns.at(-1)
  const first = segment.rest[0]
  if (last !== undefined && first !== undefined && isBooleanLiteral(first) && !ANSWERED_HERE.has(last)) {
    const flag = grammar.builtIns.find((f) => f.names.includes(last))
    if (flag !== undefined && flag.value === undefined) return fail(last, "built-in-before-boolean", first)
  }
  return Either.right(segment)
}

/** The built-ins the CLI answers itself, before @effect/cli parses anything. */
const ANSWERED_HERE: ReadonlySet<string> = new Set(["-h", "--help", "--version"])

/**
 * Checks a command line (the arguments after `node script`) against a grammar and returns it as
 * `@effect/cli` must see it: the same arguments, with each level's built-in options moved to the
 * front of that level. (`@effect/cli` looks for its built-ins only while the argument in front is
 * not another option: `sweep --max-age-days 5 --log-level info d` swept `--log-level` and `info`
 * as directories; `sweep --dry-run --help` swept `--help`.)
 *
 * The subcommand is the first argument equal to a subcommand's name, as `@effect/cli` splits it;
 * the arguments before it may hold only built-in options.
 */
export const check = (grammar: Grammar, args: ReadonlyArray<string>): Either.Either<ReadonlyArray<string>, ArgvError> => {
  const at = args.findIndex((arg) => grammar.commands.has(arg))
  const joined = (s: Segment) => [...s.builtIns, ...s.rest]
  if (at < 0) return Either.map(checkSegment(grammar, undefined, args), joined)
  return Either.flatMap(checkSegment(grammar, undefined, args.slice(0, at)), (top) =>
    Either.map(checkSegment(grammar, args[at]!, args.slice(at + 1)), (sub) => [...joined(top), args[at]!, ...joined(sub)]))
}
