/** The contract's own rules: enums without repeats, paths from the templates, headers that parse back, strict calls. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as E from '@mamoru/contract/enums';
import {
  AGENT_ROUTES,
  agentPaths,
  CallPayloadSchema,
  CommandAckBodySchema,
  errorOf,
  fillAgentRoute,
  ErrorBodySchema,
  GapBodySchema,
  headerJson,
  segmentHeaders,
  SegmentHeadersSchema,
  SegmentMetaSchema,
} from '@mamoru/contract';

test('every enum is a non-empty list of distinct snake/kebab-case codes', () => {
  const lists = Object.entries(E).filter(([, v]) => Array.isArray(v)) as [string, readonly string[]][];
  assert.ok(lists.length >= 20, `found ${lists.length} enums`);
  for (const [name, values] of lists) {
    assert.ok(values.length > 0, name);
    assert.equal(new Set(values).size, values.length, `${name} repeats a value`);
    for (const v of values) assert.match(v, /^[a-z][a-z0-9_-]*$/, `${name}: ${v}`);
  }
});

test('agent paths fill the route templates and encode each parameter', () => {
  assert.equal(agentPaths.heartbeat(), '/api/v1/agent/heartbeat');
  assert.equal(agentPaths.segment('cam-1', '2026-11-23T09:00:00.000Z'), '/api/v1/agent/segments/cam-1/2026-11-23T09%3A00%3A00.000Z');
  assert.equal(agentPaths.segmentMeta('cam-1', '2026-11-23T09:00:00.000Z'), '/api/v1/agent/segments/cam-1/2026-11-23T09%3A00%3A00.000Z/meta');
  assert.equal(agentPaths.callVersion('main-pbx:1700000000.12', 3), '/api/v1/agent/calls/main-pbx%3A1700000000.12/versions/3');
  assert.equal(agentPaths.callRecording('main-pbx:1.2', 'a b#.wav'), '/api/v1/agent/calls/main-pbx%3A1.2/recordings/a%20b%23.wav');
  assert.equal(agentPaths.commandAck('c/1'), '/api/v1/agent/commands/c%2F1/ack');
  // Every template's parameters are filled: no `{` left, and a missing one is an error, not `undefined` in a URL.
  for (const template of Object.values(AGENT_ROUTES)) {
    const params = Object.fromEntries([...template.matchAll(/\{(\w+)\}/g)].map((m) => [m[1], 'x']));
    assert.equal(fillAgentRoute(template, params as never), `/api/v1/agent${template.replace(/\{\w+\}/g, 'x')}`);
  }
  assert.throws(() => fillAgentRoute(AGENT_ROUTES.camera, {} as never), /missing path parameter key/);
});

test('segment headers carry the facts the centre parses back', () => {
  const meta = SegmentMetaSchema.parse({
    sha256: 'a'.repeat(64),
    size: 1234,
    durationMs: 2000,
    mediaType: 'video/mp2t',
    codec: { video: 'h264', note: '日本' },
    runId: '0b6f2f4e-8c1e-4c59-9d1a-3f3e2b1c0a99',
    clockOffsetMs: -12,
  });
  const h = segmentHeaders(meta);
  for (const v of Object.values(h)) assert.match(v, /^[\x20-\x7e]*$/, 'header values are ASCII');
  const back = SegmentHeadersSchema.parse({ ...h, 'content-type': 'video/mp2t' });
  assert.equal(back['x-segment-sha256'], meta.sha256);
  assert.equal(back['x-segment-size'], meta.size);
  assert.equal(back['x-segment-duration-ms'], meta.durationMs);
  assert.equal(back['x-segment-run'], meta.runId);
  assert.equal(back['x-clock-offset-ms'], meta.clockOffsetMs);
  assert.deepEqual(back['x-segment-codec'], meta.codec);
  // The header holds a codec object, checked by the metadata route's schema: JSON that is not an object is refused.
  for (const bad of ['null', '123', '"str"', '[1,2]', 'not json']) assert.equal(SegmentHeadersSchema.safeParse({ ...h, 'content-type': 'video/mp2t', 'x-segment-codec': bad }).success, false, bad);
  // Without a run id or an offset those headers are left out; a codec object too large for a header too.
  const bare = segmentHeaders({ ...meta, runId: null, clockOffsetMs: null, codec: { x: 'y'.repeat(3000) } });
  assert.deepEqual(Object.keys(bare).sort(), ['x-segment-duration-ms', 'x-segment-sha256', 'x-segment-size']);
  assert.equal(headerJson({ a: 'é' }), '{"a":"\\u00e9"}');
});

test('bodies: defaults, bounds and strictness', () => {
  const gap = GapBodySchema.parse({ cameraKey: 'cam-1', start: '2026-11-23T09:00:00Z', end: '2026-11-23T18:00:00+09:00', reason: 'evicted' });
  assert.equal(gap.detail, null);
  assert.equal(gap.end.getTime(), gap.start.getTime());
  assert.equal(GapBodySchema.safeParse({ ...gap, start: '2026-11-23T09:00:00', end: '2026-11-23T09:00:01Z', reason: 'evicted' }).success, false, 'a time without a zone is refused');
  assert.equal(GapBodySchema.safeParse({ cameraKey: 'cam-1', start: '2026-11-23T09:00:00Z', end: '2026-11-23T09:00:01Z', reason: 'power_cut' }).success, false);
  assert.equal(CommandAckBodySchema.safeParse({ status: 'done', extra: 1 }).success, false, 'acks are strict');
  assert.equal(SegmentMetaSchema.safeParse({ sha256: 'A'.repeat(64), size: 1, durationMs: 1, mediaType: 'video/mp2t' }).success, false, 'upper-case hex is refused');
});

test('a call payload is strict: an unknown field is refused, not dropped', () => {
  const payload = {
    pbxId: 'main-pbx',
    linkedId: '1700000000.12',
    adapter: 'asterisk-files',
    direction: 'inbound',
    disposition: 'answered',
    caller: { number: '0312345678', name: null, e164: '+81312345678' },
    called: { number: '201', e164: null },
    operator: { extension: '201', name: '佐藤', source: 'dstchannel' },
    times: {
      startUtc: '2026-11-23T09:00:00.000Z',
      answerUtc: '2026-11-23T09:00:05.000Z',
      endUtc: '2026-11-23T09:03:00.000Z',
      durationS: 180,
      talkS: 175,
      zone: 'Asia/Tokyo',
      zoneSource: 'uniqueid',
      raw: { start: '2026-11-23 18:00:00', answer: null, end: null },
    },
    notice: { played: 'yes', method: 'cdr_variable', atUtc: null },
    legs: [],
    recordings: [{ name: 'in-201.wav', role: 'mixed', format: 'wav', sampleRate: 8000, channels: 1, durationS: 175, size: 2_800_000, sha256: 'b'.repeat(64) }],
    flags: [],
  };
  assert.equal(CallPayloadSchema.safeParse(payload).success, true);
  assert.equal(CallPayloadSchema.safeParse({ ...payload, extra: true }).success, false);
  assert.equal(CallPayloadSchema.safeParse({ ...payload, times: { ...payload.times, zone: 'Mars/Olympus' } }).success, false);
  assert.equal(CallPayloadSchema.safeParse({ ...payload, recordings: [{ ...payload.recordings[0], name: '../x.wav' }] }).success, false);
});

test('the error shape', () => {
  const body = { error: { code: 'camera_not_found', message: 'no such camera', requestId: 'r1' } };
  assert.equal(ErrorBodySchema.safeParse(body).success, true);
  assert.deepEqual(errorOf(body), { code: 'camera_not_found', message: 'no such camera', details: undefined });
  assert.deepEqual(errorOf('<html>'), { code: null, message: null, details: undefined });
});
