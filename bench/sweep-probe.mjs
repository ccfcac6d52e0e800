/**
 * Preloaded into the CLI contender of bench/sweep.ts (`node --import ./bench/sweep-probe.mjs
 * dist/bin.js sweep ...`): when the process exits, writes its peak RSS (VmHWM) and the CPU time of
 * its main thread and of its other threads (libuv's thread pool: zlib, fsync, unlink; V8's GC and
 * compiler helpers) as JSON to the file named by SWEEP_PROBE_OUT. Linux only (reads /proc); it
 * loads no other module than node:fs, so it adds nothing measurable to the CLI it watches.
 */
import * as fs from "node:fs"

const out = process.env.SWEEP_PROBE_OUT
if (out) {
  process.on("exit", () => {
    const threadCpuMs = { main: 0, other: 0 }
    let peakRssKiB = 0
    try {
      peakRssKiB = Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync("/proc/self/status", "utf8"))?.[1] ?? 0)
      for (const tid of fs.readdirSync("/proc/self/task")) {
        const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, "utf8")
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
        const ms = (Number(fields[11]) + Number(fields[12])) * 10 // utime + stime, USER_HZ 100
        if (tid === String(process.pid)) threadCpuMs.main += ms
        else threadCpuMs.other += ms
      }
    } catch {
      // no /proc
    }
    fs.writeFileSync(out, JSON.stringify({ peakRssKiB, threadCpuMs }))
  })
}
