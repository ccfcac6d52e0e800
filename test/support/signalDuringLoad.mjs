/**
 * Node module-loader hooks (`module.register`) for the CLI's signal tests: the process sends
 * itself `signal` while it resolves the `at`-th module it loads after its entry (`dist/bin.js`),
 * i.e. at a chosen point of its start-up, before the Effect runtime exists. Counted: every module
 * the entry loads, directly or not, Node built-ins included. The bundled CLI (npm run build)
 * resolves its start-up chunks in dist/chunks/ and then their built-ins (9 in all); unbundled
 * (tsc's output alone), it resolves about 3,000 modules of effect and @effect/*. No timers: the
 * moment is defined by the loading itself. Registered by the test with
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
  // The entry itself has no parent; everything after it counts.
  if (context.parentURL !== undefined && seen++ === at) process.kill(process.pid, signal)
  return resolved
}
