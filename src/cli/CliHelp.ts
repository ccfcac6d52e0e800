/**
 * The `--help` of `effect-logrotate` and of each command, built from the command definitions
 * (`@effect/cli`'s own help documents) with three changes:
 *
 * - the usage line names the program: `$ effect-logrotate sweep [--max-age-days DAYS] … <dir>...`
 *   (`@effect/cli` prints `$ sweep …`);
 * - each option and argument shows its own description only: the parser's boilerplate ("A
 *   user-defined piece of text.", "A true or false value.", "This setting is optional.", …) is
 *   dropped;
 * - the program's help lists the commands one per line with their descriptions.
 *
 * Rendering (`HelpDoc.toAnsiText`'s bytes, written by `internal/HelpText`) uses ANSI styles; the
 * CLI's console removes them when the output is not a terminal or `NO_COLOR` is set (see
 * `Cli.plainConsole`).
 */
import * as CliConfig from "@effect/cli/CliConfig"
import * as Command from "@effect/cli/Command"
import * as Descriptor from "@effect/cli/CommandDescriptor"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Span from "@effect/cli/HelpDoc/Span"
import * as Usage from "@effect/cli/Usage"
import * as Arr from "effect/Array"
import * as HashMap from "effect/HashMap"
import * as Option from "effect/Option"
import * as HelpText from "./HelpText.js"

/** A span's text, without styles. */
export const spanText = HelpText.spanText

/** Paragraphs the parser adds to every option of a kind: they say nothing about this option. */
export const isBoilerplate = (text: string): boolean =>
  text === "A user-defined piece of text." ||
  text === "A true or false value." ||
  text.startsWith("One of the following: ") ||
  text.startsWith("This setting is optional.") ||
  text.startsWith("This argument may be repeated") ||
  text.startsWith("This option may be repeated")

/** The document without boilerplate paragraphs. */
export const withoutBoilerplate = (doc: HelpDoc.HelpDoc): HelpDoc.HelpDoc => {
  switch (doc._tag) {
    case "Paragraph":
      return isBoilerplate(spanText(doc.value)) ? HelpDoc.empty : doc
    case "Sequence":
      return HelpDoc.sequence(withoutBoilerplate(doc.left), withoutBoilerplate(doc.right))
    case "DescriptionList":
      return HelpDoc.descriptionList(Arr.map(doc.definitions, ([span, block]) => [span, withoutBoilerplate(block)] as [Span.Span, HelpDoc.HelpDoc]))
    case "Enumeration":
      return HelpDoc.enumeration(Arr.map(doc.elements, withoutBoilerplate))
    case "Empty":
    case "Header":
      return doc
  }
}

const config = CliConfig.make({})

/** In order (`HelpDoc.blocks` loses some of a longer list). */
const blocks = (docs: ReadonlyArray<HelpDoc.HelpDoc>): HelpDoc.HelpDoc =>
  docs.reduce((acc: HelpDoc.HelpDoc, doc) => HelpDoc.sequence(acc, doc), HelpDoc.empty)

const usageLine = (text: string) => HelpDoc.p(Span.text(`$ ${text}`))

/**
 * The help of the program (`command` undefined) or of one of its commands.
 */
export const helpDoc = <Name extends string, R, E, A>(
  program: Command.Command<Name, R, E, A>,
  info: { readonly name: string; readonly version: string; readonly commands: ReadonlyArray<string> },
  command: string | undefined
): HelpDoc.HelpDoc => {
  const subcommands = Command.getSubcommands(program)
  const header = HelpDoc.p(`${info.name} ${info.version}`)
  const sub = command === undefined ? undefined : Option.getOrUndefined(HashMap.get(subcommands, command))
  if (sub === undefined) {
    const names = [...HashMap.keys(subcommands)].sort((a, b) => info.commands.indexOf(a) - info.commands.indexOf(b))
    const width = Math.max(...names.map((n) => n.length))
    const list = names.map((name) => [name, Option.getOrThrow(HashMap.get(subcommands, name))] as const).map(([name, descriptor]) =>
      HelpDoc.p(`  ${name.padEnd(width)}  ${spanText(HelpDoc.getSpan(firstParagraph(Descriptor.getHelp(descriptor, config))))}`))
    return blocks([
      header,
      HelpDoc.h1("USAGE"),
      usageLine(`${info.name} <command> [options]`),
      usageLine(`${info.name} <command> --help`),
      onlyUpTo("COMMANDS")(withoutBoilerplate(Command.getHelp(program, config))),
      HelpDoc.h1("COMMANDS"),
      ...list
    ])
  }
  const usage = spanText(HelpDoc.getSpan(Usage.getHelp(Descriptor.getUsage(sub))))
  return blocks([
    header,
    HelpDoc.h1("USAGE"),
    usageLine(`${info.name} ${usage}`),
    withoutBoilerplate(Descriptor.getHelp(sub, config))
  ])
}

/** The first paragraph after the DESCRIPTION header: a command's one-line description. */
const firstParagraph = (doc: HelpDoc.HelpDoc): HelpDoc.HelpDoc => {
  const flat = flatten(doc)
  const at = flat.findIndex((d) => d._tag === "Header" && spanText(d.value) === "DESCRIPTION")
  return flat.slice(at + 1).find((d) => d._tag === "Paragraph") ?? HelpDoc.empty
}

const flatten = (doc: HelpDoc.HelpDoc): Array<HelpDoc.HelpDoc> =>
  doc._tag === "Sequence" ? [...flatten(doc.left), ...flatten(doc.right)] : doc._tag === "Empty" ? [] : [doc]

/** The document up to (without) the header named `name`. */
const onlyUpTo = (name: string) => (doc: HelpDoc.HelpDoc): HelpDoc.HelpDoc => {
  const flat = flatten(doc)
  const at = flat.findIndex((d) => d._tag === "Header" && spanText(d.value) === name)
  return blocks(at < 0 ? flat : flat.slice(0, at))
}

/**
 * The help as text, with ANSI styles: `HelpDoc.toAnsiText`'s bytes, written by `internal/HelpText`
 * (a direct renderer; @effect/printer's layout cost `--help` 35 ms of start-up), or by
 * `HelpDoc.toAnsiText` itself for a document `HelpText` does not cover.
 */
export const render = <Name extends string, R, E, A>(
  program: Command.Command<Name, R, E, A>,
  info: { readonly name: string; readonly version: string; readonly commands: ReadonlyArray<string> },
  command: string | undefined
): string => {
  const doc = helpDoc(program, info, command)
  return HelpText.toAnsiText(doc) ?? HelpDoc.toAnsiText(doc)
}
