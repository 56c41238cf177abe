/** The recorder's pure parts: ffmpeg command line, log/list parsing, backoff, clock anchor, exit classification. */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import { createFfmpegMediaTool } from '../src/media/ffmpeg-media-tool.ts';
import { buildSegmenterArgs, segmenterInputList, parseOpeningLine, parseSegmentList, parseStreamFacts, parseStreamLine, type SegmenterOptions } from '../src/media/media-tool.ts';
import { Backoff } from '../src/lib/backoff.ts';
import { sha256File, sha256SpoolFile } from '../src/state/file-hash.ts';
import { ClockAnchor } from '../src/recorder/clock-anchor.ts';
import { classifyRunEnd, redactCredentials, stderrExcerpt } from '../src/recorder/exit-reason.ts';
import { makeTestClip, startFakeCamera, startRtspRelay } from '../../test-support/src/rtsp-camera.ts';
import { isAlive, tempDir, waitFor } from './helpers/recorder-harness.ts';

const base: SegmenterOptions = {
  inputUrl: 'rtsp://admin:secret@10.0.0.5/stream1',
  transport: 'tcp',
  timeoutUs: 5_000_000,
  segmentSeconds: 60,
  outputPattern: '/spool/cam1/%Y%m%dT%H%M%SZ-abcd1234.ts',
  listPath: '/spool/cam1/.runs/x.csv',
  audio: 'copy',
};

const after = (args: string[], flag: string) => args[args.indexOf(flag) + 1];

describe('ffmpeg segmenter command line', () => {
  test('stream copy into wall-clock aligned MPEG-TS segments with a CSV list and no timestamp reset', () => {
    const a = buildSegmenterArgs(base);
    // The camera URL and its RTSP options come through fd 3, never the argv (any local user can read that).
    assert.equal(after(a, '-i'), 'pipe:3');
    assert.equal(after(a, '-f'), 'concat');
    assert.ok(!a.some((x) => x.includes('secret') || x.includes('10.0.0.5')), 'no part of the camera URL in the argv');
    assert.equal(after(a, '-protocol_whitelist'), 'pipe,rtsp,rtsps,rtp,srtp,udp,tcp,tls', 'the input cannot open local files');
    assert.equal(
      segmenterInputList(base),
      "ffconcat version 1.0\nfile 'rtsp://admin:secret@10.0.0.5/stream1'\noption rtsp_transport tcp\noption timeout 5000000\n",
    );
    assert.equal(segmenterInputList({ ...base, inputUrl: "rtsp://a:it's@h/x" }).split('\n')[1], "file 'rtsp://a:it'\\''s@h/x'", 'a quote in a password is escaped');
    assert.throws(() => segmenterInputList({ ...base, inputUrl: 'rtsp://a:b\nfile /etc/passwd@h/x' }), /control character/);
    assert.equal(after(a, '-c:v'), 'copy');
    assert.equal(after(a, '-c:a'), 'copy');
    assert.equal(a[a.lastIndexOf('-f') + 1], 'segment');
    assert.equal(after(a, '-segment_format'), 'mpegts');
    assert.ok(!a.includes('-segment_format_options') && !a.some((x) => x.includes('flush_packets')), 'no per-packet flush: a dying agent stops ffmpeg gracefully through the launcher');
    assert.equal(after(a, '-segment_time'), '60');
    assert.equal(after(a, '-segment_atclocktime'), '1');
    assert.equal(after(a, '-strftime'), '1');
    assert.equal(after(a, '-segment_list'), base.listPath);
    assert.equal(after(a, '-segment_list_type'), 'csv');
    assert.equal(after(a, '-segment_list_flags'), 'live');
    assert.equal(after(a, '-progress'), 'pipe:1');
    assert.equal(a.at(-1), base.outputPattern);
    assert.ok(!a.includes('-reset_timestamps'), 'timestamps continue within a run');
    assert.ok(!a.some((x) => /libx26|h264_|hevc_|-vf|-filter/.test(x)), 'never re-encodes video');
    assert.deepEqual(a.filter((x, i) => a[i - 1] === '-map'), ['0:v:0', '0:a:0?']);
  });

  test('audio modes: AAC transcode for G.711, or no audio', () => {
    const aac = buildSegmenterArgs({ ...base, audio: 'aac' });
    assert.equal(after(aac, '-c:a'), 'aac');
    assert.equal(after(aac, '-c:v'), 'copy');
    const none = buildSegmenterArgs({ ...base, audio: 'none', transport: 'udp', segmentSeconds: 2 });
    assert.ok(none.includes('-an'));
    assert.ok(!none.includes('-c:a'));
    assert.match(segmenterInputList({ ...base, transport: 'udp' }), /\noption rtsp_transport udp\n/);
    assert.equal(after(none, '-segment_time'), '2');
  });

  test('a non-positive segment length is refused', () => {
    assert.throws(() => buildSegmenterArgs({ ...base, segmentSeconds: 0 }), /segmentSeconds/);
    assert.throws(() => buildSegmenterArgs({ ...base, segmentSeconds: Number.NaN }), /segmentSeconds/);
  });
});

describe('ffmpeg output parsing', () => {
  test('segment list CSV, including a quoted name and a torn last line', () => {
    const list = parseSegmentList('20261123T193746Z-x.ts,0.000000,4.399667\n"/a/b,c.ts",4.400000,5.399667\n20261123T193750Z-x.ts,5.4000');
    assert.deepEqual(list, [
      { file: '20261123T193746Z-x.ts', startS: 0, endS: 4.399667 },
      { file: 'b,c.ts', startS: 4.4, endS: 5.399667 },
    ]);
    assert.deepEqual(parseSegmentList(''), []);
  });

  test('Opening lines name the segment file; other lines do not', () => {
    assert.equal(parseOpeningLine("[segment @ 0x5556d010ab80] Opening '/spool/c/20261123T193749Z-x.ts' for writing"), '/spool/c/20261123T193749Z-x.ts');
    assert.equal(parseOpeningLine("[hls @ 0x1] Opening 'x.ts' for writing"), null);
    assert.equal(parseOpeningLine('frame=  125 fps= 19 q=-1.0'), null);
  });

  test('input stream lines give kind and codec', () => {
    assert.deepEqual(parseStreamLine('  Stream #0:1: Audio: pcm_alaw, 8000 Hz, mono, s16, 64 kb/s'), { index: 1, kind: 'audio', codec: 'pcm_alaw' });
    assert.deepEqual(parseStreamLine('  Stream #0:0: Video: h264 (Constrained Baseline), yuv420p(progressive), 640x360'), { index: 0, kind: 'video', codec: 'h264' });
    assert.deepEqual(parseStreamLine('  Stream #0:2: Data: none'), { index: 2, kind: 'data', codec: 'none' });
    assert.equal(parseStreamLine('  Stream mapping:'), null);
  });

  test('output stream lines give the facts ffprobe would (codec, profile, size, fps, rate, channels)', () => {
    assert.deepEqual(
      parseStreamFacts('  Stream #0:0(und): Video: h264 (Constrained Baseline) (avc1 / 0x31637661), yuv420p(progressive), 640x360 [SAR 1:1 DAR 16:9], q=2-31, 609 kb/s, 15 fps, 15 tbr, 90k tbn (default)'),
      { index: 0, kind: 'video', codec: 'h264', profile: 'Constrained Baseline', width: 640, height: 360, fps: 15, sampleRate: null, channels: null },
    );
    assert.deepEqual(
      parseStreamFacts('  Stream #0:0: Video: hevc (Main), yuv420p(tv), 1920x1080, q=2-31, 29.97 fps, 29.97 tbr, 90k tbn'),
      { index: 0, kind: 'video', codec: 'hevc', profile: 'Main', width: 1920, height: 1080, fps: 29.97, sampleRate: null, channels: null },
    );
    // No profile, only a fourcc; no fps (a variable-rate camera prints tbr/tbn only).
    assert.deepEqual(
      parseStreamFacts('  Stream #0:0: Video: mjpeg (mp4v / 0x7634706D), yuvj420p(pc, bt470bg/unknown/unknown), 1280x720, 90k tbr, 90k tbn'),
      { index: 0, kind: 'video', codec: 'mjpeg', profile: null, width: 1280, height: 720, fps: null, sampleRate: null, channels: null },
    );
    assert.deepEqual(
      parseStreamFacts('  Stream #0:1(und): Audio: aac (LC), 16000 Hz, mono, fltp, 32 kb/s (default)'),
      { index: 1, kind: 'audio', codec: 'aac', profile: 'LC', width: null, height: null, fps: null, sampleRate: 16000, channels: 1 },
    );
    assert.deepEqual(parseStreamFacts('  Stream #0:1: Audio: pcm_mulaw, 8000 Hz, 3 channels, s16, 64 kb/s'), { index: 1, kind: 'audio', codec: 'pcm_mulaw', profile: null, width: null, height: null, fps: null, sampleRate: 8000, channels: 3 });
    assert.equal(parseStreamFacts('  Stream #0:1: Audio: aac (LC), 48000 Hz, stereo, fltp')?.channels, 2);
    assert.equal(parseStreamFacts('    Metadata:'), null);
    assert.equal(parseStreamFacts('  Stream #0:0 -> #0:0 (copy)'), null, 'a stream mapping line is not a stream');
  });

  test('the adapter reports the output streams of a real ffmpeg run before the first segment closes', async () => {
    const dir = await tempDir('outstreams');
    const relay = await startRtspRelay();
    try {
      const clip = await makeTestClip({ dir: join(dir.path, 'clips'), width: 320, height: 180, audio: 'pcm_alaw' });
      const camera = await startFakeCamera(relay, { clip });
      const events: string[] = [];
      let out: ReturnType<typeof parseStreamFacts>[] = [];
      const proc = createFfmpegMediaTool().startSegmenter(
        { inputUrl: camera.url, transport: 'udp', timeoutUs: 5e6, segmentSeconds: 1, outputPattern: join(dir.path, '%Y%m%dT%H%M%SZ.ts'), listPath: join(dir.path, 'list.csv'), audio: 'aac' },
        {
          onInputStreams: (s) => events.push(`input ${s.map((x) => x.codec).join(',')}`),
          onOutputStreams: (s) => {
            events.push('output');
            out = s;
          },
          onSegmentOpened: () => events.push('opened'),
        },
      );
      await waitFor('a second segment', () => events.filter((e) => e === 'opened').length >= 2, 15_000);
      await proc.stop();
      await camera.close();
      assert.deepEqual(events.slice(0, 4), ['input h264,pcm_alaw', 'opened', 'output', 'opened'], events.join(' | '));
      assert.deepEqual(out, [
        { index: 0, kind: 'video', codec: 'h264', profile: 'Constrained Baseline', width: 320, height: 180, fps: 15, sampleRate: null, channels: null },
        { index: 1, kind: 'audio', codec: 'aac', profile: 'LC', width: null, height: null, fps: null, sampleRate: 16000, channels: 1 },
      ]);
    } finally {
      await relay.close();
      await dir.remove();
    }
  });
});

describe('the test relay', () => {
  test('a viewer whose UDP ports another process took gets the next free pair, not a 500', async () => {
    const dir = await tempDir('relay-ports');
    const count = 32;
    // A block that is free now; the relay starts on it, then everything in it that is still free is taken but the
    // last four ports, as another relay beside this one would take them.
    let start = 0;
    for (let b = 31000 + 2 * Math.floor(Math.random() * 200); !start; b += count) {
      const socks = await Promise.all(Array.from({ length: count }, (_, i) => bindUdp(b + i)));
      for (const x of socks) x?.close();
      if (socks.every(Boolean)) start = b;
    }
    const relay = await startRtspRelay({ rtpPortStart: start, rtpPortCount: count });
    const taken: UdpSocket[] = [];
    try {
      const clip = await makeTestClip({ dir: join(dir.path, 'clips'), width: 160, height: 90 });
      const camera = await startFakeCamera(relay, { clip });
      for (let p = start; p < start + count - 4; p++) {
        const x = await bindUdp(p);
        if (x) taken.push(x);
      }
      assert.ok(taken.length >= count - 12, `most of the block taken (${taken.length})`);
      const { stdout } = await promisify(execFile)('ffprobe', ['-v', 'error', '-rtsp_transport', 'udp', '-timeout', '5000000', '-show_entries', 'stream=codec_name', '-of', 'csv=p=0', camera.url], { timeout: 20_000 });
      assert.match(stdout, /h264/);
      await camera.close();
    } finally {
      for (const x of taken) x.close();
      await relay.close();
      await dir.remove();
    }
  });
});

function bindUdp(port: number): Promise<UdpSocket | null> {
  return new Promise((resolve) => {
    const x = createSocket('udp4');
    x.once('error', () => {
      x.close();
      resolve(null);
    });
    x.bind(port, () => resolve(x));
  });
}

describe('file hash', () => {
  test('SHA-256 and size of files across and at the 1 MiB read size, and of an empty file', async () => {
    const dir = await tempDir('hash');
    try {
      for (const size of [0, 1, 1024 * 1024, 1024 * 1024 + 1, 2.5 * 1024 * 1024]) {
        const bytes = randomBytes(size);
        const f = join(dir.path, `f${size}`);
        await writeFile(f, bytes);
        const want = { sha256: createHash('sha256').update(bytes).digest('hex'), size };
        assert.deepEqual(await sha256File(f), want, `size ${size}`);
        assert.deepEqual(await sha256SpoolFile(f), want, `size ${size}, spool`);
      }
      await assert.rejects(sha256File(join(dir.path, 'missing')), /ENOENT/);
      await assert.rejects(sha256SpoolFile(join(dir.path, 'missing')), /ENOENT/);
    } finally {
      await dir.remove();
    }
  });

  test('spool hashes running at the same time share the read buffer and still each get their own file right; the event loop gets turns', async () => {
    const dir = await tempDir('hash-many');
    try {
      const files = await Promise.all(
        Array.from({ length: 8 }, async (_, i) => {
          const bytes = randomBytes(3 * 1024 * 1024 + i * 4099);
          const f = join(dir.path, `f${i}`);
          await writeFile(f, bytes);
          return { f, sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length };
        }),
      );
      let turns = 0;
      const ticker = setInterval(() => turns++, 0);
      const got = await Promise.all(files.map((x) => sha256SpoolFile(x.f)));
      clearInterval(ticker);
      assert.deepEqual(got, files.map(({ sha256, size }) => ({ sha256, size })));
      assert.ok(turns > 0, 'timers ran while the files were hashed');
    } finally {
      await dir.remove();
    }
  });
});

describe('restart backoff', () => {
  test('full jitter under a doubling, capped ceiling; reset starts over', () => {
    let r = 0.999_999_999;
    const b = new Backoff({ baseMs: 100, capMs: 1000, random: () => r });
    assert.deepEqual([b.next(), b.next(), b.next(), b.next(), b.next(), b.next()], [100, 200, 400, 800, 1000, 1000]);
    r = 0;
    assert.equal(b.next(), 0, 'full jitter reaches zero');
    b.reset();
    r = 0.999_999_999;
    assert.equal(b.next(), 100);
    assert.throws(() => new Backoff({ baseMs: 0, capMs: 10 }));
  });
});

describe('wall-clock anchor', () => {
  test('takes the smallest delay seen and follows a drifting camera clock through its window', () => {
    const a = new ClockAnchor(10_000);
    assert.equal(a.offsetMs(), null);
    // True offset 1000 ms; observed with delays 300, 40, 120 ms.
    a.add(1000 + 0 + 300, 0);
    a.add(1000 + 500 + 40, 500);
    a.add(1000 + 1000 + 120, 1000);
    assert.equal(a.offsetMs(), 1040);
    // The camera clock runs slow: stream time advances 1% less than wall time; old minima expire.
    for (let w = 2000; w <= 40_000; w += 500) a.add(1000 + w + 40, w * 0.99);
    const expected = 1000 + 40 + 40_000 * 0.01;
    assert.ok(Math.abs(a.offsetMs()! - expected) <= 100, `offset ${a.offsetMs()} follows drift (≈${expected})`);
  });
});

describe('why a run ended', () => {
  const exit = (code: number | null, stderrTail: string[], signal: NodeJS.Signals | null = null) => ({ code, signal, stderrTail });

  test('exit code 0 without being asked (dead camera after the timeout) is camera_offline', () => {
    const c = classifyRunEnd({ exit: exit(0, ['rtsp://127.0.0.1:41569/cam: Connection timed out']), stalled: false, deliberate: null });
    assert.equal(c.reason, 'camera_offline');
    assert.match(c.detail, /Connection timed out/);
    assert.equal(classifyRunEnd({ exit: exit(0, []), stalled: false, deliberate: null }).reason, 'camera_offline');
  });

  test('refused, 404 and unreachable cameras are camera_offline; a crash or muxer error is recorder_restart', () => {
    for (const line of ['[tcp @ 0x1] Connection to tcp://10.0.0.5:554?timeout=5000000 failed: Connection refused', '[rtsp @ 0x1] method DESCRIBE failed: 404 Not Found', 'rtsp://x: No route to host']) {
      assert.equal(classifyRunEnd({ exit: exit(1, [line]), stalled: false, deliberate: null }).reason, 'camera_offline', line);
    }
    const crash = classifyRunEnd({ exit: exit(null, ['Press [q] to stop, [?] for help'], 'SIGKILL'), stalled: false, deliberate: null });
    assert.equal(crash.reason, 'recorder_restart');
    assert.match(crash.detail, /SIGKILL/);
    const full = classifyRunEnd({ exit: exit(1, ["[segment @ 0x55d0] Failure occurred when ending segment '/spool/cam1/x.ts'", 'av_interleaved_write_frame(): No space left on device']), stalled: false, deliberate: null });
    assert.deepEqual([full.reason, /No space left on device/.test(full.detail)], ['disk_full', true], 'a full disk has its own reason');
    const mux = classifyRunEnd({ exit: exit(1, ['Error initializing output stream 0:0 -- ']), stalled: false, deliberate: null });
    assert.equal(mux.reason, 'recorder_restart');
    assert.match(mux.detail, /Error initializing output stream/);
  });

  test('a watchdog kill is camera_offline; a deliberate restart says why', () => {
    assert.equal(classifyRunEnd({ exit: exit(null, [], 'SIGKILL'), stalled: true, deliberate: null }).reason, 'camera_offline');
    const d = classifyRunEnd({ exit: exit(255, ['Exiting normally, received signal 2.']), stalled: false, deliberate: 'switching audio' });
    assert.deepEqual(d, { reason: 'recorder_restart', detail: 'switching audio' });
  });

  test('camera credentials never appear in a gap detail', () => {
    const line = "rtsp://admin:s3cr%40t@10.0.0.5:554/Streaming/Channels/101?user=admin&password=hunter2: Connection refused";
    const c = classifyRunEnd({ exit: exit(1, [line]), stalled: false, deliberate: null });
    assert.ok(!/s3cr|hunter2|admin:/.test(c.detail), c.detail);
    assert.match(c.detail, /rtsp:\/\/\*\*\*@10\.0\.0\.5/);
    assert.equal(redactCredentials('rtsp://10.0.0.5/live'), 'rtsp://10.0.0.5/live');
    assert.equal(stderrExcerpt(['  Stream #0:0: Video: h264', 'Press [q] to stop, [?] for help']), null);
  });
});

describe('ffprobe adapter', () => {
  test('reads an MPEG-TS file: container, start, duration, codecs; rejects a file that is not media', async () => {
    const dir = await tempDir('probe');
    try {
      const ts = join(dir.path, 'a.ts');
      await promisify(execFile)('ffmpeg', ['-hide_banner', '-nostdin', '-v', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=15', '-t', '2', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '15', '-f', 'mpegts', ts]);
      const media = createFfmpegMediaTool();
      const p = await media.probe(ts);
      assert.equal(p.formatName, 'mpegts');
      assert.ok(p.startTimeS !== null && p.startTimeS >= 1.3 && p.startTimeS <= 1.5, `MPEG-TS mux delay start ${p.startTimeS}`);
      assert.ok(Math.abs(p.durationS! - 2) < 0.1, `duration ${p.durationS}`);
      const v = p.streams.find((s) => s.kind === 'video')!;
      assert.deepEqual([v.codec, v.width, v.height, v.fps], ['h264', 160, 90, 15]);
      const junk = join(dir.path, 'junk.ts');
      await writeFile(junk, 'this is not a transport stream');
      await assert.rejects(media.probe(junk));
      await assert.rejects(media.probe(join(dir.path, 'missing.ts')));
    } finally {
      await dir.remove();
    }
  });
});

describe('ffmpeg under a dead agent', () => {
  test('ffmpeg does not outlive an agent that is SIGKILLed (no unsupervised writer in the spool)', async () => {
    const dir = await tempDir('orphan');
    // A "camera" that accepts the connection and never answers: ffmpeg would wait for its 30 s timeout.
    const sockets = new Set<Socket>();
    const silent = createServer((s) => sockets.add(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as { port: number }).port;
    const tool = fileURLToPath(new URL('../src/media/ffmpeg-media-tool.ts', import.meta.url));
    const script = join(dir.path, 'agent.mts');
    await writeFile(
      script,
      `import { createFfmpegMediaTool } from ${JSON.stringify(tool)};
const p = createFfmpegMediaTool().startSegmenter({ inputUrl: 'rtsp://127.0.0.1:${port}/x', transport: 'tcp', timeoutUs: 30e6, segmentSeconds: 2,
  outputPattern: ${JSON.stringify(join(dir.path, '%s.ts'))}, listPath: ${JSON.stringify(join(dir.path, 'l.csv'))}, audio: 'copy' }, {});
const t = setInterval(() => { if (p.pid) { console.log(p.pid); clearInterval(t); } }, 20);
setInterval(() => {}, 1000);`,
    );
    const agent = spawn(process.execPath, ['--import', 'tsx', script], { cwd: fileURLToPath(new URL('../..', import.meta.url)), stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const pid = await new Promise<number>((resolve, reject) => {
        agent.stdout!.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
        agent.once('exit', () => reject(new Error('agent exited early')));
      });
      await waitFor('ffmpeg connected to the silent camera', () => sockets.size > 0, 10_000);
      assert.ok(isAlive(pid));
      agent.kill('SIGKILL');
      await waitFor('ffmpeg to exit after its parent died', () => !isAlive(pid) || /^\S+ \S+ Z/.test(safeStat(pid)), 5_000);
    } finally {
      agent.kill('SIGKILL');
      for (const s of sockets) s.destroy();
      silent.close();
      await dir.remove();
    }
  });
});

/** /proc/<pid>/stat ('' when gone); state Z = exited, waiting for init to reap it. */
function safeStat(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return '';
  }
}
