import { Writable, type Readable } from 'node:stream';
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

/** Our view of S3. Callers never see the minio client. */
export interface ObjectStore {
  readonly bucket: string;
  ensureBucket(): Promise<void>;
  put(key: string, body: Readable, size: number | undefined, metadata?: Record<string, string>): Promise<void>;
  stat(key: string): Promise<StoredObject | null>;
  /** The bytes [start, start+length) or the whole object. */
  read(key: string, start?: number, length?: number): Promise<Readable>;
  remove(key: string): Promise<void>;
  list(prefix: string): AsyncIterable<StoredObject>;
  /**
   * A writable that stores what is written to it at `key` as a multipart upload: `concurrency` parts in flight while
   * the next one fills, through a fixed pool of part buffers, so memory is (concurrency + 1) × partSize whatever the
   * size (for long outputs written as they are made, like a pack's ZIP). `done` resolves when the object is complete;
   * on an error, or when the stream is destroyed, the upload is aborted and `done` rejects.
   */
  createUploadStream(key: string, metadata?: Record<string, string>, o?: { partSize?: number; concurrency?: number }): { stream: Writable; done: Promise<void> };
  ping(): Promise<void>;
  capabilities(): Promise<StoreCapabilities>;
}

export interface S3Settings {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  bucket: string;
  region: string;
}

const PART_SIZE = 8 * 1024 * 1024; // bounded memory for streams of unknown length

export function createS3Store(s: S3Settings): ObjectStore {
  const url = new URL(s.endpoint);
  const client = new Minio.Client({
    endPoint: url.hostname,
    port: url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80,
    useSSL: url.protocol === 'https:',
    accessKey: s.accessKey,
    secretKey: s.secretKey,
    region: s.region,
    pathStyle: true,
    partSize: PART_SIZE,
  });
  const bucket = s.bucket;
  let caps: StoreCapabilities | undefined;

  return {
    bucket,
    async ensureBucket() {
      if (!(await client.bucketExists(bucket))) {
        try {
          await client.makeBucket(bucket, s.region);
        } catch (e) {
          if (!['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes((e as { code?: string }).code ?? '')) throw e;
        }
      }
    },
    async put(key, body, size, metadata = {}) {
      await client.putObject(bucket, key, body, size, metadata);
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
    async remove(key) {
      await client.removeObject(bucket, key);
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
      let failure: Error | null = null;
      let uploadId: Promise<string> | null = null;
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
        while (inFlight.size >= concurrency) await Promise.race(inFlight);
        if (failure) throw failure;
      };

      let settle!: { resolve: () => void; reject: (e: Error) => void };
      const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
      const abort = async (e: Error) => {
        await Promise.allSettled([...inFlight]);
        if (uploadId) await uploadId.then((id) => client.abortMultipartUpload(bucket, key, id)).catch(() => undefined);
        settle.reject(e);
      };

      const stream = new Writable({
        highWaterMark: 1024 * 1024,
        write(chunk: Buffer, _enc, cb) {
          void (async () => {
            let at = 0;
            while (at < chunk.length) {
              current ??= takeBuffer();
              const n = chunk.copy(current, filled, at);
              filled += n;
              at += n;
              if (filled === partSize) {
                await room();
                send(current, filled);
                current = null;
                filled = 0;
              }
            }
          })().then(() => cb(), (e: Error) => cb(e));
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
      return { stream, done };
    },
    async ping() {
      await client.bucketExists(bucket);
    },
    async capabilities() {
      if (caps) return caps;
      // Probe what the backend really does; s3rver in dev/CI has none of these, MinIO in compose has them.
      const objectLock = await (client.getObjectLockConfig(bucket) as unknown as Promise<unknown>)
        .then((c) => Boolean(c))
        .catch(() => false);
      const versioning = await (client.getBucketVersioning(bucket) as unknown as Promise<{ Status?: string } | undefined>)
        .then((v) => v?.Status === 'Enabled')
        .catch(() => false);
      const encryption = await (client.getBucketEncryption(bucket) as unknown as Promise<unknown>)
        .then((c) => Boolean(c))
        .catch(() => false);
      caps = { objectLock, versioning, encryption };
      return caps;
    },
  };
}
