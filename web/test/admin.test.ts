import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { adminTabFromQuery, adminTabsFor, auditApiQuery, auditFilterFromQuery, auditFilterProblems, auditHref, canAdmin, coverageBar, coveragePercent, diskPercent, EMPTY_AUDIT_FILTER } from '../src/lib/admin.ts';

describe('audit filter ↔ URL ↔ API', () => {
  test('the URL keeps only what is set, in the language asked', () => {
    const f = { ...EMPTY_AUDIT_FILTER, actor: 'tanaka', action: 'auth.*', outcome: 'failure' as const };
    assert.equal(auditHref(f, 'ja'), '/audit?actor=tanaka&action=auth.*&outcome=failure');
    assert.equal(auditHref(EMPTY_AUDIT_FILTER, 'en'), '/audit?lang=en');
    assert.deepEqual(auditFilterFromQuery(new URLSearchParams('actor=%20tanaka%20&outcome=bogus&cursor=42')), { ...EMPTY_AUDIT_FILTER, actor: 'tanaka', cursor: '42' });
  });
  test('times are typed in Asia/Tokyo and sent as UTC; bad or reversed times are problems, not queries', () => {
    const f = { ...EMPTY_AUDIT_FILTER, from: '2026-11-24T09:00', to: '2026-11-24T10:30', targetType: 'user' };
    assert.deepEqual(auditFilterProblems(f), []);
    assert.deepEqual(auditApiQuery(f, 10), { limit: 10, targetType: 'user', from: '2026-11-24T00:00:00.000Z', to: '2026-11-24T01:30:00.000Z' });
    assert.deepEqual(auditFilterProblems({ ...f, from: '2026-13-01T00:00' }), ['from_invalid']);
    assert.deepEqual(auditFilterProblems({ ...f, from: f.to, to: f.from }), ['order']);
  });
});

describe('coverage bar', () => {
  const from = '2026-11-23T00:00:00.000Z';
  const to = '2026-11-24T00:00:00.000Z';
  test('pieces as percentages of the day; reported gaps drawn over holes; a short piece keeps a visible width', () => {
    const bar = coverageBar(
      { covered: [{ start: from, end: '2026-11-23T12:00:00.000Z' }], holes: [{ start: '2026-11-23T12:00:00.000Z', end: '2026-11-23T18:00:00.000Z' }], notYet: { start: '2026-11-23T23:59:30.000Z', end: to } },
      [{ start: '2026-11-23T12:00:00.000Z', end: '2026-11-23T12:00:01.000Z', reason: 'camera_offline', detail: null }],
      from,
      to,
    );
    assert.deepEqual(bar.map((p) => [p.kind, p.left, p.width]), [['covered', 0, 50], ['hole', 50, 25], ['notYet', 99.965, 0.035], ['gap', 50, 0.25]]);
    assert.equal(bar[3]!.reason, 'camera_offline');
    assert.deepEqual(coverageBar({ covered: [], holes: [], notYet: null }, [], to, from), []);
  });
  test('percent recorded counts "not yet" as not missing; disk percent', () => {
    assert.equal(coveragePercent({ coveredMs: 999, holeMs: 1, notYet: null }), 99);
    assert.equal(coveragePercent({ coveredMs: 0, holeMs: 0, notYet: { start: from, end: '2026-11-23T00:01:00.000Z' } }), 100);
    assert.equal(diskPercent(50, 200), 25);
    assert.equal(diskPercent(null, 200), null);
  });
});

describe('admin tabs', () => {
  test('admin sees every tab, hq only retention, others nothing', () => {
    const admin = ['users:manage', 'sites:manage', 'sites:list', 'fleet:read', 'agents:manage', 'retention:read'];
    assert.deepEqual(adminTabsFor(admin), ['users', 'sites', 'tokens', 'agents', 'retention']);
    assert.equal(adminTabFromQuery(new URLSearchParams('tab=agents'), admin), 'agents');
    assert.equal(adminTabFromQuery(new URLSearchParams('tab=nope'), admin), 'users');
    const hq = ['footage:read', 'retention:read', 'retention:manage'];
    assert.ok(canAdmin(hq));
    assert.equal(adminTabFromQuery(new URLSearchParams('tab=users'), hq), 'retention');
    assert.ok(!canAdmin(['footage:read', 'calls:read']));
    assert.ok(!canAdmin(['audit:read', 'retention:read']));
  });
});
