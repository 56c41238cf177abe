/**
 * On-demand mode and the command executor on a real outbox (files, fsync) without a centre: the rolling buffer,
 * preserve_window holding and reprioritising, open ("standing") windows, at-least-once delivery, ack retries,
 * validation of commands, and the crash recovery of an interrupted buffer expiry.
 */
import type { UploadMode } from '@mamoru/contract/enums';
import type { CommandAckBody } from '@mamoru/contract';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createLogger, type Logger } from '../src/lib/logger.ts';
import { CommandExecutor, judgeWindow, uncovered, type AckAnswer, type AckSender } from '../src/commands/executor.ts';
import { parseCommands } from '../src/commands/parse.ts';
import type { AgentCommand } from '../src/contracts.ts';
import { RollingBuffer } from '../src/disk-guard/rolling-buffer.ts';
import { gapItemId, PRIORITY, segmentItemId, type GapItem } from '../src/outbox/items.ts';
import { Outbox } from '../src/outbox/outbox.ts';
import { writeFileAtomic } from '../src/state/atomic-file.ts';
import { closedSegment, makeRandomFile, tempDir } from './helpers/agent.ts';

const T = Date.parse('2026-11-20T01:00:00Z');
const at = (s: number) => new Date(T + s * 1000);
const logs = (): Logger & { lines: string[] } => {
  const lines: string[] = [];
  return Object.assign(createLogger({ level: 'debug', write: (l) => lines.push(l) }), { lines });
};
const cmd = (id: string, from: number, to: number, cameraKey = 'od1'): AgentCommand => ({ id, kind: 'preserve_window', cameraKey, from: at(from).toISOString(), to: at(to).toISOString(), incidentId: null });

describe('on-demand mode and commands (real outbox, no centre)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    dir = await tempDir('on-demand-units-');
  });
  after(() => dir.remove());

  let n = 0;
  async function fresh(modes: Record<string, UploadMode> = { od1: 'on-demand', cont: 'continuous' }) {
    const spoolDir = join(dir.path, `spool${n++}`);
    for (const k of Object.keys(modes)) await mkdir(join(spoolDir, 'cameras', k), { recursive: true });
    return { spoolDir, modes, outbox: await Outbox.open({ spoolDir, cameraModes: modes }) };
  }
  async function seg(spoolDir: string, cam: string, s: number, size = 1000, durationS = 2) {
    const path = join(spoolDir, 'cameras', cam, `seg${s}.ts`);
    const bytes = await makeRandomFile(path, size);
    return closedSegment(cam, path, bytes, at(s), durationS * 1000);
  }
  const markMetaSent = (ob: Outbox, id: string) => ob.update(id, (it) => {
    if (it.kind === 'segment') it.metaSent = true;
  });

  test('an on-demand segment is sent as metadata first, then waits in the buffer (not sent, not backlog) until a case asks', async () => {
    const { spoolDir, outbox } = await fresh();
    const a = await seg(spoolDir, 'od1', 0);
    const c = await seg(spoolDir, 'cont', 0);
    await outbox.segmentClosed(a);
    await outbox.segmentClosed(c);
    const item = outbox.get(segmentItemId('od1', at(0)))!;
    assert.equal(item.kind === 'segment' && item.mode, 'on-demand');
    assert.equal(outbox.get(segmentItemId('cont', at(0)))!.kind === 'segment' && (outbox.get(segmentItemId('cont', at(0))) as { mode: string }).mode, 'continuous');
    assert.ok(item.kind === 'segment' && outbox.sendsMetaOnly(item), 'the uploader sends its metadata only');
    assert.equal(outbox.stats().count, 2, 'before the metadata is acknowledged it is backlog');

    await markMetaSent(outbox, item.id);
    assert.deepEqual(outbox.stats().buffered, { count: 1, bytes: 1000 });
    assert.equal(outbox.stats().count, 1);
    assert.equal(outbox.peek()?.id, segmentItemId('cont', at(0)), 'a buffered segment is never picked for upload');
    assert.ok(existsSync(a.path), 'its media stays at the store');

    const found = await outbox.preserveWindow('od1', at(1), at(5));
    assert.deepEqual(found.segments.map((s) => s.id), [item.id]);
    const now = outbox.get(item.id)!;
    assert.ok(now.held && now.priority === PRIORITY.caseWindow);
    assert.ok(now.kind === 'segment' && !outbox.sendsMetaOnly(now), 'asked for: its media goes');
    assert.equal(outbox.peek()?.id, item.id, 'and ahead of continuous footage');
    assert.equal(outbox.stats().buffered.count, 0);

    // A camera now configured continuous uploads what it had buffered.
    await outbox.close();
    const again = await Outbox.open({ spoolDir, cameraModes: { od1: 'continuous' } });
    const b = await seg(spoolDir, 'od1', 10);
    await again.segmentClosed(b);
    assert.equal((again.get(segmentItemId('od1', at(10))) as { mode: string }).mode, 'continuous');
  });

  test('the rolling buffer deletes only acknowledged, unheld segments older than its days, and reports each run as one evicted gap', async () => {
    const { spoolDir, outbox } = await fresh();
    const segs = [];
    for (const s of [0, 2, 4, 6, 20, 22]) segs.push(await seg(spoolDir, 'od1', s));
    for (const s of segs) await outbox.segmentClosed(s);
    // 0..6 contiguous and 20..22 contiguous; 6 is never acknowledged, 22 is held by a case.
    for (const s of [0, 2, 4, 20, 22]) await markMetaSent(outbox, segmentItemId('od1', at(s)));
    await outbox.preserveWindow('od1', at(22), at(23));
    const buffer = new RollingBuffer({ outbox, days: 1, intervalMs: 1000, log: logs(), now: () => at(24).getTime() + 86_400_000 });
    const r = await buffer.check();
    assert.deepEqual(r.expired.sort(), [0, 2, 4, 20].map((s) => segmentItemId('od1', at(s))).sort());
    assert.equal(r.bytes, 4000);
    for (const [i, s] of [0, 2, 4, 6, 20, 22].entries()) assert.equal(existsSync(segs[i]!.path), s === 6 || s === 22, `segment ${s}`);
    const gaps = outbox.list().filter((i): i is GapItem => i.kind === 'gap');
    assert.deepEqual(gaps.map((g) => [g.gap.reason, g.gap.start, g.gap.end]), [
      ['evicted', at(0).toISOString(), at(6).toISOString()],
      ['evicted', at(20).toISOString(), at(22).toISOString()],
    ]);
    assert.match(gaps[0]!.gap.detail!, /rolling buffer \(1 days\).*3 segment/);
    assert.deepEqual((await buffer.check()).expired, [], 'idempotent');
    // Younger than the buffer: kept.
    const young = new RollingBuffer({ outbox, days: 30, intervalMs: 1000, log: logs(), now: () => at(24).getTime() + 86_400_000 });
    const s8 = await seg(spoolDir, 'od1', 8);
    await outbox.segmentClosed(s8);
    await markMetaSent(outbox, segmentItemId('od1', at(8)));
    assert.deepEqual((await young.check()).expired, []);
  });

  test('an expiry interrupted after its gap was written is finished when the outbox opens (files and segment records go)', async () => {
    const { spoolDir, outbox } = await fresh();
    const s0 = await seg(spoolDir, 'od1', 0);
    const s2 = await seg(spoolDir, 'od1', 2);
    await outbox.segmentClosed(s0);
    await outbox.segmentClosed(s2);
    await markMetaSent(outbox, segmentItemId('od1', at(0)));
    await markMetaSent(outbox, segmentItemId('od1', at(2)));
    await outbox.close();
    // What a crash right after the gap's durable write leaves: the gap (with its cleanup list) and both segments.
    const gapId = gapItemId('od1', at(0), at(4), 'evicted');
    const gap: GapItem = { v: 1, id: gapId, kind: 'gap', priority: 2, at: at(0).toISOString(), seq: 99, enqueuedAt: at(0).toISOString(), held: false, files: [], cleanup: [s0.path, s2.path], gap: { cameraKey: 'od1', start: at(0).toISOString(), end: at(4).toISOString(), reason: 'evicted', detail: 'x' } };
    await writeFileAtomic(join(spoolDir, 'outbox', 'items', `${gapId}.json`), JSON.stringify(gap));
    const again = await Outbox.open({ spoolDir, cameraModes: { od1: 'on-demand' } });
    assert.deepEqual(again.list().map((i) => i.id), [gapId]);
    assert.ok(!existsSync(s0.path) && !existsSync(s2.path));
    assert.deepEqual((await readdir(join(spoolDir, 'outbox', 'items'))).sort(), [`${gapId}.json`]);
  });

  test('an open window holds segments that close later; the answer comes once the window has been recorded', async () => {
    const { spoolDir, outbox } = await fresh();
    let now = at(10).getTime();
    const acks: ({ id: string } & CommandAckBody)[] = [];
    const answers: AckAnswer[] = [{ kind: 'retry', reason: 'centre answered 503', retryAfterMs: null }, { kind: 'retry', reason: 'no answer', retryAfterMs: 5 }];
    const ack: AckSender = async (id, body) => {
      acks.push({ id, ...body });
      return answers.shift() ?? { kind: 'accepted', status: 204 };
    };
    const opts = { dir: join(spoolDir, 'commands'), outbox, isKnownCamera: (k: string) => k === 'od1' || k === 'cont', ack, log: logs(), closingSlackMs: 30_000, tickMs: 1000, backoff: { baseMs: 1, capMs: 5 }, maxRetryAfterMs: 1000, now: () => now };
    const ex = await CommandExecutor.open(opts);
    const before = await seg(spoolDir, 'od1', -1, 1000, 20); // -1..19, closed before the command
    await outbox.segmentClosed(before);
    const rec = await ex.executeCommand(cmd('c1', 0, 60));
    assert.ok(rec.standingUntil, 'the window is still open');
    assert.equal(rec.result, null);
    assert.ok(outbox.get(segmentItemId('od1', at(-1)))!.held);

    // Restart in between: the open window comes back from its record.
    await ex.stop();
    const ex2 = await CommandExecutor.open(opts);
    for (const s of [19, 39, 59, 79]) await outbox.segmentClosed(await seg(spoolDir, 'od1', s, 1000, 20));
    const heldOf = (s: number) => outbox.get(segmentItemId('od1', at(s)))!;
    assert.deepEqual([19, 39, 59, 79].map((s) => [heldOf(s).held, heldOf(s).priority]), [[true, 0], [true, 0], [true, 0], [false, 2]], 'held on arrival inside the window, not after it');

    await ex2.tick();
    assert.equal(ex2.get('c1')!.result, null, 'not judged before the window is recorded');
    now = at(60).getTime() + 30_001;
    for (let i = 0; i < 5 && ex2.get('c1')!.ack.state === 'pending'; i++) {
      await ex2.tick();
      await new Promise((r) => setTimeout(r, 10));
    }
    const done = ex2.get('c1')!;
    assert.equal(done.result?.status, 'done');
    assert.match(done.result!.detail!, /4 segment\(s\), 4000 bytes held/);
    assert.equal(done.ack.state, 'accepted', 'the ack was retried until accepted');
    assert.equal(acks.length, 3);
    assert.ok(acks.every((a) => a.id === 'c1' && a.status === 'done'));
    // After the window closed, new segments in that time are not held any more (the window is closed).
    await outbox.segmentClosed(await seg(spoolDir, 'od1', 200, 1000, 20));
    assert.equal(outbox.get(segmentItemId('od1', at(200)))!.held, false);
    await ex2.stop();
  });

  test('delivered twice, executed once; the same answer is sent again; unknown kinds ignored; invalid commands answered failed', async () => {
    const { spoolDir, outbox } = await fresh();
    const acks: ({ id: string } & CommandAckBody)[] = [];
    const log = logs();
    const ex = await CommandExecutor.open({
      dir: join(spoolDir, 'commands'),
      outbox,
      isKnownCamera: (k) => k === 'od1',
      ack: async (id, body) => {
        acks.push({ id, ...body });
        return { kind: 'accepted', status: 200 };
      },
      log,
      closingSlackMs: 1000,
      tickMs: 1000,
      backoff: { baseMs: 1, capMs: 5 },
      maxRetryAfterMs: 1000,
      now: () => at(3600).getTime(),
    });
    for (const s of [0, 2, 4]) await outbox.segmentClosed(await seg(spoolDir, 'od1', s));
    const c = cmd('c2', 1, 5);
    const first = await ex.executeCommand(c);
    assert.equal(first.result?.status, 'done');
    // Its segments leave (uploaded and acknowledged): a second delivery must not turn the answer into "failed".
    for (const s of [0, 2, 4]) await outbox.ack(segmentItemId('od1', at(s)));
    const recs = await ex.accept([c, { id: 'u1', kind: 'reboot_now' }, { id: 'bad1', kind: 'preserve_window', cameraKey: 'od1', from: 'yesterday', to: at(5).toISOString() }, { kind: 'preserve_window' }, 'junk']);
    assert.equal(recs.length, 1);
    assert.deepEqual(recs[0], first, 'the recorded command is returned, nothing re-executed');
    await ex.tick();
    await ex.tick();
    assert.deepEqual(acks.map((a) => [a.id, a.status]).sort(), [['bad1', 'failed'], ['c2', 'done']], 'one ack each; none for the unknown kind');
    assert.match(acks.find((a) => a.id === 'bad1')!.detail!, /invalid command: from/);
    assert.ok(log.lines.some((l) => l.includes('ignoring a command of a kind this agent does not know') && l.includes('reboot_now')));
    assert.equal(ex.list().length, 2);
    assert.deepEqual((await readdir(join(spoolDir, 'commands'))).sort(), ['bad1.json', 'c2.json']);

    // A window of a camera this agent does not record, and one with nothing left at the store.
    const unknown = await ex.executeCommand(cmd('c3', 0, 5, 'elsewhere'));
    assert.deepEqual([unknown.result?.status, unknown.result?.detail], ['failed', "camera 'elsewhere' is not recorded by this agent"]);
    await outbox.gap({ cameraKey: 'od1', start: at(100), end: at(110), reason: 'evicted', detail: 'disk' });
    const gone = await ex.executeCommand(cmd('c4', 100, 120));
    assert.equal(gone.result?.status, 'failed');
    assert.match(gone.result!.detail!, /20 s of the window missing: .*T01:01:40\.000Z\/.*T01:02:00\.000Z \(evicted\)/);
  });

  test('parsing, coverage and judging are strict', () => {
    const p = parseCommands([
      { id: 'a', kind: 'preserve_window', cameraKey: 'od1', from: '2026-11-20T01:00:00Z', to: '2026-11-20T01:05:00Z', incidentId: 'inc-1' },
      { id: 'b', kind: 'preserve_window', cameraKey: 'od1', from: '2026-11-20T01:05:00Z', to: '2026-11-20T01:00:00Z' },
      { id: 'c', kind: 'preserve_window', cameraKey: 'bad key', from: '2026-11-20T01:00:00Z', to: '2026-11-20T01:05:00Z' },
      { id: 'd', kind: 'preserve_window', cameraKey: 'od1', from: '2026-11-01T00:00:00Z', to: '2026-11-20T00:00:00Z' },
      { id: '../etc', kind: 'preserve_window', cameraKey: 'od1', from: '2026-11-20T01:00:00Z', to: '2026-11-20T01:05:00Z' },
      { id: 'e', kind: 'something_new' },
      null,
    ]);
    assert.deepEqual(p.commands.map((c) => [c.id, c.incidentId]), [['a', 'inc-1']]);
    assert.deepEqual(p.invalid.map((i) => i.id), ['b', 'c', 'd', null], 'a command id that is not file-safe is never used');
    assert.deepEqual(p.unknown.map((u) => u.kind), ['something_new', 'undefined']);

    assert.deepEqual(uncovered(0, 100_000, [{ start: -5_000, end: 40_000 }, { start: 40_300, end: 70_000 }, { start: 80_000, end: 120_000 }]), [{ start: 70_000, end: 80_000 }]);
    assert.deepEqual(uncovered(0, 10_000, [{ start: 0, end: 4_800 }, { start: 5_200, end: 10_000 }]), [], 'keyframe-aligned holes within the tolerance');
    assert.deepEqual(uncovered(0, 10_000, []), [{ start: 0, end: 10_000 }]);
    const j = judgeWindow(cmd('x', 0, 10), { segments: [{ id: 's', start: at(0), end: at(6), sha256: 'a'.repeat(64), size: 5, mode: 'on-demand', inFlight: false }], gaps: [] }, true, at(20));
    assert.equal(j.status, 'failed');
    assert.match(j.detail!, /T01:00:06\.000Z\/.*T01:00:10\.000Z \(no footage at the store or at the centre\)/);
    // Footage that already arrived at the centre covers the rest: the normal path of a continuous camera.
    const k = judgeWindow(cmd('x', 0, 10), { segments: [{ id: 's', start: at(0), end: at(6), sha256: 'a'.repeat(64), size: 5, mode: 'continuous', inFlight: false }], arrived: [{ start: at(-60).getTime(), end: at(6.2).getTime() }, { start: at(6.2).getTime(), end: at(30).getTime() }], gaps: [] }, true, at(20));
    assert.deepEqual([k.status, k.detail], ['done', 'window covered: 10 s of the window already arrived at the centre; 1 segment(s), 5 bytes held at the store and queued ahead of everything else']);
  });

  test('a window whose footage was sent before the command came is done, and says what arrived', async () => {
    const { outbox, spoolDir } = await fresh();
    const ex = await CommandExecutor.open({ dir: join(spoolDir, 'commands'), outbox, isKnownCamera: () => true, ack: async () => ({ kind: 'accepted', status: 200 }), log: logs(), closingSlackMs: 0, tickMs: 1000, backoff: { baseMs: 1, capMs: 1 }, maxRetryAfterMs: 1 });
    // Continuous camera: six 2 s segments recorded and acknowledged by the centre before any case was filed.
    for (const s of [0, 2, 4, 6, 8, 10]) {
      const p = join(spoolDir, `c-${s}.ts`);
      const b = await makeRandomFile(p, 100);
      await outbox.segmentClosed(closedSegment('od1', p, b, at(s)));
      await outbox.ack(segmentItemId('od1', at(s)));
    }
    // One more is still at the store; an eviction gap was accepted by the centre for [12, 14).
    const p = join(spoolDir, 'c-14.ts');
    const b = await makeRandomFile(p, 100);
    await outbox.segmentClosed(closedSegment('od1', p, b, at(14)));
    await outbox.gap({ cameraKey: 'od1', start: at(12), end: at(14), reason: 'evicted', detail: 'disk' });
    await outbox.ack(gapItemId('od1', at(12), at(14), 'evicted'));
    const ok = await ex.executeCommand(cmd('w1', 1, 11));
    assert.equal(ok.result?.status, 'done');
    assert.equal(ok.result?.detail, 'window covered: 10 s of the window already arrived at the centre');
    const part = await ex.executeCommand(cmd('w2', 8, 16));
    assert.equal(part.result?.status, 'failed');
    assert.match(part.result!.detail!, /^2 s of the window missing: .*T01:00:12\.000Z\/.*T01:00:14\.000Z \(evicted\)\. 4 s of the window already arrived at the centre; 1 segment\(s\), 100 bytes held/);
    // The sent log survives a restart.
    await outbox.close();
    const again = await Outbox.open({ spoolDir });
    assert.deepEqual(again.sent.footage('od1', at(0).getTime(), at(20).getTime()), [{ start: at(0).getTime(), end: at(12).getTime() }]);
    assert.equal(again.coveredUntil('od1'), at(16).getTime());
  });

  test('a command record that cannot be read is ignored at open, and a temp file is swept', async () => {
    const { spoolDir, outbox } = await fresh();
    const d = join(spoolDir, 'commands');
    await mkdir(d, { recursive: true });
    await writeFile(join(d, 'broken.json'), '{"v":1,');
    await writeFile(join(d, '.tmp-x.json-123'), 'partial');
    const log = logs();
    const ex = await CommandExecutor.open({ dir: d, outbox, isKnownCamera: () => true, ack: async () => ({ kind: 'accepted', status: 200 }), log, closingSlackMs: 0, tickMs: 1000, backoff: { baseMs: 1, capMs: 1 }, maxRetryAfterMs: 1 });
    assert.equal(ex.list().length, 0);
    assert.ok(log.lines.some((l) => l.includes('command record unreadable')));
    assert.deepEqual(await readdir(d), ['broken.json']);
  });
});
