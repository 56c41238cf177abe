import { readFileSync } from 'node:fs';
import { serveStatic } from '@hono/node-server/serve-static';
import { AGENT_API_BASE } from '@mamoru/contract/paths';
import type { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { secureHeaders } from 'hono/secure-headers';
import type { Redis } from 'ioredis';
import type { Clock } from './adapters/clock.ts';
import type { ObjectStore } from './adapters/object-store.ts';
import { fileSigningKey, type SigningKeyStore } from './adapters/signing-key.ts';
import { type AppAuthSettings, type IncidentSettings, loadIncidentSettings } from './config.ts';
import type { Db } from './db/connect.ts';
import type { AppEnv } from './http/app-env.ts';
import { httpAuth, routeMatcher } from './http/auth.ts';
import { bodyLimit, bodyRuleFor, bodyRules } from './http/body-limit.ts';
import { requestIds } from './http/request-id.ts';
import { textGuard } from './http/text-guard.ts';
import { apiNoStore, webAppCsp } from './http/web-csp.ts';
import { DomainError } from './domain/errors.ts';
import { retryAfterOf, statusOf } from './http/errors.ts';
import { router } from './http/openapi.ts';
import type { JobQueue } from './jobs/queue.ts';
import { createRepositories, transactor } from './repositories/index.ts';
import { agentAdminRoutes } from './routes/agent-admin.routes.ts';
import { agentCallRoutes } from './routes/agent-calls.routes.ts';
import { agentCommandRoutes } from './routes/agent-commands.routes.ts';
import { agentRoutes } from './routes/agent.routes.ts';
import { auditRoutes } from './routes/audit.routes.ts';
import { authRoutes } from './routes/auth.routes.ts';
import { callRoutes } from './routes/calls/index.ts';
import { fleetRoutes } from './routes/fleet.routes.ts';
import { disclosureRoutes } from './routes/disclosures/index.ts';
import { footageRoutes } from './routes/footage.routes.ts';
import { incidentRoutes } from './routes/incidents/index.ts';
import { jobRoutes } from './routes/jobs.routes.ts';
import { packRoutes } from './routes/packs/index.ts';
import { shareRefusalPage, shareRoutes } from './routes/share.routes.ts';
import { retentionRoutes } from './routes/retention.routes.ts';
import { siteRoutes } from './routes/site.routes.ts';
import { systemRoutes } from './routes/system.routes.ts';
import { userRoutes } from './routes/user.routes.ts';
import { agentAdminService } from './services/agent-admin.service.ts';
import { agentAuthService } from './services/agent-auth.service.ts';
import { agentCommandService } from './services/agent-command.service.ts';
import { auditService } from './services/audit.service.ts';
import { authService } from './services/auth.service.ts';
import { callIngestService } from './services/call-ingest.service.ts';
import { callQueryService } from './services/call-query.service.ts';
import { fleetService } from './services/fleet.service.ts';
import { disclosureService } from './services/disclosure.service.ts';
import { healthService } from './services/health.service.ts';
import { incidentQueryService } from './services/incident-query.service.ts';
import { incidentService } from './services/incident.service.ts';
import { ingestService } from './services/ingest.service.ts';
import { timeRefusals } from './services/time-refusal.ts';
import { storageLockService } from './services/storage-lock.service.ts';
import { storageLockRepository } from './repositories/storage-lock.repository.ts';
import { jobStatusService } from './services/job-status.service.ts';
import { evidencePackService } from './services/evidence-pack.service.ts';
import { packRepository } from './repositories/pack.repository.ts';
import { playbackService } from './services/playback.service.ts';
import { retentionPolicyService } from './services/retention.service.ts';
import { siteService } from './services/site.service.ts';
import { userService } from './services/user.service.ts';

export type AppDeps = {
  db: Db;
  redis: Redis;
  store: ObjectStore;
  clock: Clock;
  /** Background jobs (BullMQ); the API only enqueues and reads state. */
  jobs: JobQueue;
  auth: AppAuthSettings;
  /** Linking margins, incident evidence retention, command redelivery (defaults when absent). */
  incidents?: IncidentSettings | undefined;
  /** Legacy operator bearer for the read APIs; undefined = sessions only. */
  adminToken?: string | undefined;
  mediaSecret: string;
  mediaTtlSeconds: number;
  maxSegmentBytes: number;
  maxRecordingBytes: number;
  webRoot?: string | undefined;
  log?: (line: Record<string, unknown>) => void;
  /** The evidence-signing key (PACK_SIGNING_KEY_FILE); its fingerprint is shown to hq. Default: ./data/pack-signing-key.pem. */
  signingKey?: SigningKeyStore | undefined;
};

/** People, sessions, sites, agents' enrollment and the audit log: what needs only PostgreSQL (the command line uses this). */
export function buildAccessServices(d: Pick<AppDeps, 'db' | 'clock' | 'auth'>) {
  const repos = createRepositories(d.db);
  const tx = transactor(d.db);
  const audit = auditService({ tx, audit: repos.audit, clock: d.clock });
  return {
    repos,
    tx,
    audit,
    auth: authService({ tx, users: repos.users, sessions: repos.sessions, throttle: repos.throttle, audit, clock: d.clock, settings: d.auth }),
    users: userService({ tx, users: repos.users, sites: repos.sites, audit, clock: d.clock }),
    sites: siteService({ tx, sites: repos.sites, audit }),
    agentAuth: agentAuthService({ agents: repos.agents, sites: repos.sites, clock: d.clock, audit }),
    agentAdmin: agentAdminService({ tx, agents: repos.agents, sites: repos.sites, audit, clock: d.clock }),
  };
}

/** Repositories and services, built once per process from adapters. */
export function buildServices(d: Pick<AppDeps, 'db' | 'redis' | 'store' | 'clock' | 'jobs' | 'auth' | 'incidents' | 'mediaSecret' | 'mediaTtlSeconds' | 'maxSegmentBytes' | 'maxRecordingBytes' | 'log' | 'signingKey'>) {
  const a = buildAccessServices(d);
  const { repos, audit, tx } = a;
  const incidentSettings = d.incidents ?? loadIncidentSettings();
  const agentCommands = agentCommandService({ tx, audit, clock: d.clock, redeliverSeconds: incidentSettings.commandRedeliverSeconds });
  // Object Lock in the storage mirrors holds and retention (issue 15); a no-op where the backend has none.
  const storageLock = storageLockService({ repo: storageLockRepository(d.db), store: d.store, clock: d.clock, log: d.log });
  return {
    ...a,
    agentCommands,
    storageLock,
    incidents: incidentService({ tx, audit, clock: d.clock, settings: incidentSettings, calls: repos.calls, storageHolds: storageLock, log: d.log }),
    incidentQuery: incidentQueryService({ incidents: repos.incidents, calls: repos.calls, recordings: repos.recordings, linking: repos.linking, commands: repos.agentCommands, audit, clock: d.clock, mediaSecret: d.mediaSecret, mediaTtlSeconds: d.mediaTtlSeconds }),
    ingest: ingestService({ tx, cameras: repos.cameras, segments: repos.segments, agents: repos.agents, store: d.store, clock: d.clock, maxSegmentBytes: d.maxSegmentBytes, audit, commands: agentCommands, storageLock }),
    playback: playbackService({ cameras: repos.cameras, segments: repos.segments, store: d.store, clock: d.clock, mediaSecret: d.mediaSecret, mediaTtlSeconds: d.mediaTtlSeconds, audit }),
    health: healthService({ db: d.db, redis: d.redis, store: d.store }),
    callIngest: callIngestService({ calls: repos.calls, recordings: repos.recordings, store: d.store, clock: d.clock, jobs: d.jobs, maxRecordingBytes: d.maxRecordingBytes, log: d.log, storageLock, timeChecks: timeRefusals({ agents: repos.agents, audit, clock: d.clock }) }),
    callQuery: callQueryService({ calls: repos.calls, recordings: repos.recordings, sites: repos.sites, store: d.store, clock: d.clock, mediaSecret: d.mediaSecret, mediaTtlSeconds: d.mediaTtlSeconds, audit }),
    jobStatus: jobStatusService({ jobs: d.jobs, audit }),
    fleet: fleetService({ fleet: repos.fleet, sites: repos.sites, audit, clock: d.clock }),
    retentionPolicies: retentionPolicyService({ tx: a.tx, retention: repos.retention, audit, clock: d.clock }),
    packs: evidencePackService({ packs: packRepository(d.db), incidents: repos.incidents, audit, jobs: d.jobs, store: d.store, signingKey: d.signingKey ?? fileSigningKey('./data/pack-signing-key.pem'), clock: d.clock, grantSecret: d.mediaSecret }),
    disclosures: disclosureService({ tx, audit, clock: d.clock, store: d.store, jobs: d.jobs, margins: { beforeS: incidentSettings.marginBeforeSeconds, afterS: incidentSettings.marginAfterSeconds } }),
  };
}

export function createApp(d: AppDeps): Hono<AppEnv> {
  const s = buildServices(d);
  const app = router();
  app.use('*', requestIds());
  app.use('*', secureHeaders({ crossOriginResourcePolicy: 'same-origin' }));
  app.use('/api/v1/*', apiNoStore());
  // Before anything reads a body or authenticates: every body has a limit (413), no text holds NUL or a lone surrogate (400).
  app.use('*', bodyLimit(bodyRuleFor(bodyRules({ segmentBytes: d.maxSegmentBytes, recordingBytes: d.maxRecordingBytes }))));
  app.use('*', textGuard());

  app.onError((err, c) => {
    const rid = c.get('requestId') ?? '';
    if (err instanceof DomainError && c.req.path.startsWith('/share/')) return shareRefusalPage(c, err);
    if (err instanceof DomainError) {
      const retry = retryAfterOf(err);
      if (retry !== undefined) c.header('retry-after', String(retry));
      return c.json({ error: { code: err.code, message: err.message, requestId: rid, ...(err.details !== undefined && { details: err.details }) } }, statusOf(err));
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

  // Secure by default: every /api/v1 path needs a session unless http/auth.ts classifyPath lists it.
  // The route table is complete once every router is mounted below; the gate reads it on first use.
  let isRoute: ((method: string, path: string) => boolean) | undefined;
  const http = httpAuth({ ...d.auth, adminToken: d.adminToken }, { auth: s.auth, agentAuth: s.agentAuth, isRoute: (m, p) => (isRoute ??= routeMatcher(app.routes.filter((r) => r.path.startsWith('/api/v1/'))))(m, p) });
  app.use('/api/v1/*', http.gate);

  app.route('/api/v1', systemRoutes({ health: s.health, clock: d.clock }));
  app.route('/api/v1', authRoutes({ auth: s.auth, http, clock: d.clock }));
  app.route(AGENT_API_BASE, agentRoutes({ auth: s.agentAuth, ingest: s.ingest, http, clock: d.clock }));
  app.route(AGENT_API_BASE, agentCallRoutes({ calls: s.callIngest, http }));
  app.route(AGENT_API_BASE, agentCommandRoutes({ commands: s.agentCommands, http }));
  app.route('/api/v1', footageRoutes({ playback: s.playback }));
  app.route('/api/v1', callRoutes({ calls: s.callQuery }));
  app.route('/api/v1', incidentRoutes({ incidents: s.incidents, query: s.incidentQuery }));
  app.route('/api/v1', jobRoutes({ jobs: s.jobStatus }));
  app.route('/api/v1', siteRoutes({ sites: s.sites }));
  app.route('/api/v1', userRoutes({ users: s.users }));
  app.route('/api/v1', auditRoutes({ audit: s.audit }));
  app.route('/api/v1', retentionRoutes({ policies: s.retentionPolicies }));
  app.route('/api/v1', fleetRoutes({ fleet: s.fleet }));
  app.route('/api/v1', agentAdminRoutes({ agents: s.agentAdmin }));
  app.route('/api/v1', packRoutes({ packs: s.packs }));
  app.route('/api/v1', disclosureRoutes({ disclosures: s.disclosures }));
  app.doc31('/api/v1/openapi.json', { openapi: '3.1.0', info: { title: 'Mamoru evidence server', version: '0.1.0', description: 'Footage and call evidence for customer-harassment incidents.' } });

  // The police share page: outside /api/v1 (no session), plain HTML, never indexed.
  app.route('/', shareRoutes({ packs: s.packs, origin: http.origin }));

  if (d.webRoot) {
    let indexHtml: string | undefined;
    try {
      indexHtml = readFileSync(`${d.webRoot}/index.html`, 'utf8');
    } catch {
      indexHtml = undefined; // not built: the policy then allows no inline script at all
    }
    const csp = webAppCsp(indexHtml);
    app.use('/*', async (c, next) => {
      await next();
      if (c.req.path.startsWith('/api/')) return;
      if (!c.res.headers.has('content-security-policy')) c.res.headers.set('content-security-policy', csp);
      // The build's hashed files never change under their name: cached for good. The page itself (index.html, every
      // app route) is asked again each time, so a new deployment's page and files are picked up at once.
      if (c.req.path.startsWith('/_app/immutable/')) {
        if (c.res.status === 200) c.res.headers.set('cache-control', 'public, max-age=31536000, immutable');
      } else if (!c.res.headers.has('cache-control')) c.res.headers.set('cache-control', 'no-cache');
    });
    app.use('/*', serveStatic({ root: d.webRoot }));
    // SPA fallback for the app's own routes only: an unknown API path or a missing build asset stays a JSON 404.
    const spaIndex = serveStatic({ path: `${d.webRoot}/index.html` });
    app.get('/*', (c, next) => (c.req.path.startsWith('/api/') || c.req.path.startsWith('/_app/') ? next() : spaIndex(c, next)));
  }
  return app;
}
