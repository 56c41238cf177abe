import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { gapReasonLabel, healthLabel, hrefWithLang, langFromQuery, messages } from '../src/lib/i18n.ts';

describe('languages', () => {
  test('Japanese unless the URL asks for English', () => {
    assert.equal(langFromQuery(new URLSearchParams('')), 'ja');
    assert.equal(langFromQuery(new URLSearchParams('lang=en')), 'en');
    assert.equal(langFromQuery(new URLSearchParams('lang=fr')), 'ja');
  });

  test('switching language keeps the rest of the URL', () => {
    assert.equal(hrefWithLang('/cameras/c1?from=a&to=b', 'en'), '/cameras/c1?from=a&to=b&lang=en');
    assert.equal(hrefWithLang('/cameras/c1?from=a&lang=en&to=b', 'ja'), '/cameras/c1?from=a&to=b');
    assert.equal(hrefWithLang('/', 'ja'), '/');
  });

  test('both dictionaries have every message, and the site-zone label reads as asked', () => {
    assert.deepEqual(Object.keys(messages.en).sort(), Object.keys(messages.ja).sort());
    assert.equal(messages.ja.displayZone('Asia/Tokyo (JST)'), '表示時刻: Asia/Tokyo (JST)');
    assert.equal(messages.en.displayZone('Asia/Tokyo (JST)'), 'Times shown in: Asia/Tokyo (JST)');
  });

  test('every gap reason the server knows has a label; an unknown one is shown as itself', () => {
    for (const r of ['camera_offline', 'recorder_restart', 'evicted', 'agent_down', 'other']) {
      for (const m of [messages.ja, messages.en]) assert.notEqual(gapReasonLabel(m, r), r);
    }
    assert.equal(gapReasonLabel(messages.ja, 'camera_offline'), 'カメラ停止');
    assert.equal(gapReasonLabel(messages.ja, undefined), '理由の報告なし');
    assert.equal(gapReasonLabel(messages.en, 'solar_flare'), 'solar_flare');
    assert.equal(healthLabel(messages.ja, 'recording'), '録画中');
    assert.equal(healthLabel(messages.ja, 'weird'), 'weird');
  });

  test('durations read naturally', () => {
    assert.equal(messages.ja.duration(6000), '6 秒');
    assert.equal(messages.ja.duration(90_000), '1 分 30 秒');
    assert.equal(messages.ja.duration(3_600_000), '1 時間');
    assert.equal(messages.en.duration(3_900_000), '1 h 5 min');
  });
});
