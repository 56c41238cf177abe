import { serveStatic } from '@hono/node-server/serve-static';
import type { Hono, MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { requestId } from 'hono/request-id';
import { secureHeaders } from 'hono/secure-headers';
import type { Redis } from 'ioredis';
import type { Clock } from './adapters/clock.ts';
import type { ObjectStore } from './adapters/object-store.ts';
import type { Db } from './db/connect.ts';
import type { AppEnv } from './http/app-env.ts';
import { adminTokenAuth, bearer } from './http/auth.ts';
import { AppError } from './http/errors.ts';
import { router } from './http/openapi.ts';
import type { JobQueue } from './jobs/queue.ts';
import { agentRepository } from './repositories/agent.repository.ts';
import { callRepository } from './repositories/call.repository.ts';
import { cameraRepository } from './repositories/camera.repository.ts';
import { recordingRepository } from './repositories/recording.repository.ts';
import { segmentRepository } from './repositories/segment.repository.ts';
import { siteRepository } from './repositories/site.repository.ts';
import { agentCallRoutes } from './routes/agent-calls.routes.ts';
import { agentRoutes } from './routes/agent.routes.ts';
import { callRoutes } from './routes/calls.routes.ts';
import { footageRoutes } from './routes/footage.routes.ts';
import { jobRoutes } from './routes/jobs.routes.ts';
import { systemRoutes } from './routes/system.routes.ts';
import { agentAuthService } from './services/agent-auth.service.ts';
import { callIngestService } from './services/call-ingest.service.ts';
import { callQueryService } from './services/call-query.service.ts';
import { healthService } from './services/health.service.ts';
import { ingestService } from './services/ingest.service.ts';
import { jobStatusService } from './services/job-status.service.ts';
import { playbackService } from './services/playback.service.ts';

export type AppDeps = {
  db: Db;
  redis: Redis;
  store: ObjectStore;
  clock: Clock;
  /** Background jobs (BullMQ); the API only enqueues and reads state. */
  jobs: JobQueue;
  adminToken: string;
  mediaSecret: string;
  mediaTtlSeconds: number;
  maxSegmentBytes: number;
  maxRecordingBytes: number;
  webRoot?: string | undefined;
  log?: (line: Record<string, unknown>) => void;
};

/** Repositories and services, built once per process from adapters. */
export function buildServices(d: Pick<AppDeps, 'db' | 'redis' | 'store' | 'clock' | 'jobs' | 'mediaSecret' | 'mediaTtlSeconds' | 'maxSegmentBytes' | 'maxRecordingBytes' | 'log'>) {
  const repos = {
    sites: siteRepository(d.db),
    agents: agentRepository(d.db),
    cameras: cameraRepository(d.db),
    segments: segmentRepository(d.db),
    calls: callRepository(d.db),
    recordings: recordingRepository(d.db),
  };
  return {
    repos,
    agentAuth: agentAuthService({ agents: repos.agents, sites: repos.sites, clock: d.clock }),
    ingest: ingestService({ cameras: repos.cameras, segments: repos.segments, agents: repos.agents, store: d.store, clock: d.clock, maxSegmentBytes: d.maxSegmentBytes }),
    playback: playbackService({ cameras: repos.cameras, segments: repos.segments, store: d.store, clock: d.clock, mediaSecret: d.mediaSecret, mediaTtlSeconds: d.mediaTtlSeconds }),
    health: healthService({ db: d.db, redis: d.redis, store: d.store }),
    callIngest: callIngestService({ calls: repos.calls, recordings: repos.recordings, store: d.store, clock: d.clock, jobs: d.jobs, maxRecordingBytes: d.maxRecordingBytes, log: d.log }),
    callQuery: callQueryService({ calls: repos.calls, recordings: repos.recordings, sites: repos.sites, store: d.store, clock: d.clock, mediaSecret: d.mediaSecret, mediaTtlSeconds: d.mediaTtlSeconds }),
    jobStatus: jobStatusService({ jobs: d.jobs }),
  };
}

export function createApp(d: AppDeps): Hono<AppEnv> {
  const s = buildServices(d);
  const app = router();
  app.use('*', requestId());
  app.use('*', secureHeaders({ crossOriginResourcePolicy: 'same-origin' }));

  app.onError((err, c) => {
    const rid = c.get('requestId') ?? '';
    if (err instanceof AppError) {
      return c.json({ error: { code: err.code, message: err.message, requestId: rid, ...(err.details !== undefined && { details: err.details }) } }, err.status);
    }
    if (err instanceof HTTPException && err.status < 500) {
      // Hono's own validators (e.g. malformed JSON) throw these: same error shape, never a 500.
      const code = ({ 400: 'invalid_request', 413: 'body_too_large', 415: 'unsupported_media_type' } as Record<number, string>)[err.status] ?? 'http_error';
      return c.json({ error: { code, message: err.message || 'bad request', requestId: rid } }, err.status);
    }
    d.log?.({ level: 'error', requestId: rid, msg: err.message, stack: err.stack });
    return c.json({ error: { code: 'internal_error', message: 'internal error', requestId: rid } }, 500);
  });
  app.notFound((c) => c.json({ error: { code: 'route_not_found', message: `no route ${c.req.method} ${c.req.path}`, requestId: c.get('requestId') ?? '' } }, 404));

  const adminAuth = adminTokenAuth(d.adminToken);
  const optionalAdminAuth: MiddlewareHandler<AppEnv> = async (c, next) => (bearer(c.req.header('authorization')) ? adminAuth(c, next) : next());

  app.route('/api/v1', systemRoutes({ health: s.health, clock: d.clock }));
  app.route('/api/v1/agent', agentRoutes({ auth: s.agentAuth, ingest: s.ingest }));
  app.route('/api/v1/agent', agentCallRoutes({ auth: s.agentAuth, calls: s.callIngest }));
  app.route('/api/v1', footageRoutes({ playback: s.playback, auth: adminAuth, optionalAuth: optionalAdminAuth }));
  app.route('/api/v1', callRoutes({ calls: s.callQuery, auth: adminAuth, optionalAuth: optionalAdminAuth }));
  app.route('/api/v1', jobRoutes({ jobs: s.jobStatus, auth: adminAuth }));
  app.doc31('/api/v1/openapi.json', { openapi: '3.1.0', info: { title: 'Mamoru evidence server', version: '0.1.0', description: 'Footage and call evidence for customer-harassment incidents.' } });

  if (d.webRoot) {
    app.use('/*', serveStatic({ root: d.webRoot }));
    // SPA fallback for the app's own routes only: an unknown API path or a missing build asset stays a JSON 404.
    const spaIndex = serveStatic({ path: `${d.webRoot}/index.html` });
    app.get('/*', (c, next) => (c.req.path.startsWith('/api/') || c.req.path.startsWith('/_app/') ? next() : spaIndex(c, next)));
  }
  return app;
}
