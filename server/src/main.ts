import { serve } from '@hono/node-server';
import { Redis } from 'ioredis';
import { systemClock } from './adapters/clock.ts';
import { createS3Store } from './adapters/object-store.ts';
import { createApp } from './app.ts';
import { storageReport } from './services/health.service.ts';
import { fileSigningKey } from './adapters/signing-key.ts';
import { authSettingsFrom, incidentSettingsFrom, loadConfigOrExit } from './config.ts';
import { createDb } from './db/connect.ts';
import { migrateToLatest } from './db/migrate.ts';
import { createJobQueue } from './jobs/queue.ts';

const cfg = loadConfigOrExit();
const log = (line: Record<string, unknown>) => console.log(JSON.stringify({ t: new Date().toISOString(), ...line }));

const db = createDb(cfg.DATABASE_URL, 10, (e) => log({ level: 'warn', msg: 'idle database connection lost', error: e.message }));
const redis = new Redis(cfg.REDIS_URL, { maxRetriesPerRequest: null, lazyConnect: false });
const jobs = createJobQueue({ connection: redis, prefix: cfg.QUEUE_PREFIX });
const store = createS3Store({ endpoint: cfg.S3_ENDPOINT, accessKey: cfg.S3_ACCESS_KEY, secretKey: cfg.S3_SECRET_KEY, bucket: cfg.S3_BUCKET, region: cfg.S3_REGION });

const applied = await migrateToLatest(db);
if (applied.length) log({ level: 'info', msg: 'migrations applied', applied });
await store.ensureBucket();
const storage = storageReport(await store.capabilities());
log({ level: 'info', msg: 'object store', bucket: store.bucket, capabilities: storage });
if (storage.warning) log({ level: 'warn', msg: storage.warning, bucket: store.bucket });

if (cfg.ADMIN_TOKEN) log({ level: 'warn', msg: 'ADMIN_TOKEN is set: its bearer reads footage of every site (audited as admin-token). Unset it once people sign in.' });
const app = createApp({
  db,
  redis,
  store,
  clock: systemClock,
  jobs,
  auth: authSettingsFrom(cfg),
  incidents: incidentSettingsFrom(cfg),
  adminToken: cfg.ADMIN_TOKEN,
  mediaSecret: cfg.MEDIA_LINK_SECRET,
  signingKey: fileSigningKey(cfg.PACK_SIGNING_KEY_FILE),
  mediaTtlSeconds: cfg.MEDIA_LINK_TTL_SECONDS,
  maxSegmentBytes: cfg.MAX_SEGMENT_BYTES,
  maxRecordingBytes: cfg.MAX_RECORDING_BYTES,
  webRoot: cfg.WEB_ROOT,
  log,
});
const server = serve({ fetch: app.fetch, hostname: cfg.HOST, port: cfg.PORT }, (info) => log({ level: 'info', msg: 'listening', url: `http://${info.address}:${info.port}` }));

let stopping = false;
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    log({ level: 'info', msg: 'stopping', signal: sig });
    server.close(async () => {
      await jobs.close().catch(() => undefined);
      await Promise.allSettled([db.destroy(), redis.quit()]);
      process.exit(0);
    });
    setTimeout(() => process.exit(0), 10_000).unref();
  });
}
