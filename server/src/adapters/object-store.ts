import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { finished, Readable, Writable } from 'node:stream';
import * as Minio from 'minio';

export interface StoredObject {
  key: string;
  size: number;
  lastModified: Date;
  metadata: Record<string, string>;
}

export interface StoreCapabilities {
  objectLock: boolean;
  versioning: boolean;
  encryption: boolean;
}

/** What the storage itself enforces on an object (all its versions), whatever our code does. */
export interface StorageProtection {
  /** An S3 legal hold is ON on some version: no credential can delete that version until the hold is removed. */
  legalHold: boolean;
  /** The latest retain-until date over the versions, and its mode (COMPLIANCE cannot be bypassed or shortened). */
  retention: { mode: 'GOVERNANCE' | 'COMPLIANCE'; until: Date } | null;
}

/** Object Lock settings for a new object (ignored where the backend has no object lock). */
export interface PutLock {
  /** GOVERNANCE retention until this date: refused to plain deletes, bypassable by the retention job. */
  retainUntil?: Date;
  /** An S3 legal hold from the start (the object is evidence already). */
  legalHold?: boolean;
}

/**
 * Local bytes the upload stream reads by position, straight into its part buffers (no intermediate buffers): a
 * FileHandle fits.
 */
export type LocalBytes = { read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }> };

/**
 * A chunk written into `createUploadStream`'s stream in place of bytes: the next `length` bytes of the upload are
 * bytes [start, start + length) of the stored object `key` at `versionId` (ETag `etag`), which the caller also has
 * locally (`local`, the same bytes at the same positions, e.g. the scratch copy it hashed). The upload stream copies
 * what it can inside S3 (UploadPartCopy: those bytes never travel through this process again) and checks each copied
 * part's ETag against the MD5 of the local bytes; where the backend cannot copy, or the ETag is not that MD5, it
 * uploads the local bytes. `release` is called once the stream no longer needs `local`.
 */
export type UploadCopyChunk = {
  copyFrom: { key: string; versionId: string | null; etag: string | null; start: number; length: number; local: LocalBytes; release?(): void };
};
/**
 * A chunk written into `createUploadStream`'s stream in place of bytes: the next `length` bytes of the upload are
 * bytes [start, start + length) of `local`, read straight into the part buffers; `seen` gets each range as it is read
 * (to hash what is uploaded without another pass or copy). The stream's write callback fires once all were read.
 */
export type UploadFileChunk = { fromFile: { local: LocalBytes; start: number; length: number; seen?(bytes: Buffer): void } };
export const isUploadFileChunk = (c: unknown): c is UploadFileChunk => typeof c === 'object' && c !== null && !Buffer.isBuffer(c) && 'fromFile' in c;

/** Reads exactly `length` bytes of `local` at `position` into `buffer` at `offset`; a short source is an error. */
async function readFully(local: LocalBytes, buffer: Buffer, offset: number, length: number, position: number): Promise<void> {
  for (let done = 0; done < length; ) {
    const { bytesRead } = await local.read(buffer, offset + done, length - done, position + done);
    if (bytesRead <= 0) throw new Error(`local bytes ended ${length - done} bytes early (at ${position + done})`);
    done += bytesRead;
  }
}
export const isUploadCopyChunk = (c: unknown): c is UploadCopyChunk => typeof c === 'object' && c !== null && !Buffer.isBuffer(c) && 'copyFrom' in c;

/** The storage refused to delete an object version (object lock: legal hold or retention). */
export class StorageRefusedError extends Error {
  readonly code = 'storage_refused';
  constructor(readonly key: string, readonly versionId: string | null, readonly reason: string) {
    super(`storage refused to delete ${key}${versionId ? ` (version ${versionId})` : ''}: ${reason}`);
  }
}

/** S3 refused a PUT whose bytes do not hash to the SHA-256 it was signed with (`XAmzContentSHA256Mismatch`). */
export class PayloadHashMismatchError extends Error {
  readonly code = 'payload_hash_mismatch';
  constructor(readonly key: string) {
    super(`S3 refused ${key}: its bytes do not match the signed SHA-256`);
  }
}

/** The largest object one S3 PUT may carry (larger ones go up in parts). */
export const MAX_SINGLE_PUT_BYTES = 5 * 1024 ** 3;

/** Our view of S3. Callers never see the minio client. */
export interface ObjectStore {
  readonly bucket: string;
  ensureBucket(): Promise<void>;
  /** Stores an object; answers the version S3 made (null on a backend without versioning). */
  put(key: string, body: Readable, size: number | undefined, metadata?: Record<string, string>, lock?: PutLock): Promise<{ versionId: string | null }>;
  /**
   * Stores exactly `size` bytes of `body` (at most MAX_SINGLE_PUT_BYTES) in ONE PUT whose signature carries `sha256`
   * (hex) as the payload hash, streamed through without buffering or hashing here. A backend that verifies payload
   * hashes (see verifiesPayloadHash) refuses other bytes with PayloadHashMismatchError and stores nothing. `lock` travels
   * on the PUT itself as Object Lock headers (no second request) where the backend accepts that, else follows it. The caller must make sure `body` ends after exactly
   * `size` bytes or errors (a short body would leave S3 waiting for the rest).
   */
  putSigned(key: string, body: Readable, size: number, sha256: string, metadata?: Record<string, string>, lock?: PutLock): Promise<{ versionId: string | null }>;
  /** Whether the backend refuses a PUT whose bytes do not match its signed SHA-256 (radosgw, MinIO, AWS do; s3rver does not). Probed once. */
  verifiesPayloadHash(): Promise<boolean>;
  stat(key: string): Promise<StoredObject | null>;
  /** The bytes [start, start+length) or the whole object. */
  read(key: string, start?: number, length?: number): Promise<Readable>;
  /** The whole object with the version and ETag that answered (null where the backend says none). */
  readPinned(key: string): Promise<{ body: Readable; versionId: string | null; etag: string | null }>;
  /**
   * Deletes the object for good: every version of it (with a versionId, only that version), bypassing GOVERNANCE
   * retention (the centre's credentials are the retention job's). Throws StorageRefusedError when the storage
   * refuses (legal hold, COMPLIANCE retention). Removing a missing object is not an error.
   */
  remove(key: string, opts?: { versionId?: string | null }): Promise<void>;
  list(prefix: string): AsyncIterable<StoredObject>;
  /**
   * A writable that stores what is written to it at `key` as a multipart upload: `concurrency` parts in flight while
   * the next one fills, through a fixed pool of part buffers, so memory is (concurrency + 1) × partSize whatever the
   * size (for long outputs written as they are made, like a pack's ZIP). `done` resolves when the object is complete;
   * on an error, or when the stream is destroyed, the upload is aborted and `done` rejects (the stream emits no
   * uncaught 'error'). The stream takes Buffers
   * `UploadCopyChunk`s (ranges of stored objects, copied inside S3 where the backend can) and `UploadFileChunk`s
   * (local bytes read straight into the part buffers).
   */
  createUploadStream(key: string, metadata?: Record<string, string>, o?: { partSize?: number; concurrency?: number }): { stream: Writable; done: Promise<void>; /** Bytes copied inside S3 so far (UploadCopyChunk ranges). */ copiedBytes(): number };
  ping(): Promise<void>;
  capabilities(): Promise<StoreCapabilities>;
  /** Sets or clears the S3 legal hold on every version of the object; false when the backend has no object lock or the object is missing. */
  setLegalHold(key: string, on: boolean, versionId?: string | null): Promise<boolean>;
  /** Sets GOVERNANCE retention (extends, or shortens with bypass) on every version (or one); false without object lock. */
  setRetention(key: string, until: Date, versionId?: string | null): Promise<boolean>;
  /** What the storage enforces on the object; null without object lock or when the object is missing. */
  protection(key: string): Promise<StorageProtection | null>;
  /** The versions of one key, oldest first (one entry without versioning). */
  versions(key: string): Promise<{ versionId: string | null; size: number; lastModified: Date; deleteMarker: boolean; latest: boolean }[]>;
}

export interface S3Settings {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  bucket: string;
  region: string;
}

const PART_SIZE = 8 * 1024 * 1024; // bounded memory for streams of unknown length
/** S3's limits: every part but the last at least 5 MiB, at most 5 GiB, at most 10 000 parts. */
const MIN_PART = 5 * 1024 * 1024;
const MAX_COPY_PART = 5 * 1024 * 1024 * 1024;
const MAX_PARTS = 10_000;
/** Copied parts in flight at once (besides the uploads); a copy that falls back to uploading holds up to 10 MiB. */
const COPY_CONCURRENCY = 3;
/** The read buffer for checking a copied range's MD5 (one per copy in flight). */
const MD5_READ = 1024 * 1024;

export function createS3Store(s: S3Settings): ObjectStore {
  const url = new URL(s.endpoint);
  const connection = {
    endPoint: url.hostname,
    port: url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80,
    useSSL: url.protocol === 'https:',
    accessKey: s.accessKey,
    secretKey: s.secretKey,
    region: s.region,
    pathStyle: true,
  };
  const client = new Minio.Client({ ...connection, partSize: PART_SIZE });
  // The single signed PUT streams its body, which cannot be sent twice: its client never retries, and always signs
  // the payload hash (over HTTPS too, where the minio client would send UNSIGNED-PAYLOAD).
  const putClient = new Minio.Client({ ...connection, retryOptions: { disableRetry: true } });
  putClient.enableSHA256 = true;
  const bucket = s.bucket;
  let caps: StoreCapabilities | undefined;
  let verifiesHash: boolean | undefined;
  const codeOf = (e: unknown) => (e as { code?: string }).code ?? '';
  const lockOn = async () => (await capabilities()).objectLock;

  async function capabilities(): Promise<StoreCapabilities> {
    if (caps) return caps;
    // Probe what the backend really does: s3rver has none of these; radosgw (tests, demo) and MinIO (compose) have
    // object lock and versioning when the bucket was created with it.
    const objectLock = await (client.getObjectLockConfig(bucket) as unknown as Promise<{ objectLockEnabled?: string } | undefined>)
      .then((c) => c?.objectLockEnabled === 'Enabled')
      .catch(() => false);
    const versioning = await (client.getBucketVersioning(bucket) as unknown as Promise<{ Status?: string } | undefined>)
      .then((v) => v?.Status === 'Enabled')
      .catch(() => false);
    // Only a real ServerSideEncryptionConfiguration counts: radosgw 16 does not implement the call and answers it
    // with a bucket listing.
    const encryption = await (client.getBucketEncryption(bucket) as unknown as Promise<unknown>)
      .then((c) => Boolean(c && typeof c === 'object' && 'ServerSideEncryptionConfiguration' in c))
      .catch(() => false);
    caps = { objectLock, versioning, encryption };
    return caps;
  }

  type Version = { versionId: string | null; size: number; lastModified: Date; deleteMarker: boolean; latest: boolean };
  async function versions(key: string): Promise<Version[]> {
    if (!(await capabilities()).versioning) {
      const st = await client.statObject(bucket, key).catch((e) => {
        if (['NotFound', 'NoSuchKey'].includes(codeOf(e))) return null;
        throw e;
      });
      return st ? [{ versionId: null, size: st.size, lastModified: st.lastModified, deleteMarker: false, latest: true }] : [];
    }
    const out: Version[] = [];
    const stream = client.listObjects(bucket, key, true, { IncludeVersion: true });
    for await (const v of stream as AsyncIterable<Minio.BucketItem & { versionId?: string; isLatest?: boolean; isDeleteMarker?: boolean }>) {
      if (v.name !== key) continue;
      out.push({ versionId: v.versionId ?? null, size: v.size ?? 0, lastModified: v.lastModified ?? new Date(0), deleteMarker: Boolean(v.isDeleteMarker), latest: Boolean(v.isLatest) });
    }
    return out.sort((a, b) => a.lastModified.getTime() - b.lastModified.getTime());
  }
  const dataVersions = async (key: string) => (await versions(key)).filter((v) => !v.deleteMarker);

  async function removeVersion(key: string, versionId: string | null) {
    try {
      await client.removeObject(bucket, key, versionId ? { versionId, governanceBypass: true } : {});
    } catch (e) {
      const code = codeOf(e);
      if (code === 'NoSuchKey' || code === 'NoSuchVersion' || code === 'NotFound') return;
      if (code === 'AccessDenied') throw new StorageRefusedError(key, versionId, (e as Error).message);
      throw e;
    }
  }

  async function putSigned(key: string, body: Readable, size: number, sha256: string, metadata: Record<string, string> = {}, lock: PutLock = {}): Promise<{ versionId: string | null }> {
    if (size > MAX_SINGLE_PUT_BYTES) throw new RangeError(`one PUT carries at most ${MAX_SINGLE_PUT_BYTES} bytes`);
    const headers: Record<string, string | number> = { 'Content-Length': size };
    for (const [k, v] of Object.entries(metadata)) headers[/^(x-amz-|content-|cache-control|expires)/i.test(k) ? k : `x-amz-meta-${k}`] = v;
    const locking = Boolean(lock.retainUntil || lock.legalHold) && (await lockOn());
    const onThePut = locking && (await lockHeadersAccepted());
    if (onThePut) Object.assign(headers, lockHeaders(lock));
    let versionId: string | null;
    try {
      // makeRequestStreamAsync is minio's own streaming request (what putObject uses for a single PUT), signed with the
      // payload hash we give it instead of one it computes.
      const res = await putClient.makeRequestStreamAsync({ method: 'PUT', bucketName: bucket, objectName: key, headers }, body, sha256, [200], s.region);
      res.resume();
      const v = res.headers['x-amz-version-id'];
      versionId = typeof v === 'string' && v !== 'null' ? v : null;
    } catch (e) {
      if (codeOf(e) === 'XAmzContentSHA256Mismatch') throw new PayloadHashMismatchError(key);
      throw e;
    }
    if (locking && !onThePut) await lockAfterPut(key, versionId, lock);
    return { versionId };
  }

  const lockHeaders = (lock: PutLock): Record<string, string> => ({
    ...(lock.retainUntil ? { 'x-amz-object-lock-mode': 'GOVERNANCE', 'x-amz-object-lock-retain-until-date': lock.retainUntil.toISOString() } : {}),
    ...(lock.legalHold ? { 'x-amz-object-lock-legal-hold': 'ON' } : {}),
  });
  /** Object Lock settings by separate requests, after the object is stored (where the PUT could not carry them). */
  async function lockAfterPut(key: string, versionId: string | null, lock: PutLock) {
    const opts = versionId ? { versionId } : {};
    if (lock.legalHold) await (client.setObjectLegalHold(bucket, key, { status: 'ON', ...opts } as never) as unknown as Promise<void>);
    if (lock.retainUntil) {
      await client.putObjectRetention(bucket, key, { mode: 'GOVERNANCE', retainUntilDate: lock.retainUntil.toISOString(), governanceBypass: true, ...opts } as never);
    }
  }
  /**
   * Whether a PUT may carry Object Lock headers without a Content-MD5 (radosgw and MinIO accept it; AWS has asked for
   * a checksum with them): probed once with a one-byte object retained for a minute, removed with the bypass.
   */
  let lockHeadersOk: boolean | undefined;
  async function lockHeadersAccepted(): Promise<boolean> {
    if (lockHeadersOk !== undefined) return lockHeadersOk;
    const key = `.mamoru/probe/lock-headers-${randomUUID()}`;
    const one = Buffer.from('m');
    try {
      const res = await putClient.makeRequestStreamAsync(
        { method: 'PUT', bucketName: bucket, objectName: key, headers: { 'Content-Length': 1, ...lockHeaders({ retainUntil: new Date(Date.now() + 60_000) }) } },
        one,
        createHash('sha256').update(one).digest('hex'),
        [200],
        s.region,
      );
      res.resume();
      lockHeadersOk = true;
    } catch {
      lockHeadersOk = false;
    }
    for (const v of await versions(key).catch(() => [])) await removeVersion(key, v.versionId).catch(() => undefined);
    return lockHeadersOk;
  }

  return {
    bucket,
    putSigned,
    async verifiesPayloadHash() {
      if (verifiesHash !== undefined) return verifiesHash;
      // One byte signed with the hash of nothing: a verifying backend refuses it and stores nothing.
      const key = `.mamoru/probe/payload-hash-${randomUUID()}`;
      try {
        await putSigned(key, Readable.from([Buffer.from('m')]), 1, createHash('sha256').digest('hex'));
        verifiesHash = false;
        for (const v of await versions(key).catch(() => [])) await removeVersion(key, v.versionId).catch(() => undefined);
      } catch (e) {
        if (!(e instanceof PayloadHashMismatchError)) throw e; // not decided: asked again next time
        verifiesHash = true;
      }
      return verifiesHash;
    },
    async ensureBucket() {
      if (!(await client.bucketExists(bucket))) {
        try {
          // With object lock (radosgw, MinIO): versioning comes with it. s3rver accepts the flag and ignores it.
          await client.makeBucket(bucket, s.region, { ObjectLocking: true });
        } catch (e) {
          if (!['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes(codeOf(e))) throw e;
        }
      }
      caps = undefined;
      if (await lockOn()) {
        // A floor for every new object from the instant it is written (before its own retention is set): plain
        // deletes are refused for a day. Idempotent.
        const cfg = await (client.getObjectLockConfig(bucket) as unknown as Promise<{ mode?: string; validity?: number } | undefined>).catch(() => undefined);
        if (!cfg?.mode) await (client.setObjectLockConfig(bucket, { mode: 'GOVERNANCE', unit: 'Days', validity: 1 } as never) as unknown as Promise<void>);
      }
    },
    async put(key, body, size, metadata = {}, lock = {}) {
      // The minio client pipes the body without watching it: a body that fails would leave putObject waiting forever.
      const bodyFailed = new Promise<never>((_, reject) => finished(body, { writable: false }, (e) => e && reject(e)));
      const r = await Promise.race([client.putObject(bucket, key, body, size, metadata), bodyFailed]);
      const versionId = (r as { versionId?: string | null }).versionId ?? null;
      if ((lock.retainUntil || lock.legalHold) && (await lockOn())) await lockAfterPut(key, versionId, lock);
      return { versionId };
    },
    async stat(key) {
      try {
        const st = await client.statObject(bucket, key);
        return { key, size: st.size, lastModified: st.lastModified, metadata: (st.metaData ?? {}) as Record<string, string> };
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (code === 'NotFound' || code === 'NoSuchKey') return null;
        throw e;
      }
    },
    async read(key, start, length) {
      if (start === undefined) return client.getObject(bucket, key);
      return client.getPartialObject(bucket, key, start, length);
    },
    async readPinned(key) {
      const body = await client.getObject(bucket, key);
      const h = (body as IncomingMessage).headers ?? {};
      const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v) ?? null;
      const versionId = one(h['x-amz-version-id']);
      return { body, versionId: versionId && versionId !== 'null' ? versionId : null, etag: one(h.etag)?.replaceAll('"', '') ?? null };
    },
    async remove(key, opts = {}) {
      if (opts.versionId !== undefined && opts.versionId !== null) return removeVersion(key, opts.versionId);
      if (!(await capabilities()).versioning) return removeVersion(key, null);
      // Every version and delete marker: a plain DELETE would only add a marker and keep the bytes.
      const all = await versions(key);
      const refused: StorageRefusedError[] = [];
      for (const v of all) {
        try {
          await removeVersion(key, v.versionId);
        } catch (e) {
          if (e instanceof StorageRefusedError) refused.push(e);
          else throw e;
        }
      }
      if (refused[0]) throw refused[0];
    },
    versions,
    async setLegalHold(key, on, versionId) {
      if (!(await lockOn())) return false;
      const vs = versionId ? [{ versionId }] : await dataVersions(key);
      for (const v of vs) {
        await (client.setObjectLegalHold(bucket, key, { status: on ? 'ON' : 'OFF', ...(v.versionId ? { versionId: v.versionId } : {}) } as never) as unknown as Promise<void>);
      }
      return vs.length > 0;
    },
    async setRetention(key, until, versionId) {
      if (!(await lockOn())) return false;
      const vs = versionId ? [{ versionId }] : await dataVersions(key);
      for (const v of vs) {
        await client.putObjectRetention(bucket, key, { mode: 'GOVERNANCE', retainUntilDate: until.toISOString(), governanceBypass: true, ...(v.versionId ? { versionId: v.versionId } : {}) } as never);
      }
      return vs.length > 0;
    },
    async protection(key) {
      if (!(await lockOn())) return null;
      const vs = await dataVersions(key);
      if (vs.length === 0) return null;
      let legalHold = false;
      let retention: StorageProtection['retention'] = null;
      for (const v of vs) {
        const o = v.versionId ? { versionId: v.versionId } : {};
        const lh = await (client.getObjectLegalHold(bucket, key, o as never) as unknown as Promise<{ Status?: string } | string | undefined>).catch(() => undefined);
        if ((typeof lh === 'string' ? lh : lh?.Status) === 'ON') legalHold = true;
        const r = await (client.getObjectRetention(bucket, key, o as never) as Promise<{ mode?: string; retainUntilDate?: string } | null | undefined>).catch(() => null);
        if (r?.retainUntilDate && r.mode) {
          const until = new Date(r.retainUntilDate);
          const mode = r.mode === 'COMPLIANCE' ? 'COMPLIANCE' : 'GOVERNANCE';
          if (!retention || until > retention.until || (mode === 'COMPLIANCE' && retention.mode !== 'COMPLIANCE')) retention = { mode, until };
        }
      }
      return { legalHold, retention };
    },
    async *list(prefix) {
      const stream = client.listObjectsV2(bucket, prefix, true);
      for await (const item of stream as AsyncIterable<Minio.BucketItem>) {
        if (!item.name) continue;
        yield { key: item.name, size: item.size ?? 0, lastModified: item.lastModified ?? new Date(0), metadata: {} };
      }
    },
    createUploadStream(key, metadata = {}, o = {}) {
      const partSize = o.partSize ?? PART_SIZE;
      const concurrency = Math.max(1, o.concurrency ?? 2);
      const headers = Object.fromEntries(Object.entries(metadata).map(([k, v]) => [/^(x-amz-|content-|cache-control|expires)/i.test(k) ? k : `x-amz-meta-${k}`, v]));
      const free: Buffer[] = [];
      const takeBuffer = () => free.pop() ?? Buffer.allocUnsafeSlow(partSize);
      let current: Buffer | null = null;
      let filled = 0;
      let partNumber = 0;
      const etags: { part: number; etag: string }[] = [];
      const inFlight = new Set<Promise<void>>();
      /** Copied parts in flight: they hold no part buffer, so they have their own limit and overlap the uploads. */
      const copying = new Set<Promise<void>>();
      let failure: Error | null = null;
      let uploadId: Promise<string> | null = null;
      /** Whether this backend copies parts inside S3 (UploadPartCopy with a checked ETag); learnt on the first copy. */
      let copies: 'unknown' | 'yes' | 'no' = 'unknown';
      let copied = 0;
      const started = () => (uploadId ??= client.initiateNewMultipartUpload(bucket, key, headers));

      /** Sends `buf[0, len)` as the next part; its buffer goes back to the pool when S3 has it. */
      const send = (buf: Buffer, len: number) => {
        const part = ++partNumber;
        const p = (async () => {
          const id = await started();
          const r = await client.uploadPart({ bucketName: bucket, objectName: key, uploadID: id, partNumber: part, headers: {} }, buf.subarray(0, len));
          etags.push({ part, etag: r.etag });
        })()
          .catch((e: Error) => {
            failure ??= e;
          })
          .finally(() => {
            free.push(buf);
            inFlight.delete(p);
          });
        inFlight.add(p);
      };
      /** Waits until fewer than `concurrency` parts are in flight. */
      const room = async () => {
        while (inFlight.size - copying.size >= concurrency) await Promise.race([...inFlight].filter((x) => !copying.has(x)));
        if (failure) throw failure;
      };

      let settle!: { resolve: () => void; reject: (e: Error) => void };
      const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
      const abort = async (e: Error) => {
        await Promise.allSettled([...inFlight]);
        if (uploadId) await uploadId.then((id) => client.abortMultipartUpload(bucket, key, id)).catch(() => undefined);
        settle.reject(e);
      };

      /** Sends the part being filled once it is full. */
      const sendIfFull = async () => {
        if (filled !== partSize) return;
        await room();
        send(current!, filled);
        current = null;
        filled = 0;
      };
      /** Appends bytes to the part being filled; full parts go out as they fill. */
      const writeBytes = async (chunk: Buffer) => {
        let at = 0;
        while (at < chunk.length) {
          current ??= takeBuffer();
          const n = chunk.copy(current, filled, at);
          filled += n;
          at += n;
          await sendIfFull();
        }
      };
      /** Appends bytes [from, to) of `local`, read straight into the part being filled; full parts go out as they fill. */
      const writeLocal = async (local: LocalBytes, from: number, to: number, seen?: (b: Buffer) => void) => {
        for (let at = from; at < to; ) {
          current ??= takeBuffer();
          const n = Math.min(partSize - filled, to - at);
          await readFully(local, current, filled, n, at);
          seen?.(current.subarray(filled, filled + n));
          filled += n;
          at += n;
          await sendIfFull();
        }
      };
      /** MD5 of bytes [from, to) of `local`, through one reused read buffer. */
      const md5Local = async (local: LocalBytes, from: number, to: number) => {
        const h = createHash('md5');
        const buf = Buffer.allocUnsafe(Math.min(MD5_READ, to - from));
        for (let at = from; at < to; ) {
          const n = Math.min(buf.length, to - at);
          await readFully(local, buf, 0, n, at);
          h.update(n === buf.length ? buf : buf.subarray(0, n));
          at += n;
        }
        return h.digest('hex');
      };
      const copySource = (c: UploadCopyChunk['copyFrom']) => `/${bucket}/${c.key.split('/').map(encodeURIComponent).join('/')}${c.versionId ? `?versionId=${encodeURIComponent(c.versionId)}` : ''}`;
      /**
       * Bytes [from, to) of `c` as the parts first .. first+reserve-1: one UploadPartCopy part whose ETag must be the
       * MD5 of the local bytes, else (no copy on this backend, another ETag scheme) `reserve` uploaded parts of at
       * least MIN_PART each. Part numbers may leave gaps: S3 completes the parts in ascending order.
       */
      const copyPart = (c: UploadCopyChunk['copyFrom'], from: number, to: number, first: number, reserve: number) => {
        const p = (async () => {
          if (copies !== 'no') {
            const [md5, r] = await Promise.all([
              md5Local(c.local, from, to),
              client
                .uploadPart(
                  {
                    bucketName: bucket,
                    objectName: key,
                    uploadID: await started(),
                    partNumber: first,
                    headers: { 'x-amz-copy-source': copySource(c), 'x-amz-copy-source-range': `bytes=${from}-${to - 1}`, ...(c.etag && { 'x-amz-copy-source-if-match': `"${c.etag}"` }) },
                  },
                  Buffer.alloc(0),
                )
                .catch(() => null),
            ]);
            if (r && r.etag === md5) {
              copies = 'yes';
              copied += to - from;
              etags.push({ part: first, etag: r.etag });
              return;
            }
            copies = 'no';
          }
          const id = await started();
          const step = Math.ceil((to - from) / reserve);
          for (let i = 0, at = from; at < to; i++, at += step) {
            const end = Math.min(to, at + step);
            const buf = Buffer.allocUnsafe(end - at);
            await readFully(c.local, buf, 0, end - at, at);
            const r = await client.uploadPart({ bucketName: bucket, objectName: key, uploadID: id, partNumber: first + i, headers: {} }, buf);
            etags.push({ part: first + i, etag: r.etag });
          }
        })()
          .catch((e: Error) => {
            failure ??= e;
          })
          .finally(() => {
            c.release?.();
            inFlight.delete(p);
            copying.delete(p);
          });
        inFlight.add(p);
        copying.add(p);
      };
      /** A range of a stored object: the part being filled is topped up to MIN_PART and sent, then the rest is copied. */
      const writeCopy = async (c: UploadCopyChunk['copyFrom']) => {
        let from = c.start;
        const to = c.start + c.length;
        // Too short to be worth a part of its own, no copy on this backend, or too many parts: the local bytes.
        if (copies === 'no' || c.length < 2 * MIN_PART || c.length > MAX_COPY_PART || partNumber + Math.floor(c.length / MIN_PART) + 1 >= MAX_PARTS) {
          await writeLocal(c.local, from, to);
          c.release?.();
          return;
        }
        if (filled > 0 && filled < MIN_PART) {
          const n = MIN_PART - filled;
          await writeLocal(c.local, from, from + n);
          from += n;
        }
        if (filled > 0) {
          await room();
          send(current!, filled);
          current = null;
          filled = 0;
        }
        while (copying.size >= COPY_CONCURRENCY) await Promise.race(copying);
        if (failure) throw failure;
        const reserve = Math.max(1, Math.floor((to - from) / MIN_PART));
        const first = partNumber + 1;
        partNumber += reserve;
        copyPart(c, from, to, first, reserve);
      };

      const stream = new Writable({
        objectMode: true,
        highWaterMark: 2,
        write(chunk: Buffer | UploadCopyChunk | UploadFileChunk, _enc, cb) {
          const f = isUploadFileChunk(chunk) ? chunk.fromFile : null;
          (f ? writeLocal(f.local, f.start, f.start + f.length, f.seen) : isUploadCopyChunk(chunk) ? writeCopy(chunk.copyFrom) : writeBytes(chunk as Buffer)).then(
            () => cb(),
            (e: Error) => cb(e),
          );
        },
        final(cb) {
          void (async () => {
            // A zero-byte object is one empty part.
            if (filled > 0 || partNumber === 0) {
              await room();
              send(current ?? takeBuffer(), filled);
              current = null;
            }
            await Promise.all([...inFlight]);
            if (failure) throw failure;
            etags.sort((a, b) => a.part - b.part);
            await client.completeMultipartUpload(bucket, key, await started(), etags);
          })().then(
            () => {
              settle.resolve();
              cb();
            },
            (e: Error) => cb(e),
          );
        },
        destroy(err, cb) {
          // Destroyed after a clean finish: nothing to undo.
          if (!err && stream.writableFinished) return cb(null);
          void abort(err ?? new Error(`upload of ${key} was cancelled`)).then(() => cb(err));
        },
      });
      done.catch(() => undefined);
      // A failure is reported by `done` (and to the write that met it): without a listener, the stream's 'error'
      // event would be an uncaught exception in the process that writes.
      stream.on('error', () => undefined);
      return { stream, done, copiedBytes: () => copied };
    },
    async ping() {
      await client.bucketExists(bucket);
    },
    capabilities,
  };
}
