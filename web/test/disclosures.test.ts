import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatRanges, parseRanges, regionFromPercent, searchWindow } from '../src/lib/disclosures.ts';

describe('disclosure masking as typed', () => {
  test('ranges: from-to separated by commas (Japanese punctuation too)', () => {
    assert.deepEqual(parseRanges('3-7.5, 12-14'), [{ fromS: 3, toS: 7.5 }, { fromS: 12, toS: 14 }]);
    assert.deepEqual(parseRanges('3〜7.5、12 - 14'), [{ fromS: 3, toS: 7.5 }, { fromS: 12, toS: 14 }]);
    assert.deepEqual(parseRanges('  '), []);
    assert.equal(parseRanges('7-3'), null);
    assert.equal(parseRanges('3-3'), null);
    assert.equal(parseRanges('3'), null);
    assert.equal(parseRanges('a-b'), null);
    assert.equal(parseRanges('-1-2'), null);
    assert.equal(formatRanges(parseRanges('3-7.5, 12-14')!), '3-7.5, 12-14');
  });

  test('regions: percent to fractions, inside the frame, time ordered', () => {
    assert.deepEqual(regionFromPercent({ left: 25, top: 25, width: 40, height: 40, fromS: 2, toS: 6 }), { x: 0.25, y: 0.25, w: 0.4, h: 0.4, fromS: 2, toS: 6 });
    assert.equal(regionFromPercent({ left: 80, top: 0, width: 30, height: 10, fromS: 0, toS: 1 }), null);
    assert.equal(regionFromPercent({ left: 0, top: 0, width: 0, height: 10, fromS: 0, toS: 1 }), null);
    assert.equal(regionFromPercent({ left: 0, top: 0, width: 10, height: 10, fromS: 5, toS: 1 }), null);
    assert.equal(regionFromPercent({ left: Number.NaN, top: 0, width: 10, height: 10, fromS: 0, toS: 1 }), null);
  });

  test('search window: whole days in Japan, blanks left to the server', () => {
    assert.deepEqual(searchWindow('2026-11-01', '2026-11-30'), { searchFrom: '2026-10-31T15:00:00.000Z', searchTo: '2026-11-30T15:00:00.000Z' });
    assert.deepEqual(searchWindow('', ''), {});
    assert.deepEqual(searchWindow('2026-11-01', 'soon'), { searchFrom: '2026-10-31T15:00:00.000Z' });
  });
});
