/**
 * The S3 upload stream's copy chunks (UploadCopyChunk), against the tests' real S3: ranges of stored objects are
 * copied inside S3 between bytes written through the stream, and the object that results is byte for byte what a
 * plain upload of the same bytes would be. Where the copied part's ETag is not the MD5 of the local bytes, the local
 * bytes are uploaded instead. File chunks (UploadFileChunk) are read straight into the parts.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { createS3Store, type ObjectStore, type UploadCopyChunk, type UploadFileChunk } from '../src/adapters/object-store.ts';
import { dropTestBucket } from '../../test-support/src/s3-cleanup.ts';
import { TEST_ENV, uniqueName } from '../../test-support/src/env.ts';

const MiB = 1024 * 1024;
let store: ObjectStore;
const s3 = { endpoint: TEST_ENV.s3Endpoint, accessKey: TEST_ENV.s3AccessKey, secretKey: TEST_ENV.s3SecretKey, bucket: uniqueName('upc').toLowerCase().replaceAll('_', '-') };

before(async () => {
  store = createS3Store({ ...s3, region: 'us-east-1' });
  await store.ensureBucket();
});
after(async () => {
  await dropTestBucket(s3).catch(() => undefined);
});

async function readAll(key: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of await store.read(key)) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** A copy chunk of the stored object `key` whose local copy is `local` (normally the same bytes). */
async function chunkOf(key: string, local: Buffer, released: string[]): Promise<UploadCopyChunk> {
  const pinned = await store.readPinned(key);
  pinned.body.resume();
  return {
    copyFrom: {
      key,
      versionId: pinned.versionId,
      etag: pinned.etag,
      start: 0,
      length: local.length,
      local: { read: async (buf: Buffer, off: number, len: number, pos: number) => ({ bytesRead: local.copy(buf, off, pos, Math.min(local.length, pos + len)) }) },
      release: () => released.push(key),
    },
  };
}

async function write(stream: NodeJS.WritableStream, c: Buffer | UploadCopyChunk) {
  if (!stream.write(c as never)) await new Promise((r) => stream.once('drain', r));
}

test('ranges of stored objects between written bytes make the same object as uploading them', async () => {
  const a = randomBytes(23 * MiB + 17);
  const b = randomBytes(12 * MiB + 5);
  const small = randomBytes(3 * MiB);
  await store.put('src/a.ts', Readable.from([a]), a.length);
  await store.put('src/b.ts', Readable.from([b]), b.length);
  await store.put('src/small.ts', Readable.from([small]), small.length);
  const head = randomBytes(1234); // a part being filled below 5 MiB: topped up from the copy's local bytes
  const mid = randomBytes(6 * MiB); // over 5 MiB pending: sent as it is before the copy
  const tail = randomBytes(999);
  const released: string[] = [];
  const { stream, done, copiedBytes } = store.createUploadStream('out/pack.zip', {}, { concurrency: 2 });
  await write(stream, head);
  await write(stream, await chunkOf('src/a.ts', a, released));
  await write(stream, mid);
  await write(stream, await chunkOf('src/b.ts', b, released));
  await write(stream, await chunkOf('src/small.ts', small, released)); // too small for a part of its own: uploaded
  await write(stream, tail);
  stream.end();
  await done;
  const want = Buffer.concat([head, a, mid, b, small, tail]);
  const got = await readAll('out/pack.zip');
  assert.equal(got.length, want.length);
  assert.equal(createHash('sha256').update(got).digest('hex'), createHash('sha256').update(want).digest('hex'));
  assert.deepEqual(released.sort(), ['src/a.ts', 'src/b.ts', 'src/small.ts']);
  // The tests' S3 (radosgw) copies parts: all of a and b but the top-up of the first part went inside S3.
  const caps = await store.capabilities();
  if (caps.versioning) assert.equal(copiedBytes(), a.length - (5 * MiB - head.length) + b.length);
});

test('a copied part whose ETag is not the MD5 of the local bytes is replaced by the local bytes', async () => {
  const stored = randomBytes(16 * MiB);
  await store.put('src/c.ts', Readable.from([stored]), stored.length);
  // The local copy differs from what S3 holds (as if the backend copied something else): the local bytes win.
  const local = Buffer.from(stored);
  local[10 * MiB] = local[10 * MiB]! ^ 0xff;
  const released: string[] = [];
  const { stream, done, copiedBytes } = store.createUploadStream('out/fallback.zip');
  await write(stream, Buffer.from('head'));
  await write(stream, await chunkOf('src/c.ts', local, released));
  await write(stream, Buffer.from('tail'));
  stream.end();
  await done;
  const got = await readAll('out/fallback.zip');
  assert.ok(got.equals(Buffer.concat([Buffer.from('head'), local, Buffer.from('tail')])), 'the local bytes, not the stored ones');
  assert.equal(copiedBytes(), 0);
  assert.deepEqual(released, ['src/c.ts']);
});

test('a file chunk is read straight into the parts: the object is the file range, and `seen` got exactly those bytes', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'upc-'));
  try {
    const file = path.join(dir, 'cut.mp4');
    const body = randomBytes(19 * MiB + 333); // spans three 8 MiB parts, the first one already holding `head`
    await writeFile(file, body);
    const head = randomBytes(777);
    const tail = randomBytes(12);
    const fh = await open(file, 'r');
    const seen = createHash('sha256');
    let seenBytes = 0;
    const { stream, done } = store.createUploadStream('out/file.zip', {}, { concurrency: 2 });
    await write(stream, head);
    // From byte 100 of the file to its end: positions are the file's own.
    const chunk: UploadFileChunk = { fromFile: { local: fh, start: 100, length: body.length - 100, seen: (b) => (seen.update(b), (seenBytes += b.length)) } };
    await new Promise<void>((resolve, reject) => stream.write(chunk, (e) => (e ? reject(e) : resolve())));
    assert.equal(seenBytes, body.length - 100, 'every byte of the range was seen once the write called back');
    await write(stream, tail);
    stream.end();
    await done;
    await fh.close();
    const want = Buffer.concat([head, body.subarray(100), tail]);
    const got = await readAll('out/file.zip');
    assert.equal(createHash('sha256').update(got).digest('hex'), createHash('sha256').update(want).digest('hex'));
    assert.equal(seen.digest('hex'), createHash('sha256').update(body.subarray(100)).digest('hex'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a file shorter than its chunk fails the upload, which stores nothing', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'upc-'));
  try {
    const file = path.join(dir, 'short.bin');
    await writeFile(file, randomBytes(2 * MiB));
    const fh = await open(file, 'r');
    const { stream, done } = store.createUploadStream('out/short.zip', {}, { concurrency: 2 });
    const failed = new Promise<Error>((resolve) => stream.write({ fromFile: { local: fh, start: 0, length: 3 * MiB } } satisfies UploadFileChunk, (e) => resolve(e as Error)));
    assert.match(String((await failed)?.message), /ended .* early/);
    stream.destroy(await failed);
    await assert.rejects(done);
    await fh.close();
    assert.equal(await store.stat('out/short.zip'), null);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
