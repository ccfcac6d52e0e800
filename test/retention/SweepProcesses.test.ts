/**
 * Issue 9, defect 2, with real processes: two `effect-logrotate sweep` processes on one
 * directory (spawned from dist/: `npm run build` first).
 */
import { spawn } from "node:child_process"
import { createHash } from "node:crypto"
import * as nfs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { pipeline } from "node:stream/promises"
import * as zlib from "node:zlib"
import { afterEach, expect, it } from "vitest"
import { dated, ndjson } from "../support/retention.js"

const bin = path.resolve(import.meta.dirname, "../../dist/bin.js")
const dirs: Array<string> = []
afterEach(() => {
  for (const dir of dirs.splice(0)) nfs.rmSync(dir, { recursive: true, force: true })
})

const sweep = (dir: string) => {
  const child = spawn(process.execPath, [bin, "sweep", dir, "--max-age-days", "30", "--compress-age-days", "7"])
  let out = ""
  child.stdout.on("data", (d) => void (out += d))
  child.stderr.on("data", (d) => void (out += d))
  const exit = new Promise<{ code: number | null; out: string }>((resolve) => child.on("exit", (code) => resolve({ code, out })))
  return { child, exit }
}

it("two sweep processes on one directory: the second is refused (locked by the first's pid), the first compresses the file whole", async () => {
  const dir = nfs.mkdtempSync(path.join(os.tmpdir(), "sweep-two-"))
  dirs.push(dir)
  const name = dated("big", new Date(), 8)
  // 120 MiB (the issue saw the loss with 140 MiB): A compresses for seconds, B starts in well under one.
  const hash = createHash("sha256")
  const fd = nfs.openSync(path.join(dir, name), "w")
  for (let i = 0; i < 120; i++) {
    const chunk = ndjson(1024 * 1024, i + 1)
    hash.update(chunk)
    nfs.writeSync(fd, chunk)
  }
  nfs.closeSync(fd)
  const digest = hash.digest("hex")
  const a = sweep(dir)
  // Wait (no timing asserted) until A is mid-compression: its .gz.tmp exists.
  let aDone = false
  void a.exit.then(() => void (aDone = true))
  while (!nfs.existsSync(path.join(dir, `${name}.gz.tmp`)) && !aDone) await new Promise((r) => setTimeout(r, 2))
  expect(aDone).toBe(false) // A really was mid-way when B started
  const b = await sweep(dir).exit
  const first = await a.exit
  expect(b.code).toBe(1)
  expect(b.out).toContain(`locked by pid ${a.child.pid}`)
  expect(first.code).toBe(0)
  expect(nfs.readdirSync(dir)).toEqual([`${name}.gz`])
  const gunzipped = createHash("sha256")
  await pipeline(nfs.createReadStream(path.join(dir, `${name}.gz`)), zlib.createGunzip(), async function* (source) {
    for await (const chunk of source) gunzipped.update(chunk as Buffer)
  })
  expect(gunzipped.digest("hex")).toBe(digest)
}, 120_000)
