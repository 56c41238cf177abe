import assert from 'node:assert/strict';
import { test } from 'node:test';
import { anyBuilding, formatBytes, packRequestBody, shareUrl } from '../src/lib/packs.ts';

test('formatBytes', () => {
  assert.equal(formatBytes(null), '—');
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(1536), '1.5 KB');
  assert.equal(formatBytes(50 * 1024 * 1024), '50 MB');
});

test('anyBuilding is true while a pack is queued or building', () => {
  assert.equal(anyBuilding([{ status: 'ready' }, { status: 'failed' }]), false);
  assert.equal(anyBuilding([{ status: 'ready' }, { status: 'building' }]), true);
  assert.equal(anyBuilding([{ status: 'queued' }]), true);
});

test('shareUrl joins the origin and the path', () => {
  assert.equal(shareUrl('http://127.0.0.1:5000', '/share/abc'), 'http://127.0.0.1:5000/share/abc');
});

test('packRequestBody checks the fields and the chosen scope', () => {
  const base = { purpose: 'police_request' as const, reference: ' 第12号 ', legalBasis: '刑訴法197条2項', scope: 'all' as const, windowIds: ['w'], callIds: [] };
  assert.deepEqual(packRequestBody(base), { body: { purpose: 'police_request', reference: '第12号', legalBasis: '刑訴法197条2項' } });
  assert.deepEqual(packRequestBody({ ...base, reference: ' ' }), { problem: 'reference' });
  assert.deepEqual(packRequestBody({ ...base, legalBasis: '' }), { problem: 'legalBasis' });
  assert.deepEqual(packRequestBody({ ...base, scope: 'chosen', windowIds: [] }), { problem: 'scope' });
  assert.deepEqual(packRequestBody({ ...base, scope: 'chosen', callIds: ['c'] }), {
    body: { purpose: 'police_request', reference: '第12号', legalBasis: '刑訴法197条2項', cameraWindowIds: ['w'], callIds: ['c'] },
  });
});
