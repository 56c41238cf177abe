/** A real centre for tests: its own PostgreSQL database and S3 bucket, shared Redis, served on a free port. */
import { serve, type ServerType } from '@hono/node-server';
import { Redis } from 'ioredis';
import { ffmpegAudioTools } from '../../src/adapters/audio-tools.ts';
import { detectFaceDetector } from '../../src/adapters/face-detector.ts';
import { ffmpegMediaMasker } from '../../src/adapters/media-mask.ts';
import { systemClock, type Clock } from '../../src/adapters/clock.ts';
import { hashSecret, randomToken, sha256Hex } from '../../src/adapters/crypto.ts';
import { createS3Store, type ObjectStore } from '../../src/adapters/object-store.ts';
import { fileSigningKey, type SigningKeyStore } from '../../src/adapters/signing-key.ts';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildServices, createApp } from '../../src/app.ts';
import { type AppAuthSettings, type IncidentSettings, loadAuthSettings, loadIncidentSettings } from '../../src/config.ts';
import type { Role } from '../../src/domain/principal.ts';
import { sessionCookieName } from '../../src/http/auth.ts';
import { createDb, type Db } from '../../src/db/connect.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { buildHandlers, buildWorkerServices } from '../../src/jobs/handlers.ts';
import { createJobQueue, type JobQueue, type JobWorker, startJobWorker } from '../../src/jobs/queue.ts';
import { createTestDatabase, TEST_ENV, uniqueName } from '../../../test-support/src/env.ts';
import { dropTestBucket } from '../../../test-support/src/s3-cleanup.ts';

export type TestCentre = {
  url: string;
  port: number;
  db: Db;
  /** For child processes (the worker entry point) that use this centre's database and bucket. */
  databaseUrl: string;
  store: ObjectStore;
  redis: Redis;
  /** The job queue, under a Redis prefix of its own. */
  jobs: JobQueue;
  queuePrefix: string;
  /** The legacy operator bearer this centre accepts ('' when started with `adminToken: null`). */
  adminToken: string;
  /** The HMAC key of media links (tests forge and expire links with it). */
  mediaSecret: string;
  /** The evidence-signing key (a key file of this centre's own under the temp folder). */
  signingKey: SigningKeyStore;
  signingKeyFile: string;
  services: ReturnType<typeof buildServices>;
  /** The Hono app being served (its route table drives the authorization matrix). */
  app: ReturnType<typeof createApp>;
  auth: AppAuthSettings;
  /** The session cookie's name (depends on COOKIE_SECURE). */
  cookieName: string;
  /**
   * A person with a role and (for store_manager/security) sites. All test users share one password
   * (TEST_PASSWORD) whose scrypt hash is computed once per centre, so creating many is cheap.
   */
  createUser(opts: { role: Role; siteIds?: string[]; login?: string; displayName?: string }): Promise<{ id: string; login: string; password: string }>;
  /** A `cookie` header value for a fresh session of a user, made without the password (tests only). */
  sessionCookie(userId: string): Promise<string>;
  /** Signs in through the API; returns the `cookie` header value. */
  signIn(login: string, password?: string): Promise<string>;
  /** A `cookie` header of a fresh hq session (reads every site), for tests about footage rather than access. */
  hqCookie(): Promise<string>;
  /** Creates a site and returns a fresh enrollment token for it. */
  createSite(code?: string, timezone?: string): Promise<{ siteId: string; code: string; token: string }>;
  enrollAgent(token: string): Promise<{ agentId: string; siteId: string; credential: string }>;
  objectCount(prefix?: string): Promise<number>;
  /** The worker's services (real ffmpeg), to run a handler directly. */
  workerServices(): ReturnType<typeof buildWorkerServices>;
  /** Starts a real BullMQ worker on this centre's queue; closed with the centre. */
  startWorker(concurrency?: number): JobWorker;
  /** Stops serving (the database and bucket stay) so a test can take the centre down and bring it back. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
};

export type CentreOptions = {
  port?: number;
  clock?: Clock;
  maxSegmentBytes?: number;
  mediaTtlSeconds?: number;
  maxRecordingBytes?: number;
  /** Serve the built web app from this folder (e.g. web/build), as WEB_ROOT does. */
  webRoot?: string;
  /** Sign-in, session and cookie settings over the defaults. */
  auth?: Partial<AppAuthSettings>;
  /** Incident settings (margins, retention, command redelivery) over the defaults. */
  incidents?: Partial<IncidentSettings>;
  /** The legacy ADMIN_TOKEN (a random one by default, as the footage and call tests use it); null = sessions only. */
  adminToken?: string | null;
  /** The worker's PACK_COPY_ORIGINALS_IN_S3. */
  packCopyOriginalsInS3?: boolean;
};

export const TEST_PASSWORD = 'correct horse battery staple';

export async function startCentre(opts: CentreOptions = {}): Promise<TestCentre> {
  const database = await createTestDatabase('centre');
  // Dropping the database at close() may terminate a connection pg is still closing: expected, not an error.
  const db = createDb(database.url, 5, () => undefined);
  await migrateToLatest(db);
  const store = createS3Store({ endpoint: TEST_ENV.s3Endpoint, accessKey: TEST_ENV.s3AccessKey, secretKey: TEST_ENV.s3SecretKey, bucket: uniqueName('b').toLowerCase().replaceAll('_', '-'), region: 'us-east-1' });
  await store.ensureBucket();
  const redis = new Redis(TEST_ENV.redisUrl, { maxRetriesPerRequest: null });
  const adminToken = opts.adminToken === null ? undefined : (opts.adminToken ?? `test-admin-${uniqueName('x')}`);
  const auth = { ...loadAuthSettings({}), ...opts.auth };
  const queuePrefix = uniqueName('q');
  const jobs = createJobQueue({ connection: redis, prefix: queuePrefix });
  const clock = opts.clock ?? systemClock;
  const signingKeyFile = path.join(tmpdir(), `${uniqueName('pack-key')}.pem`);
  const signingKey = fileSigningKey(signingKeyFile);
  const deps = {
    db,
    redis,
    store,
    clock,
    jobs,
    auth,
    incidents: { ...loadIncidentSettings({}), ...opts.incidents },
    adminToken,
    mediaSecret: 'm'.repeat(40),
    mediaTtlSeconds: opts.mediaTtlSeconds ?? 600,
    maxSegmentBytes: opts.maxSegmentBytes ?? 512 * 1024 * 1024,
    maxRecordingBytes: opts.maxRecordingBytes ?? 64 * 1024 * 1024,
    webRoot: opts.webRoot,
    signingKey,
  };
  const workers: JobWorker[] = [];
  let workerSvc: ReturnType<typeof buildWorkerServices> | undefined;
  const workerServices = () => (workerSvc ??= buildWorkerServices({ db, store, audio: ffmpegAudioTools(), clock, jobs, signingKey, packCopyOriginalsInS3: opts.packCopyOriginalsInS3, disclosure: { masker: ffmpegMediaMasker(), faces: detectFaceDetector() } }));
  const services = buildServices(deps);
  const app = createApp(deps);
  let server: ServerType | undefined;
  let passwordHash: Promise<string> | undefined;
  let port = opts.port ?? 0;

  const start = () =>
    new Promise<void>((resolve) => {
      server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port }, (info) => {
        port = info.port;
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (!server) return resolve();
      (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      server.close(() => resolve());
      server = undefined;
    });
  await start();

  const centre: TestCentre = {
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    db,
    databaseUrl: database.url,
    store,
    redis,
    jobs,
    queuePrefix,
    adminToken: adminToken ?? '',
    mediaSecret: deps.mediaSecret,
    signingKey,
    signingKeyFile,
    services,
    app,
    auth,
    cookieName: sessionCookieName(auth.cookieSecure),
    async createUser({ role, siteIds = [], login = uniqueName(role).toLowerCase(), displayName }) {
      passwordHash ??= hashSecret(TEST_PASSWORD);
      const now = clock.now();
      const u = await services.repos.users.create({ login, displayName: displayName ?? `${role} ${login}`, passwordHash: await passwordHash, role, now });
      if (!u) throw new Error(`login ${login} taken`);
      await services.repos.users.setSites(u.id, siteIds, now);
      return { id: u.id, login, password: TEST_PASSWORD };
    },
    async sessionCookie(userId) {
      const token = randomToken();
      const now = clock.now();
      await services.repos.sessions.create({ tokenHash: sha256Hex(token), userId, now, expiresAt: new Date(now.getTime() + auth.sessionTtlSeconds * 1000), ip: '127.0.0.1', userAgent: 'test' });
      return `${sessionCookieName(auth.cookieSecure)}=${token}`;
    },
    async signIn(login, password = TEST_PASSWORD) {
      const r = await fetch(`http://127.0.0.1:${port}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login, password }) });
      if (r.status !== 200) throw new Error(`sign-in of ${login} answered ${r.status}: ${await r.text()}`);
      const set = r.headers.get('set-cookie') ?? '';
      return set.split(';')[0]!;
    },
    async hqCookie() {
      return centre.sessionCookie((await centre.createUser({ role: 'hq' })).id);
    },
    workerServices,
    startWorker(concurrency = 1) {
      const w = startJobWorker({ connection: redis, prefix: queuePrefix, handlers: buildHandlers(workerServices()), concurrency, log: () => undefined });
      workers.push(w);
      return w;
    },
    async createSite(code = uniqueName('s').toLowerCase().replaceAll('_', '-'), timezone = 'Asia/Tokyo') {
      const site = await services.repos.sites.create({ code, name: `店舗 ${code}`, timezone });
      const { token } = await services.agentAuth.issueEnrollmentToken(code, 3600, 'test');
      return { siteId: site.id, code, token };
    },
    async enrollAgent(token) {
      const r = await services.agentAuth.enroll(token, 'test-host', 'test');
      return { agentId: r.agentId, siteId: r.siteId, credential: r.credential };
    },
    async objectCount(prefix = '') {
      let n = 0;
      for await (const _ of store.list(prefix)) n++;
      return n;
    },
    stop,
    start,
    async close() {
      await stop();
      await Promise.all(workers.map((w) => w.close()));
      await workerSvc?.close();
      await jobs.close();
      // Forget this centre's queue keys in the shared Redis.
      for (let cursor = '0'; ; ) {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${queuePrefix}:*`, 'COUNT', 500);
        if (keys.length) await redis.del(...keys);
        if ((cursor = next) === '0') break;
      }
      await db.destroy();
      redis.disconnect();
      await database.drop();
      // The tests' S3 holds its data in memory (radosgw on memstore): give the bucket back.
      await dropTestBucket({ endpoint: TEST_ENV.s3Endpoint, accessKey: TEST_ENV.s3AccessKey, secretKey: TEST_ENV.s3SecretKey, bucket: store.bucket }).catch(() => undefined);
      await import('node:fs/promises').then((fs) => fs.rm(signingKeyFile, { force: true }));
    },
  };
  return centre;
}
