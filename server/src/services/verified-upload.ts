import { createHash } from 'node:crypto';
import { PassThrough, type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ObjectStore } from '../adapters/object-store.ts';
import { badRequest, DomainError } from '../domain/errors.ts';

/** Counts and hashes bytes as they pass; fails the stream past `limit`. */
class HashingCounter extends Transform {
  readonly hash = createHash('sha256');
  bytes = 0;
  constructor(private readonly limit: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null, data?: Buffer) => void) {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) return cb(badRequest('size_mismatch', `body exceeds the declared size ${this.limit}`));
    this.hash.update(chunk);
    cb(null, chunk);
  }
}

/**
 * Invariant 1 for every evidence upload: streams `body` into the store at `key` while hashing it (memory stays flat:
 * the store uploads in bounded parts), then checks size and SHA-256 against what the edge declared. On any failure
 * the object is removed and a DomainError says why (`size_mismatch`, `hash_mismatch`, `upload_incomplete`); nothing
 * is left for a row to point at. On success the object is durably stored and a row may point at it.
 */
export async function storeVerified(store: ObjectStore, key: string, body: Readable, expected: { size: number; sha256: string; mediaType: string }): Promise<{ versionId: string | null }> {
  const counter = new HashingCounter(expected.size);
  const pass = new PassThrough();
  const uploading = store.put(key, pass, expected.size, { 'x-amz-meta-sha256': expected.sha256, 'content-type': expected.mediaType });
  let stored: { versionId: string | null };
  try {
    [, stored] = await Promise.all([pipeline(body, counter, pass), uploading]);
  } catch (e) {
    pass.destroy();
    await uploading.catch(() => undefined);
    await store.remove(key).catch(() => undefined);
    if (e instanceof DomainError) throw e;
    throw badRequest('upload_incomplete', `upload did not complete: ${(e as Error).message}`);
  }
  if (counter.bytes !== expected.size || counter.hash.digest('hex') !== expected.sha256) {
    await store.remove(key, stored);
    if (counter.bytes !== expected.size) throw badRequest('size_mismatch', `declared size ${expected.size} but received ${counter.bytes} bytes`);
    throw badRequest('hash_mismatch', 'SHA-256 of the received bytes does not match the edge hash');
  }
  return stored;
}
