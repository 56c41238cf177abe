import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { adjacentBookmark, callSpan, cameraLane, caseQuery, caseStateFromQuery, gridColumns, laneProblems, selectedCameras, shortcutFor, stepMoment, viewRange, type WindowArrival } from '../src/lib/case-view.ts';

const A = '0b8e6f6a-1c3d-4e5f-8a9b-7c6d5e4f3a21';
const B = '6f1c2b0e-8a4d-4a51-9d7e-2f3b1c0d9e77';

describe('case state in the URL', () => {
  test('round trip: moment, cameras, speed; language kept; defaults not written', () => {
    const q = caseQuery({ t: Date.parse('2026-11-23T18:05:10.250Z'), cams: [A, B], speed: 2 }, new URLSearchParams('lang=en'));
    assert.equal(q.toString(), `lang=en&t=2026-11-23T18%3A05%3A10.250Z&cams=${A}%2C${B}&speed=2`);
    assert.deepEqual(caseStateFromQuery(q), { t: Date.parse('2026-11-23T18:05:10.250Z'), cams: [A, B], speed: 2 });
    assert.equal(caseQuery({ t: null, cams: null, speed: 1 }, new URLSearchParams('t=x&speed=2')).toString(), '');
  });

  test('malformed values fall back to the defaults', () => {
    assert.deepEqual(caseStateFromQuery(new URLSearchParams('t=yesterday&cams=nope&speed=3')), { t: null, cams: null, speed: 1 });
    assert.deepEqual(caseStateFromQuery(new URLSearchParams('t=2026-11-23T18:05:10+09:00')), { t: null, cams: null, speed: 1 }, 'UTC only');
    assert.deepEqual(caseStateFromQuery(new URLSearchParams('cams=')).cams, [], 'an empty list: no camera shown');
  });

  test('selected cameras keep the case order; unknown ones are dropped', () => {
    assert.deepEqual(selectedCameras([A, B], [B, 'x', A]), [A, B]);
    assert.deepEqual(selectedCameras([A, B], null), [A, B]);
    assert.deepEqual(selectedCameras([A, B], [B]), [B]);
  });

  test('grid columns for 1 to 9 tiles', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8, 9].map(gridColumns), [1, 2, 2, 2, 3, 3, 3, 3, 3]);
  });
});

describe('timeline lanes', () => {
  const range = { from: new Date('2026-11-23T18:00:00Z'), to: new Date('2026-11-23T18:10:00Z') };
  const w: WindowArrival = {
    from: '2026-11-23T18:00:00Z',
    to: '2026-11-23T18:10:00Z',
    arrival: {
      futureMs: 120_000,
      stored: [{ from: '2026-11-23T18:01:00Z', to: '2026-11-23T18:04:00Z' }],
      atStore: [{ from: '2026-11-23T18:05:00Z', to: '2026-11-23T18:08:00Z' }],
      missing: [{ from: '2026-11-23T18:00:00Z', to: '2026-11-23T18:01:00Z' }],
      gaps: [{ from: '2026-11-23T18:04:00Z', to: '2026-11-23T18:05:00Z', reason: 'camera_offline', detail: 'RTSP timeout' }],
    },
  };

  test('every part of the window is drawn as what it is; the part after now is not yet', () => {
    const spans = cameraLane(range, [w]);
    assert.deepEqual(
      spans.map((s) => [s.kind, s.left, Math.round(s.width * 1000) / 1000]),
      [
        ['footage', 0.1, 0.3],
        ['at-store', 0.5, 0.3],
        ['unrecorded', 0, 0.1],
        ['gap', 0.4, 0.1],
        ['not-yet', 0.8, 0.2],
      ],
    );
    assert.deepEqual(laneProblems(spans).map((s) => s.kind), ['unrecorded', 'gap', 'at-store', 'not-yet']);
    assert.equal(spans.find((s) => s.kind === 'gap')!.reason, 'camera_offline');
  });

  test('a window shorter than the range draws only inside itself; spans are clipped to the range', () => {
    const short: WindowArrival = { from: '2026-11-23T18:09:00Z', to: '2026-11-23T18:12:00Z', arrival: { futureMs: 0, stored: [{ from: '2026-11-23T18:09:00Z', to: '2026-11-23T18:12:00Z' }], atStore: [], missing: [], gaps: [] } };
    const spans = cameraLane(range, [short]);
    assert.deepEqual(spans.map((s) => [s.kind, s.start, s.end]), [['footage', Date.parse('2026-11-23T18:09:00Z'), Date.parse('2026-11-23T18:10:00Z')]]);
  });

  test('calls on the bar, the range around a moment outside it', () => {
    assert.deepEqual(callSpan(range, { startUtc: '2026-11-23T18:05:00Z', endUtc: '2026-11-23T18:06:00Z' }), { left: 0.5, width: 0.09999999999999998 });
    const r = viewRange({ from: '2026-11-23T18:00:00Z', to: '2026-11-23T18:10:00Z' }, Date.parse('2026-11-23T18:20:00Z'));
    assert.equal(r.to.toISOString(), '2026-11-23T18:20:01.000Z');
    assert.equal(viewRange({ from: '2026-11-23T18:00:00Z', to: '2026-11-23T18:10:00Z' }, null).from.toISOString(), '2026-11-23T18:00:00.000Z');
  });
});

describe('bookmarks and keys', () => {
  const bms = [{ at: '2026-11-23T18:05:10Z' }, { at: '2026-11-23T18:05:01Z' }, { at: '2026-11-23T18:06:00Z' }];
  const T = (s: string) => Date.parse(`2026-11-23T18:${s}Z`);
  test('next and previous bookmark from a moment; previous walks back from one just reached', () => {
    assert.equal(adjacentBookmark(bms, T('05:00'), 1)!.at, '2026-11-23T18:05:01Z');
    assert.equal(adjacentBookmark(bms, T('05:10'), 1)!.at, '2026-11-23T18:06:00Z', 'not the one we are on');
    assert.equal(adjacentBookmark(bms, T('06:30'), 1), null);
    assert.equal(adjacentBookmark(bms, T('05:10'), -1)!.at, '2026-11-23T18:05:01Z');
    assert.equal(adjacentBookmark(bms, T('05:10.3'), -1)!.at, '2026-11-23T18:05:01Z', 'just after one, still walks back');
    assert.equal(adjacentBookmark(bms, T('05:00'), -1), null);
  });

  test('shortcuts; none while typing or with a modifier', () => {
    assert.equal(shortcutFor({ key: ' ' }), 'toggle');
    assert.equal(shortcutFor({ key: 'ArrowRight' }), 'forward5');
    assert.equal(shortcutFor({ key: ',' }), 'frameBack');
    assert.equal(shortcutFor({ key: ']' }), 'nextBookmark');
    assert.equal(shortcutFor({ key: '+' }), 'faster');
    assert.equal(shortcutFor({ key: ' ', inField: true }), null);
    assert.equal(shortcutFor({ key: 'ArrowLeft', ctrlKey: true }), null);
    assert.equal(shortcutFor({ key: 'q' }), null);
  });

  test('steps stay inside the range', () => {
    const range = { from: new Date(T('00:00')), to: new Date(T('10:00')) };
    assert.equal(stepMoment(range, T('00:02'), -5000), T('00:00'));
    assert.equal(stepMoment(range, T('05:00'), 40), T('05:00') + 40);
  });
});
