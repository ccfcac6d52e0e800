/**
 * `npm run test:campaigns` — issue 9's crash and race proof with real processes (`dist/bin.js`),
 * kept out of `npm test` because it takes minutes. `.ci/run` runs it after `npm test`.
 *
 *   npm run test:campaigns -- [--seed N] [--only sweep-kills,append-kills,sweep-races,append-races]
 *                             [--case I] [--sweep-kills 50] [--append-kills 20] [--sweep-races 3]
 *                             [--append-races 3] [--concurrency 2] [--keep]
 *
 * - sweep-kills: sweeps SIGKILLed at random moments, each followed by a recovery sweep (sweepKills.ts);
 * - append-kills: appends SIGKILLed at random moments, each followed by a completed append (appendKills.ts);
 * - sweep-races, append-races: two processes at once on one directory / one file (races.ts).
 * Each campaign first checks its harness: undisturbed runs pass every invariant, and the checker
 * notices planted corruption. Kill campaigns run until they have the required number of kills that
 * hit a running process. Every case has its own seed derived from the run's seed (printed first;
 * random unless `--seed` or `CAMPAIGN_SEED`); a failure prints it with the kill moment and the
 * command that reruns that one case (`--case`; kill moments are seeded, the machine's speed is not).
 * Output: one line per case, one summary line per campaign, then `N passed, M failed` as the
 * last line (also when the harness itself throws, which counts as one failure); exit 1 if
 * anything failed. `--keep` keeps the directories of failed cases.
 */
import { randomInt } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as Path from "node:path"
import { parseArgs } from "node:util"
import * as AppendKills from "./appendKills.js"
import * as Races from "./races.js"
import type { CaseResult, Context } from "./report.js"
import { BIN, caseSeed, pool, prng } from "./support.js"
import * as SweepKills from "./sweepKills.js"

const CAMPAIGNS = ["sweep-kills", "append-kills", "sweep-races", "append-races"] as const
type Campaign = (typeof CAMPAIGNS)[number]

const { values } = parseArgs({
  options: {
    seed: { type: "string" },
    only: { type: "string" },
    case: { type: "string" },
    "sweep-kills": { type: "string", default: "50" },
    "append-kills": { type: "string", default: "20" },
    "sweep-races": { type: "string", default: "3" },
    "append-races": { type: "string", default: "3" },
    concurrency: { type: "string", default: "2" },
    keep: { type: "boolean", default: false }
  },
  strict: true
})

const integer = (name: string, raw: string | undefined, min: number): number => {
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min) {
    console.error(`campaigns: --${name} must be a whole number >= ${min}, got ${JSON.stringify(raw)}`)
    process.exit(2)
  }
  return n
}

const master = integer("seed", values.seed ?? process.env["CAMPAIGN_SEED"] ?? String(randomInt(1, 2 ** 31)), 0)
const selected: ReadonlyArray<Campaign> = values.only === undefined ? CAMPAIGNS : values.only.split(",").map((c) => {
  if (!(CAMPAIGNS as ReadonlyArray<string>).includes(c)) {
    console.error(`campaigns: unknown campaign ${JSON.stringify(c)} in --only; accepted: ${CAMPAIGNS.join(", ")}`)
    process.exit(2)
  }
  return c as Campaign
})
const only = values.case === undefined ? undefined : integer("case", values.case, 0)
const counts: Record<Campaign, number> = {
  "sweep-kills": integer("sweep-kills", values["sweep-kills"], 1),
  "append-kills": integer("append-kills", values["append-kills"], 1),
  "sweep-races": integer("sweep-races", values["sweep-races"], 1),
  "append-races": integer("append-races", values["append-races"], 1)
}

if (!fs.existsSync(BIN)) {
  console.error(`campaigns: ${BIN} is missing; run \`npm run build\` first`)
  process.exit(2)
}

const root = fs.mkdtempSync(Path.join(os.tmpdir(), "effect-logrotate-campaign-"))
const ctx: Context = {
  master,
  root,
  keep: values.keep,
  concurrency: integer("concurrency", values.concurrency, 1),
  log: (line) => console.log(line),
  ...(only === undefined ? {} : { only })
}

const all: Array<CaseResult> = []
const rerun = (campaign: Campaign, index?: number) =>
  `npm run test:campaigns -- --seed ${master} --only ${campaign}${index === undefined ? "" : ` --case ${index}`}`

const print = (campaign: Campaign, r: CaseResult, index?: number) => {
  all.push(r)
  if (r.violations.length === 0) return console.log(`  ok   ${r.name}: ${r.detail}`)
  console.log(`  FAIL ${r.name} (seed ${master}, case seed ${r.seed}): ${r.detail}`)
  for (const v of r.violations) console.log(`    - ${v}`)
  console.log(`    rerun: ${rerun(campaign, index)}`)
}

/** The indices to run: all of `count`, or the one `--case`. */
const indices = (count: number) => (only === undefined ? Array.from({ length: count }, (_, i) => i) : [only])

/** Runs kill cases until `target` of them hit a running process (at most twice `target` cases). */
const killCampaign = async (campaign: Campaign, target: number, run: (index: number) => Promise<CaseResult>, noun: string) => {
  const results: Array<CaseResult> = []
  const runBatch = async (list: ReadonlyArray<number>) => {
    const batch = await pool(list.length, ctx.concurrency, (k) => run(list[k]!))
    batch.forEach((r, k) => print(campaign, r, list[k]))
    results.push(...batch)
  }
  await runBatch(indices(target))
  if (only === undefined) {
    let next = target
    while (results.filter((r) => r.landed).length < target && next < 2 * target) {
      const missing = target - results.filter((r) => r.landed).length
      const list = Array.from({ length: Math.min(missing, 2 * target - next) }, (_, i) => next + i)
      next += list.length
      await runBatch(list)
    }
  }
  const landed = results.filter((r) => r.landed).length
  const required = only === undefined ? target : 1
  if (landed < required) {
    print(campaign, {
      name: `${campaign}: enough kills`, seed: master, detail: `${results.length} runs`,
      violations: [`only ${landed} of ${results.length} runs were killed while running (${required} required): the kill window is miscalibrated`]
    })
  }
  const leftCounts = new Map<string, number>()
  for (const r of results) if (r.landed) for (const l of r.left ?? []) leftCounts.set(l, (leftCounts.get(l) ?? 0) + 1)
  const violations = results.reduce((n, r) => n + r.violations.length, 0)
  const failedRuns = results.filter((r) => r.violations.length > 0).length
  const leftText = [...leftCounts].map(([k, n]) => `${k} ${n}`).join(", ")
  const noteCounts = new Map<string, number>()
  for (const r of results) if (r.landed) for (const n of r.notes ?? []) noteCounts.set(n, (noteCounts.get(n) ?? 0) + 1)
  const noteText = [...noteCounts].map(([k, n]) => `; ${n} ${k}`).join("")
  console.log(`campaign: ${landed} ${noun} kills, ${violations} violations` +
    ` (${results.length} runs, ${failedRuns} failed; kills that left ${leftText || "nothing"}${noteText})`)
}

const raceCampaign = async (campaign: Campaign, count: number, run: (index: number) => Promise<CaseResult>, noun: string, concurrency: number) => {
  const list = indices(count)
  const results = await pool(list.length, concurrency, (k) => run(list[k]!))
  results.forEach((r, k) => print(campaign, r, list[k]))
  const violations = results.reduce((n, r) => n + r.violations.length, 0)
  console.log(`campaign: ${results.length} ${noun} races, ${violations} violations (${results.filter((r) => r.violations.length > 0).length} failed)`)
}

const main = async () => {
  const started = performance.now()
  console.log(`campaigns: seed ${master} (rerun all: npm run test:campaigns -- --seed ${master}); ${selected.join(", ")}; dirs under ${root}`)
  for (const campaign of selected) {
    const t0 = performance.now()
    console.log(`${campaign}:`)
    if (campaign === "sweep-kills") {
      const corpus = SweepKills.makeCorpus(prng(caseSeed(master, "sweep-corpus", 0)))
      console.log(`  corpus: ${corpus.managed.length} managed daily files, ${(corpus.totalBytes / 1024 / 1024).toFixed(1)} MiB per run`)
      const { results, calibration } = await SweepKills.calibrate(ctx, corpus)
      for (const r of results) print(campaign, r)
      await killCampaign(campaign, counts[campaign], (i) => SweepKills.killCase(ctx, corpus, calibration, i), "sweep")
    } else if (campaign === "append-kills") {
      const { results, calibration } = await AppendKills.calibrate(ctx)
      for (const r of results) print(campaign, r)
      await killCampaign(campaign, counts[campaign], (i) => AppendKills.killCase(ctx, calibration, i), "append")
    } else if (campaign === "sweep-races") {
      print(campaign, Races.lockReportCheck(ctx))
      print(campaign, await Races.sweepRace(ctx, 0, true))
      // One race at a time: each is two sweeps of a large file, already two processes.
      await raceCampaign(campaign, counts[campaign], (i) => Races.sweepRace(ctx, i), "sweep", 1)
    } else {
      await raceCampaign(campaign, counts[campaign], (i) => Races.appendRace(ctx, i), "append", ctx.concurrency)
    }
    console.log(`  (${campaign} took ${((performance.now() - t0) / 1000).toFixed(1)} s)`)
  }
  const failed = all.filter((r) => r.violations.length > 0).length
  if (!(ctx.keep && failed > 0)) fs.rmSync(root, { recursive: true, force: true })
  console.log(`campaigns took ${((performance.now() - started) / 1000).toFixed(1)} s; seed ${master}`)
  console.log(`${all.length - failed} passed, ${failed} failed`)
  process.exitCode = failed > 0 ? 1 : 0
}

main().catch((error: unknown) => {
  console.error("campaigns: the harness itself failed:", error)
  // The last line stays the summary; the harness's own failure counts as one.
  const failed = all.filter((r) => r.violations.length > 0).length + 1
  console.log(`${all.length + 1 - failed} passed, ${failed} failed`)
  process.exitCode = 1
})
