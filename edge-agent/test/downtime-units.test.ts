/**
 * The pure parts of the downtime check and the sent log: which gaps a restart reports, how sent spans merge; and the
 * life mark's writer on a real folder.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { silentLogger } from '../src/lib/logger.ts';
import { LifeMarkWriter, lifeMarkPath, planDowntime, readLifeMark, type LifeMark } from '../src/recorder/downtime.ts';
import { replaceFileSync } from '../src/state/atomic-file.ts';
import { mergeSpan } from '../src/outbox/sent-log.ts';

const T = Date.parse('2026-11-20T01:00:00Z');
const mark = (atS: number, clean: boolean, cameras: Record<string, string> = { cam1: 'recording' }): LifeMark => ({ v: 1, atMs: T + atS * 1000, clean, cameras });

describe('downtime at start-up', () => {
  test('a camera that was recording: agent_down from the end of its record, the detail says how the agent stopped', () => {
    const p = planDowntime({ cameraKey: 'cam1', coveredUntil: T + 10_000, mark: mark(8, false), restartedAt: T + 60_000 });
    assert.equal(p.before, null);
    assert.equal(p.resume?.sinceMs, T + 10_000);
    assert.equal(p.resume?.detail, 'agent not running: last seen running 2026-11-20T01:00:08.000Z (no clean shutdown: crash, kill or power loss); restarted 2026-11-20T01:01:00.000Z');
    const clean = planDowntime({ cameraKey: 'cam1', coveredUntil: T + 10_000, mark: mark(10, true), restartedAt: T + 60_000 });
    assert.match(clean.resume!.detail, /\(clean shutdown\); restarted/);
    assert.match(planDowntime({ cameraKey: 'cam1', coveredUntil: T, mark: null, restartedAt: T + 1 }).resume!.detail, /no life mark/);
  });

  test('a camera that was offline when the agent was last seen: its outage up to the mark, then agent_down', () => {
    const p = planDowntime({ cameraKey: 'cam1', coveredUntil: T, mark: mark(30, false, { cam1: 'offline' }), restartedAt: T + 60_000 });
    assert.deepEqual(p.before && [p.before.reason, p.before.start.getTime(), p.before.end.getTime()], ['camera_offline', T, T + 30_000]);
    assert.equal(p.resume?.sinceMs, T + 30_000);
  });

  test('nothing for a camera never recorded, or one whose record reaches the restart', () => {
    assert.deepEqual(planDowntime({ cameraKey: 'new', coveredUntil: null, mark: mark(30, false), restartedAt: T + 60_000 }), { before: null, resume: null });
    assert.deepEqual(planDowntime({ cameraKey: 'cam1', coveredUntil: T + 61_000, mark: mark(30, false), restartedAt: T + 60_000 }), { before: null, resume: null });
  });
});

describe('the life mark on disk', () => {
  test('replaceFileSync replaces the whole file (mode 0600) and leaves no temp file behind', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'mamoru-mark-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const p = join(dir, 'alive.json');
    await writeFile(p, 'x'.repeat(5000), { mode: 0o644 });
    replaceFileSync(p, '{"short":true}\n');
    assert.equal(await readFile(p, 'utf8'), '{"short":true}\n');
    assert.equal((await stat(p)).mode & 0o777, 0o600);
    assert.deepEqual(await readdir(dir), ['alive.json']);
    // Into a folder that is gone: an error for the caller, nothing half-written.
    assert.throws(() => replaceFileSync(join(dir, 'missing', 'alive.json'), 'x'), { code: 'ENOENT' });
  });

  test('the writer rewrites the mark while running and writes it clean at stop', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'mamoru-mark-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    let now = T;
    let health = 'recording';
    const w = new LifeMarkWriter({ spoolDir: dir, intervalMs: 20, cameraHealth: () => ({ cam1: health }), log: silentLogger, now: () => now });
    w.start();
    const seen = async (pred: (m: LifeMark) => boolean) => {
      for (let i = 0; i < 200; i++) {
        const m = await readLifeMark(dir);
        if (m && pred(m)) return m;
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.fail(`no such mark; last: ${await readFile(lifeMarkPath(dir), 'utf8').catch(() => 'none')}`);
    };
    assert.deepEqual(await seen((m) => m.atMs === T), { v: 1, atMs: T, clean: false, cameras: { cam1: 'recording' } });
    now = T + 5000;
    health = 'offline';
    assert.deepEqual(await seen((m) => m.atMs === T + 5000), { v: 1, atMs: T + 5000, clean: false, cameras: { cam1: 'offline' } });
    now = T + 6000;
    await w.stop();
    assert.deepEqual(await readLifeMark(dir), { v: 1, atMs: T + 6000, clean: true, cameras: { cam1: 'offline' } });
    assert.deepEqual(await readdir(dir), ['alive.json']);
  });
});

describe('sent log spans', () => {
  test('contiguous segments merge (within 0.5 s), others stay apart, in order whatever the arrival order', () => {
    let s = mergeSpan([], { start: 4000, end: 6000 });
    s = mergeSpan(s, { start: 0, end: 2000 });
    s = mergeSpan(s, { start: 10_000, end: 12_000 });
    s = mergeSpan(s, { start: 2300, end: 4000 });
    assert.deepEqual(s, [
      { start: 0, end: 6000 },
      { start: 10_000, end: 12_000 },
    ]);
    assert.deepEqual(mergeSpan(s, { start: 5000, end: 11_000 }), [{ start: 0, end: 12_000 }]);
  });
});
