/** The durable outbox on its own: durability, idempotency, order, ack/quarantine/eviction and their crash recovery. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { callItemId, gapItemId, segmentItemId } from '../src/outbox/items.ts';
import { Outbox } from '../src/outbox/outbox.ts';
import { closedSegment, makeRandomFile, sealedCall, sha256, tempDir } from './helpers/agent.ts';

const CHILD = new URL('./fixtures/enqueue-child.ts', import.meta.url).pathname;
const T = Date.parse('2026-11-23T01:00:00Z');
const at = (s: number) => new Date(T + s * 1000);

describe('durable outbox', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  before(async () => {
    dir = await tempDir('outbox-test-');
  });
  after(() => dir.remove());

  let n = 0;
  async function fresh() {
    const spoolDir = join(dir.path, `spool${n++}`);
    const camDir = join(spoolDir, 'cameras', 'cam1');
    await mkdir(camDir, { recursive: true });
    return { spoolDir, camDir, outbox: await Outbox.open({ spoolDir }) };
  }
  async function seg(camDir: string, s: number, size = 1000) {
    const path = join(camDir, `seg${s}.ts`);
    const bytes = await makeRandomFile(path, size);
    return closedSegment('cam1', path, bytes, at(s));
  }

  test('an item is on disk when segmentClosed returns, survives reopening, and the same segment twice is one item', async () => {
    const { spoolDir, camDir, outbox } = await fresh();
    const s = await seg(camDir, 0);
    await outbox.segmentClosed(s);
    const file = join(spoolDir, 'outbox', 'items', `${segmentItemId('cam1', s.start)}.json`);
    const onDisk = JSON.parse(await readFile(file, 'utf8'));
    assert.equal(onDisk.kind, 'segment');
    assert.equal(onDisk.segment.sha256, s.sha256);
    assert.equal(onDisk.files[0].path, s.path);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    await outbox.segmentClosed(s);
    await outbox.gap({ cameraKey: 'cam1', start: at(2), end: at(4), reason: 'camera_offline', detail: null });
    await outbox.gap({ cameraKey: 'cam1', start: at(2), end: at(4), reason: 'camera_offline', detail: null });
    assert.equal(outbox.stats().count, 2);
    await outbox.close();
    const again = await Outbox.open({ spoolDir });
    assert.deepEqual(again.list().map((i) => i.id), [segmentItemId('cam1', s.start), gapItemId('cam1', at(2), at(4), 'camera_offline')]);
    assert.equal(again.stats().bytes, 1000);
  });

  test('another file claiming the same start is kept as a second item, not dropped', async () => {
    const { camDir, outbox } = await fresh();
    const a = await seg(camDir, 0);
    const path = join(camDir, 'other.ts');
    const bytes = await makeRandomFile(path, 500);
    await outbox.segmentClosed(a);
    await outbox.segmentClosed(closedSegment('cam1', path, bytes, at(0)));
    const items = outbox.list();
    assert.equal(items.length, 2);
    assert.deepEqual(items.map((i) => i.files[0]!.sha256).sort(), [a.sha256, sha256(bytes)].sort());
  });

  test('send order: case windows, then calls, then footage; oldest capture first within each', async () => {
    const { spoolDir, camDir, outbox } = await fresh();
    for (const s of [30, 10, 20, 40]) await outbox.segmentClosed(await seg(camDir, s)); // enqueued out of order
    await outbox.gap({ cameraKey: 'cam1', start: at(15), end: at(20), reason: 'recorder_restart', detail: null });
    const recDir = join(spoolDir, 'pbx');
    await mkdir(recDir);
    const rec = await makeRandomFile(join(recDir, 'in-1.wav'), 300);
    const call = sealedCall('main-pbx:1795457100.12', [{ name: 'in-1.wav', path: join(recDir, 'in-1.wav'), bytes: rec }], at(35).toISOString());
    await outbox.callSealed(call);
    assert.deepEqual(
      outbox.list().map((i) => i.id),
      [callItemId(call.callKey, 1), segmentItemId('cam1', at(10)), gapItemId('cam1', at(15), at(20), 'recorder_restart'), segmentItemId('cam1', at(20)), segmentItemId('cam1', at(30)), segmentItemId('cam1', at(40))],
    );
    // A case asks for 25–45 s: those segments jump ahead of the call, and are held.
    assert.equal(await outbox.requestWindow('cam1', at(25), at(45)), 2);
    const order = outbox.list();
    assert.deepEqual(order.slice(0, 3).map((i) => i.id), [segmentItemId('cam1', at(30)), segmentItemId('cam1', at(40)), callItemId(call.callKey, 1)]);
    assert.ok(order[0]!.held && order[1]!.held && !order[3]!.held);
    assert.equal(outbox.peek()!.id, segmentItemId('cam1', at(30)));
    assert.ok(outbox.lease(segmentItemId('cam1', at(30))));
    assert.equal(outbox.peek()!.id, segmentItemId('cam1', at(40)), 'a leased item is skipped');
    // Order and flags survive a restart.
    await outbox.close();
    const again = await Outbox.open({ spoolDir });
    assert.deepEqual(again.list().map((i) => i.id), order.map((i) => i.id));
    assert.equal(again.list()[0]!.held, true);
    const callItem = again.get(callItemId(call.callKey, 1))!;
    assert.equal(callItem.files[0]!.owned, false, 'a call recording is the PBX\'s original');
    assert.equal(callItem.kind === 'call' ? callItem.call.payload.pbxId : null, 'main-pbx');
  });

  test('ack removes the item and its owned file; an ack cut short by a crash is finished at reopen', async () => {
    const { spoolDir, camDir, outbox } = await fresh();
    const a = await seg(camDir, 0);
    const b = await seg(camDir, 2);
    await outbox.segmentClosed(a);
    await outbox.segmentClosed(b);
    await outbox.ack(segmentItemId('cam1', a.start));
    assert.equal(existsSync(a.path), false);
    assert.equal(outbox.stats().count, 1);
    await outbox.close();
    // Simulate a crash right after the record moved to acked/ (file not yet deleted).
    const idB = segmentItemId('cam1', b.start);
    await rename(join(spoolDir, 'outbox', 'items', `${idB}.json`), join(spoolDir, 'outbox', 'acked', `${idB}.json`));
    assert.ok(existsSync(b.path));
    const again = await Outbox.open({ spoolDir });
    assert.equal(again.stats().count, 0);
    assert.equal(existsSync(b.path), false);
    assert.deepEqual(await readdir(join(spoolDir, 'outbox', 'acked')), []);
  });

  test('call recordings are the PBX\'s originals: never deleted at the ack, never moved into quarantine', async () => {
    const { outbox } = await fresh();
    const pbxDir = join(dir.path, 'pbx-monitor');
    await mkdir(pbxDir, { recursive: true });
    const p = join(pbxDir, 'r.wav');
    const bytes = await makeRandomFile(p, 100);
    await outbox.callSealed(sealedCall('pbx:1', [{ name: 'r.wav', path: p, bytes }], at(0).toISOString()));
    await outbox.callSealed(sealedCall('pbx:1', [{ name: 'r.wav', path: p, bytes }], at(0).toISOString())); // again after a crash: no-op
    assert.equal(outbox.stats().count, 1);
    const id = callItemId('pbx:1', 1);
    assert.equal(outbox.get(id)!.files[0]!.owned, false);
    await outbox.ack(id);
    assert.ok(existsSync(p));
    await outbox.callSealed(sealedCall('pbx:1', [{ name: 'r.wav', path: p, bytes }], at(0).toISOString(), 2));
    await outbox.quarantine(callItemId('pbx:1', 2), 'call_version_conflict');
    assert.ok(existsSync(p), 'left where the PBX keeps it');
    const [rec] = await outbox.listQuarantine();
    assert.equal(rec!.item.files[0]!.path, p, 'the record points at the original');
    const bad = { ...sealedCall('pbx:2', [], at(0).toISOString()), files: { 'x.wav': p } };
    await assert.rejects(outbox.callSealed(bad), /not among its recordings/);
  });

  test('quarantine keeps the file and the reason; an interrupted quarantine completes at reopen', async () => {
    const { spoolDir, camDir, outbox } = await fresh();
    const a = await seg(camDir, 0);
    await outbox.segmentClosed(a);
    const id = segmentItemId('cam1', a.start);
    const recPath = await outbox.quarantine(id, 'segment_conflict', 'test');
    assert.ok(recPath);
    assert.equal(outbox.stats().count, 0);
    assert.equal(outbox.stats().quarantined, 1);
    const moved = join(spoolDir, 'outbox', 'quarantine', id, 'seg0.ts');
    assert.equal(sha256(await readFile(moved)), a.sha256, 'the evidence is intact in quarantine');
    const recs = await outbox.listQuarantine();
    assert.equal(recs[0]!.reason, 'segment_conflict');
    assert.equal(recs[0]!.originalPaths['seg0.ts'], a.path);

    // Crash between writing the record and moving the file: simulate by restoring the earlier state.
    const b = await seg(camDir, 4);
    await outbox.segmentClosed(b);
    const idB = segmentItemId('cam1', b.start);
    const item = outbox.get(idB)!;
    await outbox.close();
    await writeFile(join(spoolDir, 'outbox', 'quarantine', `${idB}.json`), JSON.stringify({ v: 1, id: idB, quarantinedAt: new Date().toISOString(), reason: 'segment_overlap', detail: null, item, originalPaths: { 'seg4.ts': b.path } }));
    const again = await Outbox.open({ spoolDir });
    assert.equal(again.get(idB), undefined);
    assert.ok(existsSync(join(spoolDir, 'outbox', 'quarantine', idB, 'seg4.ts')));
    assert.equal(existsSync(b.path), false);
    assert.equal(again.stats().quarantined, 2);
  });

  test('eviction turns a routine segment into an "evicted" gap before deleting it; held ones are never evicted', async () => {
    const { spoolDir, camDir, outbox } = await fresh();
    const segs = [];
    for (const s of [0, 2, 4]) segs.push(await seg(camDir, s));
    for (const s of segs) await outbox.segmentClosed(s);
    await outbox.requestWindow('cam1', at(0), at(1)); // the oldest is held by a case
    assert.deepEqual(outbox.evictionCandidates().map((i) => i.id), [segmentItemId('cam1', at(2)), segmentItemId('cam1', at(4))]);
    assert.equal(await outbox.evictSegment(segmentItemId('cam1', at(0)), 'test'), 0, 'held: refused');
    assert.ok(existsSync(segs[0]!.path));
    assert.equal(await outbox.evictSegment(segmentItemId('cam1', at(2)), 'test'), 1000);
    assert.equal(existsSync(segs[1]!.path), false);
    const g = outbox.get(segmentItemId('cam1', at(2)))!;
    assert.equal(g.kind, 'gap');
    assert.ok(g.kind === 'gap' && g.gap.reason === 'evicted' && g.gap.start === at(2).toISOString() && g.gap.end === new Date(T + 4000).toISOString());
    assert.ok(g.kind === 'gap' && g.gap.detail!.includes(segs[1]!.sha256));
    assert.equal(outbox.stats().bytes, 2000);
    // The same segment handed over again after its eviction does not resurrect a deleted file.
    await outbox.segmentClosed(segs[1]!);
    assert.equal(outbox.get(segmentItemId('cam1', at(2)))!.kind, 'gap');
    // A crash between the gap record and the deletion: the leftover file is removed at reopen.
    await outbox.close();
    const orphan = join(camDir, 'seg2.ts');
    await writeFile(orphan, 'leftover');
    const again = await Outbox.open({ spoolDir });
    assert.equal(existsSync(orphan), false);
    assert.equal(again.stats().count, 3);
  });

  test('temp files from a crash are swept; a damaged item is moved aside, not lost or fatal', async () => {
    const { spoolDir, camDir, outbox } = await fresh();
    await outbox.segmentClosed(await seg(camDir, 0));
    await outbox.close();
    const items = join(spoolDir, 'outbox', 'items');
    await writeFile(join(items, '.tmp-seg_cam1_1.json-abc'), '{"half');
    await writeFile(join(items, 'seg_cam1_999.json'), '{"not":"an item"}');
    const again = await Outbox.open({ spoolDir });
    assert.equal(again.stats().count, 1);
    assert.deepEqual((await readdir(items)).filter((n) => n.startsWith('.tmp-')), []);
    assert.ok(existsSync(join(spoolDir, 'outbox', 'quarantine', 'seg_cam1_999.json.damaged')));
  });

  test('kill -9 at arbitrary moments while handing over: every item reported durable is there, readable, with its file', async () => {
    const spoolDir = join(dir.path, 'killed');
    // The child's i-th hand-over, as it computes it.
    const idOf = (round: number, i: number) => {
      const start = new Date(Date.parse('2026-11-23T00:00:00Z') + round * 3_600_000 + i * 2000);
      return i % 5 === 4 ? gapItemId('cam1', start, new Date(start.getTime() + 2000), 'camera_offline') : segmentItemId('cam1', start);
    };
    let total = 0;
    for (let round = 0; round < 3; round++) {
      const child = spawn(process.execPath, ['--import', 'tsx', CHILD, spoolDir, String(round)], { stdio: ['ignore', 'pipe', 'inherit'] });
      const reported: string[] = [];
      let buf = '';
      await new Promise<void>((resolve) => {
        child.stdout.on('data', (d: Buffer) => {
          buf += d.toString();
          const lines = buf.split('\n');
          buf = lines.pop()!;
          reported.push(...lines);
          if (reported.length >= 25 + round * 10) {
            child.kill('SIGKILL');
            resolve();
          }
        });
      });
      await new Promise((r) => child.once('exit', r));
      const ob = await Outbox.open({ spoolDir });
      const ids = new Set(ob.list().map((i) => i.id));
      for (const id of reported) assert.ok(ids.has(id), `${id} was reported durable but is missing after kill -9`);
      // The round's items are exactly its first K hand-overs (K ≥ reported; stdout lags the kill): no hole, no extra.
      const mine = ob.list().filter((i) => Date.parse(i.at) >= Date.parse('2026-11-23T00:00:00Z') + round * 3_600_000);
      const k = mine.length;
      assert.ok(k >= reported.length, `${k} items for ${reported.length} reports`);
      assert.deepEqual(new Set(mine.map((i) => i.id)), new Set(Array.from({ length: k }, (_, i) => idOf(round, i))));
      for (const item of ob.list()) for (const f of item.files) assert.equal(sha256(await readFile(f.path)), f.sha256, `${item.id}: file intact`);
      total += k;
      assert.equal(ob.list().length, total);
      await ob.close();
    }
    assert.deepEqual(await readdir(join(spoolDir, 'outbox', 'quarantine')), [], 'nothing was damaged');
  });
});
