/**
 * The pipe sidecar (issue 10, target 3): `cat FILE | X` for X = `effect-logrotate append`, runit's
 * `svlogd`, Apache's `rotatelogs` and a bare Node read/write loop with renames (the floor: no line
 * handling at all), on the same input in one run, rounds interleaved (A B C D, D C B A, …).
 * Needs `npm run build` first (it runs dist/bin.js, as an operator would).
 *
 *   npx tsx bench/cli-pipe.ts [--lines 1000000] [--line-bytes 200] [--rounds 3] [--max-bytes 10485760] [--max-files 5]
 *
 * Wall time is the whole pipeline's (process start included); peak RSS is the writer's alone
 * (GNU `/usr/bin/time -f %M` around it; `cat` is not counted). A peer that is not installed is
 * skipped with a message (Debian: `apt-get install runit apache2-utils`). After every run of ours
 * the files, oldest to newest, concatenated must equal the tail of the input, starting at a line:
 * byte-exact (a mismatch fails the bench). rotatelogs cuts files at a byte count, inside lines;
 * its torn lines are counted, as information.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { parseArgs } from "node:util"
import { lineGenerator } from "./lines.js"

import type { Target } from "./targets.js"
export type { Target }

export interface Measure {
  readonly name: string
  readonly wallS: Array<number>
  readonly rssKiB: Array<number>
  readonly skipped?: string
}

const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

/** Target 3's rows from one run's measures (ratios of medians of the same run). */
export const pipeTargets = (measures: ReadonlyArray<Measure>): Array<Target> => {
  const get = (name: string) => measures.find((m) => m.name === name && m.skipped === undefined && m.wallS.length > 0)
  const ours = get(OURS)
  const svlogd = get(SVLOGD)
  const rotatelogs = get(ROTATELOGS)
  /** Median over rounds of the ratio within each round (paired: both ran back to back), so drift cancels. */
  const paired = (a: Measure, b: Measure) => median(a.wallS.map((x, i) => x / b.wallS[i]!))
  const speed = (peer: Measure | undefined) => ours && peer ? paired(peer, ours) : undefined
  const rows: Array<Target> = []
  const vsSvlogd = speed(svlogd)
  rows.push({
    id: "3-pipe-svlogd",
    description: "`cat lines | effect-logrotate append` vs runit svlogd (wall time)",
    measured: vsSvlogd === undefined ? (svlogd ? "ours failed" : "svlogd not installed") : `${vsSvlogd.toFixed(2)}× faster`,
    target: "≥ 5× faster",
    met: vsSvlogd === undefined ? undefined : vsSvlogd >= 5
  })
  const rss = ours ? Math.max(...ours.rssKiB) / 1024 : undefined
  rows.push({
    id: "3-pipe-rss",
    description: "`effect-logrotate append` peak RSS over the runs",
    measured: rss === undefined ? "n/a" : `${rss.toFixed(0)} MiB`,
    target: "≤ 100 MiB",
    met: rss === undefined ? undefined : rss <= 100
  })
  const vsRotatelogs = ours && rotatelogs ? paired(ours, rotatelogs) : undefined
  rows.push({
    id: "3-pipe-rotatelogs (stretch)",
    description: "wall time of ours / Apache rotatelogs (which tears lines)",
    measured: vsRotatelogs === undefined ? "rotatelogs not installed" : `${vsRotatelogs.toFixed(2)}× its time`,
    target: "≤ 3× its time",
    met: vsRotatelogs === undefined ? undefined : vsRotatelogs <= 3
  })
  return rows
}

const OURS = "effect-logrotate append"
const SVLOGD = "svlogd (default -b 1024)"
const SVLOGD_BIG = "svlogd -b 65536"
const ROTATELOGS = "rotatelogs"
const BARE = "bare Node read/write loop"

/** The floor: stdin chunks written as they come, renames at the size limit; no line handling. */
const BARE_SCRIPT = `
const fs = require("node:fs")
const [file, maxBytes, maxFiles] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])]
let fd = fs.openSync(file, "a"), size = fs.fstatSync(fd).size
process.stdin.on("data", (chunk) => {
  fs.writeSync(fd, chunk)
  size += chunk.length
  if (maxBytes > 0 && size >= maxBytes) {
    fs.closeSync(fd)
    for (let i = maxFiles - 1; i >= 1; i--) try { fs.renameSync(file + "." + i, file + "." + (i + 1)) } catch {}
    if (maxFiles > 0) fs.renameSync(file, file + ".1"); else fs.rmSync(file)
    fd = fs.openSync(file, "a"); size = 0
  }
})
process.stdin.on("end", () => fs.closeSync(fd))
`

const which = (cmd: string) => ["/usr/bin", "/usr/sbin", "/bin", "/sbin", "/usr/local/bin"].map((d) => path.join(d, cmd)).find((p) => fs.existsSync(p))

/** The files of a rotated set `<file>.N … <file>.1, <file>`, concatenated oldest first. */
const concatSet = (file: string) => {
  const dir = path.dirname(file), base = path.basename(file)
  const backups = fs.readdirSync(dir).filter((n) => n.startsWith(base + ".") && /^\d+$/.test(n.slice(base.length + 1)))
    .sort((a, b) => Number(b.slice(base.length + 1)) - Number(a.slice(base.length + 1)))
  return Buffer.concat([...backups.map((n) => fs.readFileSync(path.join(dir, n))), fs.existsSync(file) ? fs.readFileSync(file) : Buffer.alloc(0)])
}

const main = async () => {
  const { values } = parseArgs({
    options: {
      lines: { type: "string", default: "1000000" }, "line-bytes": { type: "string", default: "200" }, rounds: { type: "string", default: "3" },
      "max-bytes": { type: "string", default: String(10 * 1024 * 1024) }, "max-files": { type: "string", default: "5" }
    }
  })
  const lines = Number(values.lines), lineBytes = Number(values["line-bytes"]), rounds = Number(values.rounds)
  const maxBytes = Number(values["max-bytes"]), maxFiles = Number(values["max-files"])
  const bin = path.resolve(import.meta.dirname, "../dist/bin.js")
  if (!fs.existsSync(bin)) throw new Error("run `npm run build` first: dist/bin.js is missing")
  const gnuTime = fs.existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-cli-pipe-"))
  try {
    const input = path.join(dir, "input.ndjson")
    const line = lineGenerator(lineBytes)
    const out = fs.createWriteStream(input)
    for (let i = 0; i < lines; i++) if (!out.write(line(i) + "\n")) await new Promise<void>((r) => out.once("drain", () => r()))
    await new Promise<void>((r) => out.end(() => r()))
    const inputBytes = fs.readFileSync(input)
    fs.writeFileSync(path.join(dir, "bare.cjs"), BARE_SCRIPT)

    const svlogd = which("svlogd"), rotatelogs = which("rotatelogs")
    const q = JSON.stringify
    const contenders: Array<{ name: string; cmd?: string; setup?: () => void; skipped?: string; check?: () => void }> = [
      {
        name: OURS,
        cmd: `${q(process.execPath)} ${q(bin)} append out/app.jsonl --max-bytes ${maxBytes} --max-files ${maxFiles}`,
        check: () => {
          const got = concatSet(path.join(dir, "out", "app.jsonl"))
          const start = inputBytes.length - got.length
          const ok = start >= 0 && (start === 0 || inputBytes[start - 1] === 10) && inputBytes.subarray(start).equals(got)
          if (!ok) throw new Error(`${OURS}: the files concatenated are not a byte-exact tail of the input`)
          if (maxBytes > 0 && got.length < Math.min(inputBytes.length, maxFiles * (maxBytes - lineBytes))) {
            throw new Error(`${OURS}: fewer bytes kept (${got.length}) than ${maxFiles} full backups`)
          }
        }
      },
      svlogd
        ? { name: SVLOGD, cmd: `${q(svlogd)} out`, setup: () => fs.writeFileSync(path.join(dir, "out", "config"), `s${maxBytes}\nn${maxFiles + 1}\n`) }
        : { name: SVLOGD, skipped: "svlogd not installed (Debian: apt-get install runit): skipped" },
      svlogd
        ? { name: SVLOGD_BIG, cmd: `${q(svlogd)} -b 65536 out`, setup: () => fs.writeFileSync(path.join(dir, "out", "config"), `s${maxBytes}\nn${maxFiles + 1}\n`) }
        : { name: SVLOGD_BIG, skipped: "svlogd not installed: skipped" },
      rotatelogs
        ? { name: ROTATELOGS, cmd: `${q(rotatelogs)} -n ${maxFiles + 1} out/app.jsonl ${Math.max(1, Math.round(maxBytes / 1048576))}M` }
        : { name: ROTATELOGS, skipped: "rotatelogs not installed (Debian: apt-get install apache2-utils): skipped" },
      { name: BARE, cmd: `${q(process.execPath)} ${q(path.join(dir, "bare.cjs"))} out/app.jsonl ${maxBytes} ${maxFiles}` }
    ]
    const measures: Array<Measure> = contenders.map((c) => ({ name: c.name, wallS: [], rssKiB: [], ...(c.skipped ? { skipped: c.skipped } : {}) }))
    for (const c of contenders) if (c.skipped) console.error(c.skipped)
    const runnable = contenders.filter((c) => c.cmd !== undefined)
    for (let r = 0; r < rounds; r++) {
      for (const c of r % 2 === 0 ? runnable : [...runnable].reverse()) {
        fs.rmSync(path.join(dir, "out"), { recursive: true, force: true })
        fs.mkdirSync(path.join(dir, "out"))
        c.setup?.()
        const rssFile = path.join(dir, "rss")
        const timed = gnuTime ? `${gnuTime} -o ${q(rssFile)} -f %M ${c.cmd}` : c.cmd!
        const start = performance.now()
        const result = spawnSync("/bin/sh", ["-c", `cat input.ndjson | ${timed}`], { cwd: dir, stdio: ["ignore", "ignore", "inherit"] })
        const wall = (performance.now() - start) / 1000
        if (result.status !== 0) throw new Error(`${c.name} exited ${result.status}`)
        c.check?.()
        const m = measures.find((x) => x.name === c.name)!
        m.wallS.push(wall)
        if (gnuTime) m.rssKiB.push(Number(fs.readFileSync(rssFile, "utf8").trim().split("\n").pop()))
      }
    }

    const mb = inputBytes.length / 1e6
    console.log(`${lines.toLocaleString("en-US")} lines of ${lineBytes} B (${mb.toFixed(0)} MB) through a pipe, rotation at ${maxBytes} B keeping ${maxFiles}, ` +
      `${rounds} interleaved round(s); wall time of \`cat input | X\` (process start included), peak RSS of X alone. ` +
      `Ours verified byte-exact after every run.\n`)
    const ours = measures.find((m) => m.name === OURS)!
    const ratios = (m: Measure) => {
      const r = m.wallS.map((x, i) => x / ours.wallS[i]!)
      return `${median(r).toFixed(2)} (${Math.min(...r).toFixed(2)}–${Math.max(...r).toFixed(2)})`
    }
    console.log("| writer | median s (min–max) | lines/s | MB/s | its time / ours, per round: median (min–max) | peak RSS MiB |\n|---|--:|--:|--:|--:|--:|")
    for (const m of measures) {
      if (m.skipped) {
        console.log(`| ${m.name} | ${m.skipped} | | | | |`)
        continue
      }
      const s = median(m.wallS)
      console.log(`| ${m.name} | ${s.toFixed(2)} (${Math.min(...m.wallS).toFixed(2)}–${Math.max(...m.wallS).toFixed(2)}) | ` +
        `${Math.round(lines / s).toLocaleString("en-US")} | ${(mb / s).toFixed(0)} | ${ratios(m)} | ` +
        `${m.rssKiB.length ? (Math.max(...m.rssKiB) / 1024).toFixed(0) : "n/a"} |`)
    }
    console.log(`\nTargets${lines < 1_000_000 ? ` (defined at 1M lines: with ${lines.toLocaleString("en-US")}, ours' start-up of ~0.3 s weighs more; run with --lines 1000000)` : ""}:\n\n| target | measured | wanted | status |\n|---|--:|--:|---|`)
    for (const t of pipeTargets(measures)) {
      console.log(`| ${t.id}: ${t.description} | ${t.measured} | ${t.target} | ${t.met === undefined ? "n/a" : t.met ? "met" : "MISSED"} |`)
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) await main()
