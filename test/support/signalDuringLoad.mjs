/**
 * Node module-loader hooks (`module.register`) for the CLI's signal tests: the process sends
 * itself `signal` while it resolves its `at`-th module from effect or @effect/* (`append` loads
 * about 2,050 since Sweeper and Compressor import Effect by subpath; 3,000 before), i.e. at a
 * chosen point of its start-up, before the Effect runtime exists. No timers: the moment is
 * defined by the loading itself. Registered by the test with
 * `node --import 'data:text/javascript,…register(thisFile, { data: { at, signal } })' dist/bin.js …`.
 */
let at = 0
let signal = "SIGTERM"
let seen = 0

export async function initialize(data) {
  at = data.at
  signal = data.signal
}

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context)
  if (/\/node_modules\/(effect|@effect\/[^/]+)\//.test(resolved.url) && seen++ === at) process.kill(process.pid, signal)
  return resolved
}
