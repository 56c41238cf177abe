/**
 * Start-up spool recovery (edge-agent/src/recorder/spool-recovery.ts) against real ffmpeg output and the real
 * outbox: segment files a killed agent left without an outbox record are hashed and enqueued exactly once, with
 * starts that never overlap their predecessors; empty files go, unplayable ones are set aside, run lists no file
 * needs are removed, and a crash in the middle of recovery neither loses nor duplicates anything.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { appendFile, copyFile, mkdir, readdir, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { ClosedSegment } from '../src/contracts.ts';
import { createFfmpegMediaTool } from '../src/media/ffmpeg-media-tool.ts';
import { parseSegmentList } from '../src/media/media-tool.ts';
import type { SegmentItem } from '../src/outbox/items.ts';
import { Outbox } from '../src/outbox/outbox.ts';
import { deterministicUuid, recoverCameraSpool } from '../src/recorder/spool-recovery.ts';
import { recordingLogger } from './helpers/log.ts';
import { ffprobeFile, sha256Of, tempDir } from './helpers/recorder-harness.ts';

const execFileP = promisify(execFile);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const media = createFfmpegMediaTool();
const clockOffset = { offsetMs: () => null };

const stamp = (ms: number) => new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');

describe('spool recovery at start-up', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  /** Four 2 s MPEG-TS segments (H.264 + AAC) cut by ffmpeg's segment muxer, and its list lines. */
  let gen: { path: string; startS: number; endS: number }[];

  before(async () => {
    dir = await tempDir('spool-recovery');
    const g = join(dir.path, 'gen');
    await mkdir(g);
    await execFileP('ffmpeg', [
      '-hide_banner', '-loglevel', 'error',
      '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=15', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=16000',
      '-t', '8', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '15', '-c:a', 'aac', '-b:a', '32k',
      '-f', 'segment', '-segment_time', '2', '-segment_format', 'mpegts',
      '-segment_list', join(g, 'list.csv'), '-segment_list_type', 'csv', join(g, 'g%d.ts'),
    ], { env: { ...process.env, TZ: 'UTC' } });
    const { readFile } = await import('node:fs/promises');
    gen = parseSegmentList(await readFile(join(g, 'list.csv'), 'utf8')).map((e) => ({ path: join(g, e.file), startS: e.startS, endS: e.endS }));
    assert.equal(gen.length, 4);
  });

  after(async () => {
    await dir.remove();
  });

  /**
   * A camera spool as a SIGKILLed agent leaves it: run `runId` with segments 0–3 (0–2 listed, 3 the one ffmpeg was
   * writing, here without its line), segment 0 already in the outbox, 1–3 not.
   */
  async function killedAgentSpool(name: string) {
    const spoolDir = join(dir.path, name);
    const camDir = join(spoolDir, 'cameras', 'cam1');
    await mkdir(join(camDir, '.runs'), { recursive: true });
    const runId = randomUUID();
    const t0 = Date.now() - 10 * 60_000;
    const files: string[] = [];
    const lines: string[] = [];
    for (const [i, s] of gen.entries()) {
      const file = `${stamp(t0 + i * 2000)}-${runId.slice(0, 8)}.ts`;
      files.push(join(camDir, file));
      await copyFile(s.path, join(camDir, file));
      if (i < 3) lines.push(`${file},${s.startS.toFixed(6)},${s.endS.toFixed(6)}`);
    }
    await writeFile(join(camDir, '.runs', `${runId}.csv`), `${lines.join('\n')}\n`);
    const durMs = gen.map((s) => Math.round((s.endS - s.startS) * 1000));
    const ob = await Outbox.open({ spoolDir });
    const { sha256, size } = { sha256: await sha256Of(files[0]!), size: (await stat(files[0]!)).size };
    const seg0: ClosedSegment = { cameraKey: 'cam1', path: files[0]!, start: new Date(t0), durationMs: durMs[0]!, size, sha256, mediaType: 'video/mp2t', codec: { container: 'mpegts' }, runId, clockOffsetMs: null };
    await ob.segmentClosed(seg0);
    // Modification times: file 1's says it started 300 ms before segment 0 ended (the estimate is only that good),
    // file 2 and 3 follow on.
    const end0 = t0 + durMs[0]!;
    const mtimes = [end0, end0 - 300 + durMs[1]!, end0 + durMs[1]! + durMs[2]! + 40, end0 + durMs[1]! + durMs[2]! + 2000 + 40];
    for (const [i, f] of files.entries()) await utimes(f, mtimes[i]! / 1000, mtimes[i]! / 1000);
    return { spoolDir, camDir, runId, files, t0, durMs, mtimes, outbox: ob };
  }

  const segmentsOf = (ob: Outbox) =>
    ob
      .list()
      .filter((i): i is SegmentItem => i.kind === 'segment')
      .sort((a, b) => Date.parse(a.segment.start) - Date.parse(b.segment.start));

  test('orphans are enqueued once each with their hash, size, list duration, non-overlapping starts; the rest is tidied', async () => {
    const s = await killedAgentSpool('main');
    const { camDir, files } = s;
    // Other leftovers: an empty file, an unreadable one and a playable one of a run whose list is gone, a temp file,
    // a file already set aside, and the list of a finished run whose files were all acknowledged.
    const other = (sec: number, run8: string) => join(camDir, `${stamp(s.t0 + 60_000 + sec * 1000)}-${run8}.ts`);
    const empty = other(0, 'aaaaaaaa');
    const garbage = other(2, 'bbbbbbbb');
    const lost = other(4, 'cccccccc');
    await writeFile(empty, '');
    await writeFile(garbage, randomBytes(4000));
    await copyFile(gen[1]!.path, lost);
    const old = Date.now() / 1000 - 300;
    for (const f of [empty, garbage, lost]) await utimes(f, old, old);
    await writeFile(join(camDir, '.tmp-123.ts'), 'x');
    await writeFile(join(camDir, 'older.ts.unplayable'), 'x');
    const staleList = `${randomUUID()}.csv`;
    await writeFile(join(camDir, '.runs', staleList), `${stamp(s.t0 - 60_000)}-00000000.ts,0.000000,2.000000\n`);

    const lines: Record<string, unknown>[] = [];
    const report = await recoverCameraSpool({ outbox: s.outbox, media, clockOffset, log: recordingLogger((l) => lines.push(l)) }, 'cam1', camDir);
    assert.deepEqual(
      report.files.map((f) => [f.file, f.outcome]),
      [
        [files[1]!.split('/').pop(), 'enqueued'],
        [files[2]!.split('/').pop(), 'enqueued'],
        [files[3]!.split('/').pop(), 'enqueued'],
        [empty.split('/').pop(), 'empty_deleted'],
        [garbage.split('/').pop(), 'unplayable'],
        [lost.split('/').pop(), 'enqueued'],
      ],
    );

    const segs = segmentsOf(s.outbox);
    assert.equal(segs.length, 5, 'segment 0 plus four recovered');
    const byPath = new Map(segs.map((x) => [x.files[0]!.path, x]));
    for (const f of [...files, lost]) {
      const it = byPath.get(f);
      assert.ok(it, `${f} is in the outbox`);
      assert.equal(it.files.length, 1);
      assert.equal(it.segment.sha256, await sha256Of(f));
      assert.equal(it.segment.size, (await stat(f)).size);
      assert.equal(it.files[0]!.sha256, it.segment.sha256);
    }
    const [r1, r2, r3] = [1, 2, 3].map((i) => byPath.get(files[i]!)!.segment);
    // Listed segments: the list's duration and the run's real id; the unlisted one: ffprobe's duration, partial.
    assert.equal(r1!.durationMs, s.durMs[1]);
    assert.equal(r2!.durationMs, s.durMs[2]);
    assert.ok(Math.abs(r3!.durationMs - (await ffprobeFile(files[3]!)).duration * 1000) <= 1);
    for (const r of [r1!, r2!, r3!]) {
      assert.equal(r.runId, s.runId);
      assert.equal(r.codec.recovered, true);
      assert.equal(r.codec.container, 'mpegts');
      assert.deepEqual(r.codec.video, { codec: 'h264', profile: 'Constrained Baseline', width: 320, height: 240, fps: 15 });
      assert.equal((r.codec.audio as { codec: string }).codec, 'aac');
      assert.equal(r.clockOffsetMs, null);
    }
    assert.equal(r1!.codec.partial, undefined);
    assert.equal(r2!.codec.partial, undefined);
    assert.equal(r3!.codec.partial, true);
    // Starts: modification time minus duration, never before the previous segment's end.
    const end0 = s.t0 + s.durMs[0]!;
    assert.equal(Date.parse(r1!.start), end0, 'moved to the end of segment 0 (estimate was 300 ms earlier)');
    assert.equal(Date.parse(r2!.start), s.mtimes[2]! - s.durMs[2]!);
    assert.ok(Date.parse(r2!.start) >= Date.parse(r1!.start) + r1!.durationMs);
    assert.ok(Date.parse(r3!.start) >= Date.parse(r2!.start) + r2!.durationMs);
    for (let i = 1; i < segs.length; i++) {
      const prev = segs[i - 1]!.segment;
      assert.ok(Date.parse(segs[i]!.segment.start) >= Date.parse(prev.start) + prev.durationMs, `segment ${i} does not overlap its predecessor`);
    }
    const lostSeg = byPath.get(lost)!.segment;
    assert.equal(lostSeg.codec.partial, true);
    assert.match(lostSeg.runId, UUID);
    assert.equal(lostSeg.runId, deterministicUuid('cam1/cccccccc'));
    assert.notEqual(lostSeg.runId, deterministicUuid('cam1/dddddddd'));

    // Tidied: empty gone, garbage set aside, temp and old unplayable untouched, every list removed.
    const left = await readdir(camDir);
    assert.ok(!left.includes(empty.split('/').pop()!));
    assert.ok(left.includes(`${garbage.split('/').pop()}.unplayable`));
    assert.ok(!left.includes(garbage.split('/').pop()!));
    assert.ok(left.includes('.tmp-123.ts') && left.includes('older.ts.unplayable'));
    assert.deepEqual(await readdir(join(camDir, '.runs')), []);
    assert.deepEqual(report.listsRemoved.sort(), [`${s.runId}.csv`, staleList].sort());
    assert.ok(lines.some((l) => l.msg === 'recovery: segment start moved past the previous segment end' && l.shiftMs === 300));

    // The next start (outbox reopened from disk): nothing more to do, nothing duplicated.
    await s.outbox.close();
    const again = await Outbox.open({ spoolDir: s.spoolDir });
    const second = await recoverCameraSpool({ outbox: again, media, clockOffset }, 'cam1', camDir);
    assert.deepEqual(second.files, []);
    assert.equal(segmentsOf(again).length, 5);
    await again.close();
  });

  test('an agent killed again in the middle of recovery: the next start finishes it, nothing lost or duplicated', async () => {
    const s = await killedAgentSpool('crash');
    // A sink that dies (like the agent) when the second orphan is handed over.
    let calls = 0;
    const dying = {
      list: () => s.outbox.list(),
      gap: (g: Parameters<Outbox['gap']>[0]) => s.outbox.gap(g),
      segmentClosed: async (seg: ClosedSegment) => {
        if (++calls === 2) throw new Error('killed');
        await s.outbox.segmentClosed(seg);
      },
    };
    const first = await recoverCameraSpool({ outbox: dying, media, clockOffset }, 'cam1', s.camDir);
    assert.deepEqual(first.files.map((f) => f.outcome), ['enqueued', 'failed', 'enqueued']);
    assert.deepEqual(await readdir(join(s.camDir, '.runs')), [`${s.runId}.csv`], 'the list stays while a file of its run waits');
    assert.equal(segmentsOf(s.outbox).length, 3);
    await s.outbox.close();

    const ob = await Outbox.open({ spoolDir: s.spoolDir });
    const second = await recoverCameraSpool({ outbox: ob, media, clockOffset }, 'cam1', s.camDir);
    assert.deepEqual(second.files.map((f) => [f.file, f.outcome, f.partial]), [[s.files[2]!.split('/').pop(), 'enqueued', false]], 'only the file left over, still with its list line');
    const segs = segmentsOf(ob);
    assert.deepEqual(segs.map((x) => x.files[0]!.path).sort(), [...s.files].sort(), 'each file exactly once');
    for (let i = 1; i < segs.length; i++) {
      const prev = segs[i - 1]!.segment;
      assert.ok(Date.parse(segs[i]!.segment.start) >= Date.parse(prev.start) + prev.durationMs);
    }
    assert.deepEqual(await readdir(join(s.camDir, '.runs')), []);
    assert.equal((await recoverCameraSpool({ outbox: ob, media, clockOffset }, 'cam1', s.camDir)).files.length, 0);
    await ob.close();
  });

  test('a file still being written (an ffmpeg finishing after SIGTERM) is hashed only once it has been quiet', async () => {
    const spoolDir = join(dir.path, 'growing');
    const camDir = join(spoolDir, 'cameras', 'cam1');
    await mkdir(camDir, { recursive: true });
    const f = join(camDir, `${stamp(Date.now())}-eeeeeeee.ts`);
    // ffmpeg's writes stamp the file with this machine's clock, which is the test's (set explicitly: faketime moves
    // the process's clock, not the file system's).
    const touch = () => utimes(f, new Date(), new Date());
    await copyFile(gen[0]!.path, f);
    await touch();
    const tail = await import('node:fs/promises').then((m) => m.readFile(gen[1]!.path));
    setTimeout(() => void appendFile(f, tail).then(touch), 300);
    const ob = await Outbox.open({ spoolDir });
    const t = Date.now();
    const r = await recoverCameraSpool({ outbox: ob, media, clockOffset, settleMs: 800 }, 'cam1', camDir);
    assert.ok(Date.now() - t >= 800);
    assert.deepEqual(r.files.map((x) => x.outcome), ['enqueued']);
    const [it] = segmentsOf(ob);
    assert.equal(it!.segment.sha256, await sha256Of(f), 'the hash covers the bytes written after recovery began');
    assert.equal(it!.segment.size, (await stat(f)).size);
    await ob.close();
  });
});
