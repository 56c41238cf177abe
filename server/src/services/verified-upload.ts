import { createHash, type Hash } from 'node:crypto';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MAX_SINGLE_PUT_BYTES, PayloadHashMismatchError, type ObjectStore, type PutLock } from '../adapters/object-store.ts';
import { badRequest, DomainError } from '../domain/errors.ts';

/**
 * Counts bytes as they pass (and hashes them when `hash` is given); fails the stream past `size`, and at its end when
 * fewer than `size` arrived, so the store never gets more or fewer bytes than were declared. The chunk that completes
 * `size` is held back until the body has ended: S3 never receives a whole object from a body that then turns out to
 * be longer than declared (it would store it while the request is being refused).
 */
class Counter extends Transform {
  bytes = 0;
  private last: Buffer | null = null;
  constructor(private readonly size: number, readonly hash: Hash | null) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null, data?: Buffer) => void) {
    this.bytes += chunk.length;
    if (this.bytes > this.size) return cb(badRequest('size_mismatch', `body exceeds the declared size ${this.size}`));
    this.hash?.update(chunk);
    if (this.bytes < this.size) return cb(null, chunk);
    this.last = chunk;
    cb();
  }
  override _flush(cb: (err?: Error | null, data?: Buffer) => void) {
    if (this.bytes !== this.size) return cb(badRequest('size_mismatch', `declared size ${this.size} but received ${this.bytes} bytes`));
    cb(null, this.last ?? undefined);
  }
}

/**
 * Invariant 1 for every evidence upload: streams `body` into the store at `key` (memory stays flat) and makes sure the
 * stored bytes have exactly the size and SHA-256 the edge declared. On any failure the object is removed and a
 * DomainError says why (`size_mismatch`, `hash_mismatch`, `upload_incomplete`); nothing is left for a row to point at.
 * On success the object is durably stored and a row may point at it.
 *
 * Where the backend verifies payload hashes (radosgw, MinIO, AWS S3), the body goes up in ONE PUT signed with the
 * edge's SHA-256, and S3 itself refuses bytes that do not match: the centre only counts bytes, it hashes nothing
 * (docs/benchmarks.md, "Footage ingest through the centre": hashing and part buffering were most of its CPU).
 * Elsewhere (s3rver) the centre hashes what it streams and removes the object when the hash differs.
 * `lock` (Object Lock retention / legal hold) travels on the PUT where it can.
 */
export async function storeVerified(store: ObjectStore, key: string, body: Readable, expected: { size: number; sha256: string; mediaType: string }, lock: PutLock = {}): Promise<{ versionId: string | null }> {
  const s3Verifies = expected.size <= MAX_SINGLE_PUT_BYTES && (await store.verifiesPayloadHash());
  const counter = new Counter(expected.size, s3Verifies ? null : createHash('sha256'));
  const metadata = { 'x-amz-meta-sha256': expected.sha256, 'content-type': expected.mediaType };
  const uploading = s3Verifies ? store.putSigned(key, counter, expected.size, expected.sha256, metadata, lock) : store.put(key, counter, expected.size, metadata, lock);
  let stored: { versionId: string | null };
  try {
    [, stored] = await Promise.all([pipeline(body, counter), uploading]);
  } catch (e) {
    counter.destroy();
    await uploading.catch(() => undefined);
    await store.remove(key).catch(() => undefined);
    if (e instanceof DomainError) throw e;
    if (e instanceof PayloadHashMismatchError) throw badRequest('hash_mismatch', 'SHA-256 of the received bytes does not match the edge hash');
    throw badRequest('upload_incomplete', `upload did not complete: ${(e as Error).message}`);
  }
  if (counter.bytes !== expected.size || (counter.hash && counter.hash.digest('hex') !== expected.sha256)) {
    await store.remove(key, stored);
    if (counter.bytes !== expected.size) throw badRequest('size_mismatch', `declared size ${expected.size} but received ${counter.bytes} bytes`);
    throw badRequest('hash_mismatch', 'SHA-256 of the received bytes does not match the edge hash');
  }
  return stored;
}
