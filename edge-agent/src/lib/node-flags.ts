/**
 * Node's own flags for the agent's process, given on its command line by whatever starts it (`npm run agent`, the
 * demo store, the benches): `node ${AGENT_NODE_FLAGS} --import tsx edge-agent/src/main.ts run`.
 *
 * `--no-memory-reducer`: V8's memory reducer shrinks the heap when a process seems idle, with up to three full
 * collections each time; a recording agent is idle between segment closes, so it did that every minute or so (about a
 * quarter of the node process's CPU when only recording, docs/benchmarks.md "Agent CPU"). Given on the command line it
 * reaches every isolate from its start (tsx's loader thread too); set at run time (main.ts does, for a start without
 * it) one round per isolate still comes ~30 s after the start. The heap stays about 20 MB either way; ordinary
 * collections still run.
 */
export const AGENT_NODE_FLAGS: readonly string[] = ['--no-memory-reducer'];
