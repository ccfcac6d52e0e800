/**
 * The "Targets" table of `npm run bench`: one row per target of an issue, with what was measured,
 * the ratio, and met/missed. Reusable: any bench part (writers, logger, sweep, CLI, start-up,
 * package size) builds `Target` rows with `ratioTarget` / `boundTarget` / `checkTarget` and prints
 * them with `printTargets`. A target whose inputs are missing is "n/a", never silently met.
 */

export interface Target {
  /** Short stable id, e.g. "1.appendAll@64-vs-rfs@64". */
  readonly id: string
  /** What is compared, in words, e.g. "appendAll@64 vs rfs@64 joined". */
  readonly description: string
  /** The measured figure: a ratio (number) or a text (a count, "lost 0"); undefined when it could not be measured. */
  readonly measured: number | string | undefined
  /** The target in words, e.g. ">= 1.2x" or "<= 200 MiB". */
  readonly target: string
  /** undefined = not measured (n/a). */
  readonly met: boolean | undefined
  /** The figures behind the ratio, e.g. "512,000 vs 420,000 lines/s". */
  readonly detail?: string
}

const int = (x: number) => Math.round(x).toLocaleString("en-US")

/**
 * `ours / base >= min` (higher is better: throughput), or `ours / base <= max` when `max` is given.
 * Either side undefined gives an n/a row naming what is missing.
 */
export const ratioTarget = (args: {
  readonly id: string
  readonly description: string
  readonly ours: number | undefined
  readonly base: number | undefined
  readonly min?: number
  readonly max?: number
  readonly unit?: string
  readonly missing?: string
}): Target => {
  const { base, ours } = args
  const target = args.max !== undefined ? `<= ${args.max}x` : `>= ${args.min ?? 1}x`
  if (ours === undefined || base === undefined || base <= 0) {
    return { id: args.id, description: args.description, measured: undefined, target, met: undefined, detail: args.missing ?? "no result" }
  }
  const ratio = ours / base
  return {
    id: args.id,
    description: args.description,
    measured: ratio,
    target,
    met: args.max !== undefined ? ratio <= args.max : ratio >= (args.min ?? 1),
    detail: `${int(ours)} vs ${int(base)}${args.unit ? ` ${args.unit}` : ""}`
  }
}

/** An absolute bound: `value <= max` (e.g. peak RSS in MiB). */
export const boundTarget = (args: {
  readonly id: string
  readonly description: string
  readonly value: number | undefined
  readonly max: number
  readonly unit: string
  readonly missing?: string
}): Target =>
  args.value === undefined
    ? { id: args.id, description: args.description, measured: undefined, target: `<= ${args.max} ${args.unit}`, met: undefined, detail: args.missing ?? "no result" }
    : {
      id: args.id,
      description: args.description,
      measured: `${args.value.toFixed(1)} ${args.unit}`,
      target: `<= ${args.max} ${args.unit}`,
      met: args.value <= args.max
    }

/** A yes/no property (e.g. "no entry lost"): `ok` undefined = not measured. */
export const checkTarget = (args: {
  readonly id: string
  readonly description: string
  readonly ok: boolean | undefined
  readonly measured: string | undefined
  readonly target: string
}): Target => ({ id: args.id, description: args.description, measured: args.measured, target: args.target, met: args.ok })

const status = (t: Target) => (t.met === undefined ? "n/a" : t.met ? "met" : "MISSED")
const shown = (t: Target) =>
  t.measured === undefined ? "n/a" : typeof t.measured === "number" ? `${t.measured.toFixed(2)}x` : t.measured

/** One line per target: `appendAll@64 vs rfs@64 joined: 1.31x (target >= 1.2x) met   [512,000 vs 390,000 lines/s]`. */
export const formatTarget = (t: Target): string =>
  `${t.description}: ${shown(t)} (target ${t.target}) ${status(t)}${t.detail ? `   [${t.detail}]` : ""}`

/** A markdown table of targets (for the bench output and docs/performance.md). */
export const targetsTable = (targets: ReadonlyArray<Target>): string => {
  const header = ["target", "measured", "goal", "status", "figures"]
  const rows = targets.map((t) => [t.description, shown(t), t.target, status(t), t.detail ?? ""])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: ReadonlyArray<string>) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`
  return [line(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)].join("\n")
}

/** The "## Targets" section: the table, then one summary line per target (greppable). */
export const printTargets = (title: string, targets: ReadonlyArray<Target>): string =>
  [
    `## ${title}`,
    "",
    targetsTable(targets),
    "",
    ...targets.map((t) => `- ${formatTarget(t)}`),
    "",
    `${targets.filter((t) => t.met === true).length} met, ${targets.filter((t) => t.met === false).length} missed, ` +
    `${targets.filter((t) => t.met === undefined).length} n/a`
  ].join("\n")
