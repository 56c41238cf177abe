/**
 * The evidence upload (services/verified-upload.ts) on both kinds of backend (issue 12 item 9):
 * - radosgw (verifies payload hashes): one PUT signed with the edge's SHA-256; S3 refuses other bytes and stores
 *   nothing; retention and legal hold travel on the PUT; a short or long body is refused without leaving S3 waiting;
 * - s3rver (does not verify): the centre hashes what it streams and removes what does not match.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { createS3Store, PayloadHashMismatchError, type ObjectStore } from '../src/adapters/object-store.ts';
import { DomainError } from '../src/domain/errors.ts';
import { storeVerified } from '../src/services/verified-upload.ts';
import { startS3rver } from '../../test-support/src/s3rver.ts';
import { TEST_ENV, uniqueName } from '../../test-support/src/env.ts';

const DAY = 86_400_000;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
/** A body that arrives in pieces, like a request. */
const chunked = (b: Buffer, piece = 64 * 1024) => Readable.from((function* () {
  for (let i = 0; i < b.length; i += piece) yield b.subarray(i, i + piece);
})());
const refusedWith = (code: string) => (e: unknown) => e instanceof DomainError && e.code === code;
const within = <T>(p: Promise<T>, ms: number) => Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`still waiting after ${ms} ms`)), ms).unref())]);

async function keys(store: ObjectStore) {
  const out: string[] = [];
  for await (const o of store.list('')) out.push(o.key);
  return out;
}
/** Every version of every key (a refused PUT must leave none, not even a delete marker's worth of bytes). */
async function versionCount(store: ObjectStore, key: string) {
  return (await store.versions(key)).filter((v) => !v.deleteMarker).length;
}

describe('verified upload on radosgw (payload hashes verified by S3)', () => {
  let store: ObjectStore;
  before(async () => {
    store = createS3Store({ endpoint: TEST_ENV.s3Endpoint, accessKey: TEST_ENV.s3AccessKey, secretKey: TEST_ENV.s3SecretKey, bucket: uniqueName('vu').toLowerCase().replaceAll('_', '-'), region: 'us-east-1' });
    await store.ensureBucket();
  });
  after(async () => {
    for await (const o of store.list('')) {
      await store.setLegalHold(o.key, false).catch(() => undefined);
      await store.remove(o.key).catch(() => undefined);
    }
  });

  test('the backend refuses bytes that do not match the signed SHA-256; the probe leaves nothing behind', async () => {
    assert.equal(await store.verifiesPayloadHash(), true);
    const body = randomBytes(300_000);
    await assert.rejects(store.putSigned('direct/bad', chunked(body), body.length, sha(Buffer.from('other'))), PayloadHashMismatchError);
    assert.equal(await versionCount(store, 'direct/bad'), 0);
    assert.deepEqual(await keys(store), []);
  });

  test('a matching body is stored whole, with its retention and legal hold set by the PUT itself', async () => {
    const body = randomBytes(2 * 1024 * 1024 + 17);
    const until = new Date(Math.ceil((Date.now() + 3 * DAY) / 1000) * 1000);
    const stored = await storeVerified(store, 'seg/ok', chunked(body), { size: body.length, sha256: sha(body), mediaType: 'video/mp2t' }, { retainUntil: until, legalHold: true });
    assert.ok(stored.versionId, 'a versioned bucket names the version');
    const st = await store.stat('seg/ok');
    assert.equal(st?.size, body.length);
    assert.equal(st?.metadata['sha256'], sha(body));
    const back: Buffer[] = [];
    for await (const c of await store.read('seg/ok')) back.push(c as Buffer);
    assert.equal(sha(Buffer.concat(back)), sha(body));
    const p = await store.protection('seg/ok');
    assert.equal(p?.legalHold, true);
    assert.equal(p?.retention?.mode, 'GOVERNANCE');
    assert.equal(p?.retention?.until.getTime(), until.getTime());
  });

  test('tampered, short and long bodies are refused with their codes, promptly, and nothing is stored', async () => {
    const body = randomBytes(1024 * 1024);
    const expected = { size: body.length, sha256: sha(body), mediaType: 'video/mp2t' };
    const tampered = Buffer.from(body);
    tampered[500_000] = tampered[500_000]! ^ 1;
    await assert.rejects(within(storeVerified(store, 'seg/tampered', chunked(tampered), expected), 30_000), refusedWith('hash_mismatch'));
    // Fewer bytes than declared: S3 must not be left waiting for the rest.
    await assert.rejects(within(storeVerified(store, 'seg/short', chunked(body.subarray(0, 700_000)), expected), 30_000), refusedWith('size_mismatch'));
    await assert.rejects(within(storeVerified(store, 'seg/long', chunked(Buffer.concat([body, Buffer.from('x')])), expected), 30_000), refusedWith('size_mismatch'));
    // A body that fails half way (the agent's connection drops).
    const broken = new Readable({ read() {} });
    broken.push(body.subarray(0, 200_000));
    setTimeout(() => broken.destroy(new Error('socket hang up')), 50);
    await assert.rejects(within(storeVerified(store, 'seg/broken', broken, expected), 30_000), refusedWith('upload_incomplete'));
    for (const k of ['seg/tampered', 'seg/short', 'seg/long', 'seg/broken']) assert.equal(await versionCount(store, k), 0, k);
  });
});

describe('verified upload on s3rver (no payload hash verification): the centre hashes', () => {
  let s3: Awaited<ReturnType<typeof startS3rver>>;
  let dir: string;
  let store: ObjectStore;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 's3rver-'));
    s3 = await startS3rver({ port: 0, directory: dir });
    store = createS3Store({ endpoint: `http://127.0.0.1:${s3.port}`, accessKey: 'S3RVER', secretKey: 'S3RVER', bucket: 'verify', region: 'us-east-1' });
    await store.ensureBucket();
  });
  after(async () => {
    await s3.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('the probe finds no verification and leaves nothing; a match is stored, a tampered body is removed', async () => {
    assert.equal(await store.verifiesPayloadHash(), false);
    assert.deepEqual(await keys(store), []);
    const body = randomBytes(9 * 1024 * 1024); // past the 8 MiB part size: a multipart upload
    const expected = { size: body.length, sha256: sha(body), mediaType: 'video/mp2t' };
    await storeVerified(store, 'seg/ok', chunked(body), expected);
    assert.equal((await store.stat('seg/ok'))?.size, body.length);
    const tampered = Buffer.from(body);
    tampered[0] = tampered[0]! ^ 1;
    await assert.rejects(storeVerified(store, 'seg/tampered', chunked(tampered), expected), refusedWith('hash_mismatch'));
    await assert.rejects(storeVerified(store, 'seg/short', chunked(body.subarray(0, 1000)), expected), refusedWith('size_mismatch'));
    assert.deepEqual(await keys(store), ['seg/ok']);
  });
});
