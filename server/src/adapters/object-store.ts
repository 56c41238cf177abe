import type { Readable } from 'node:stream';
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
