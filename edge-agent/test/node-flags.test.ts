/**
 * The agent's node flags (edge-agent/src/lib/node-flags.ts) are on the command line of every way the project starts
 * the agent, and this node accepts them (an unknown V8 flag would stop node at start).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { AGENT_NODE_FLAGS } from '../src/lib/node-flags.ts';

const REPO = new URL('../../', import.meta.url);

test('`npm run agent` starts node with the agent\'s flags', () => {
  const pkg = JSON.parse(readFileSync(new URL('package.json', REPO), 'utf8')) as { scripts: Record<string, string> };
  assert.equal(pkg.scripts.agent, `node ${AGENT_NODE_FLAGS.join(' ')} --import tsx edge-agent/src/main.ts`);
});

test('the demo store and the agent benches start the agent with them', () => {
  for (const f of ['scripts/demo-site.ts', 'bench/cameras.ts', 'bench/agent-probe.ts']) {
    assert.match(readFileSync(new URL(f, REPO), 'utf8'), /\.\.\.AGENT_NODE_FLAGS, /, f);
  }
});

test('node accepts every flag', () => {
  assert.ok(AGENT_NODE_FLAGS.length > 0);
  const r = spawnSync(process.execPath, [...AGENT_NODE_FLAGS, '-e', 'process.stdout.write(JSON.stringify(process.execArgv))'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual((JSON.parse(r.stdout) as string[]).slice(0, AGENT_NODE_FLAGS.length), [...AGENT_NODE_FLAGS]);
  const bad = spawnSync(process.execPath, ['--no-such-v8-flag-here', '-e', '0'], { encoding: 'utf8' });
  assert.notEqual(bad.status, 0, 'an unknown flag stops node (so the check above means something)');
});
