import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { areas, gapReasonLabel, healthLabel, hrefWithLang, labelOf, langFromQuery, messages, waitText } from '../src/lib/i18n.ts';

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

  test('each area file has its own keys: none is defined by two areas (a later one would silently win)', () => {
    const owner = new Map<string, string>();
    for (const [area, m] of Object.entries(areas)) {
      assert.deepEqual(Object.keys(m.en).sort(), Object.keys(m.ja).sort(), `${area}: ja and en have the same keys`);
      for (const k of Object.keys(m.ja)) {
        assert.equal(owner.get(k), undefined, `${k} is in both ${owner.get(k)} and ${area}`);
        owner.set(k, area);
      }
    }
    assert.equal(owner.size, Object.keys(messages.ja).length);
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

  test('every code the call API sends has a label in both languages', () => {
    const codes = {
      direction: ['inbound', 'outbound', 'internal', 'unknown'],
      disposition: ['answered', 'no_answer', 'busy', 'failed', 'congestion', 'unknown'],
      notice: ['yes', 'no', 'unknown'],
      noticeMethod: ['cdr_variable', 'userfield', 'cel', 'ami', 'sidecar', 'config'],
      zoneSource: ['config', 'uniqueid', 'offset_in_data', 'config_contradicted_by_uniqueid'],
      operatorSource: ['dstchannel', 'cdr', 'sidecar', 'config'],
      flag: ['no_recording', 'no_cdr', 'weak_match', 'zone_mismatch', 'truncated_row'],
      recordingRole: ['mixed', 'caller', 'operator', 'stereo'],
      deriveStatus: ['awaiting_original', 'pending', 'running', 'done', 'failed'],
      role: ['store_manager', 'security', 'hq', 'auditor', 'admin'],
    } as const;
    for (const m of [messages.ja, messages.en]) {
      for (const [table, list] of Object.entries(codes)) {
        for (const c of list) assert.ok((m[table as keyof typeof codes] as Record<string, string>)[c], `${m.htmlLang} ${table}.${c}`);
      }
    }
    assert.equal(labelOf(messages.ja.notice, 'yes'), '再生済み');
    assert.equal(labelOf(messages.ja.recordingRole, 'caller'), '顧客');
    assert.equal(labelOf(messages.ja.recordingRole, 'mixed'), '混合');
    assert.equal(labelOf(messages.ja.recordingRole, 'operator'), 'オペレーター');
    assert.equal(labelOf(messages.en.flag, 'new_flag'), 'new_flag', 'an unknown code is shown as itself');
    assert.equal(labelOf(messages.en.flag, null), '—');
  });

  test('a lockout wait reads naturally', () => {
    assert.equal(waitText('ja', 900), '15 分');
    assert.equal(waitText('ja', 872), '14 分 32 秒');
    assert.equal(waitText('ja', 0.2), '1 秒');
    assert.equal(waitText('en', 45), '45 s');
    assert.equal(waitText('en', 61), '1 min 1 s');
    assert.equal(messages.ja.lockedOut('15 分'), 'サインインの失敗が続いたため、一時的にロックされています。あと 15 分 でもう一度お試しいただけます。');
  });
});
