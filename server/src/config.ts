import { z } from 'zod';

const bool = (def: 'true' | 'false') => z.enum(['true', 'false', '1', '0']).default(def).transform((v) => v === 'true' || v === '1');

/** Sign-in, session and cookie settings (also read by the command line). */
const authEnv = z.object({
  /** Mark the session cookie Secure (and name it __Host-…): set when people reach the centre over TLS. */
  COOKIE_SECURE: bool('false'),
  /** Reverse proxies in front of the server that append X-Forwarded-For (0: the socket address is the client). */
  TRUST_PROXY_HOPS: z.coerce.number().int().min(0).max(5).default(0),
  /** Absolute session lifetime and idle timeout. */
  SESSION_TTL_SECONDS: z.coerce.number().int().min(300).max(30 * 86400).default(12 * 3600),
  SESSION_IDLE_SECONDS: z.coerce.number().int().min(60).max(30 * 86400).default(2 * 3600),
  /** Sign-in throttling: failures per account (or unknown login) and per client address within the window lock for LOGIN_LOCK_SECONDS. */
  LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).max(100).default(5),
  LOGIN_IP_MAX_FAILURES: z.coerce.number().int().min(1).max(10_000).default(20),
  LOGIN_FAILURE_WINDOW_SECONDS: z.coerce.number().int().min(1).max(86400).default(15 * 60),
  LOGIN_LOCK_SECONDS: z.coerce.number().int().min(1).max(86400).default(15 * 60),
});

/** Incidents: linking margins and limits, incident evidence retention, agent command redelivery. */
const incidentEnv = z.object({
  /** Footage and calls linked around a case window by default: this much before its start and after its end. */
  INCIDENT_MARGIN_BEFORE_SECONDS: z.coerce.number().int().min(0).max(86400).default(300),
  INCIDENT_MARGIN_AFTER_SECONDS: z.coerce.number().int().min(0).max(86400).default(300),
  /** The largest margin a filing may ask for. */
  INCIDENT_MAX_MARGIN_SECONDS: z.coerce.number().int().min(0).max(86400).default(3600),
  /** The longest case window or linked camera window. */
  INCIDENT_MAX_WINDOW_SECONDS: z.coerce.number().int().min(60).max(7 * 86400).default(86400),
  /** A command delivered to an agent and not acknowledged within this is delivered again. */
  AGENT_COMMAND_REDELIVER_SECONDS: z.coerce.number().int().min(5).max(86400).default(300),
});

/** Variables both the API server and the worker read. */
const common = {
  DATABASE_URL: z.string().url().refine((u) => u.startsWith('postgres://') || u.startsWith('postgresql://'), 'must be a postgres:// URL'),
  REDIS_URL: z.string().url().refine((u) => u.startsWith('redis://'), 'must be a redis:// URL'),
  S3_ENDPOINT: z.string().url(),
  S3_ACCESS_KEY: z.string().min(1),
  S3_SECRET_KEY: z.string().min(1),
  S3_BUCKET: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid S3 bucket name'),
  S3_REGION: z.string().default('us-east-1'),
  /** Redis key prefix of the job queue; centres (or test runs) sharing one Redis use different prefixes. */
  QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/).default('mamoru'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  /**
   * The centre's Ed25519 evidence-signing key (PEM, PKCS#8), created on first use with mode 0600. Keep it out of
   * database dumps and back it up apart from them; every server and worker process reads the same file.
   */
  PACK_SIGNING_KEY_FILE: z.string().min(1).default('./data/pack-signing-key.pem'),
};

/** Every environment variable the API server reads, validated once at start. */
const schema = z.object({
  ...common,
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  ...authEnv.shape,
  ...incidentEnv.shape,
  /**
   * Optional legacy operator bearer for the read APIs (footage and calls of every site, audited). Leave unset in
   * production: people sign in with sessions. Kept until the web viewer signs people in.
   */
  ADMIN_TOKEN: z.preprocess((v) => (v === '' ? undefined : v), z.string().min(24, 'must be at least 24 characters').optional()),
  /** HMAC key for short-lived media links in playlists. */
  MEDIA_LINK_SECRET: z.string().min(32, 'must be at least 32 characters'),
  MEDIA_LINK_TTL_SECONDS: z.coerce.number().int().min(30).max(86400).default(3600),
  /** Largest segment body accepted, bytes. */
  MAX_SEGMENT_BYTES: z.coerce.number().int().min(1).default(2 * 1024 ** 3),
  /** Largest call recording original accepted, bytes. */
  MAX_RECORDING_BYTES: z.coerce.number().int().min(1).default(1024 ** 3),
  WEB_ROOT: z.string().optional(),
});

/** The worker needs no API secrets. */
const workerSchema = z.object({
  ...common,
  /** Jobs one worker process runs at once (ffmpeg uses one thread per job). */
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(1),
  FFMPEG_PATH: z.string().min(1).default('ffmpeg'),
  FFPROBE_PATH: z.string().min(1).default('ffprobe'),
  /** Grace before an object no row points at is swept (invariant 2); longer than any upload takes. */
  ORPHAN_GRACE_SECONDS: z.coerce.number().int().min(60).default(24 * 3600),
  /** Scratch space for derivations (defaults to the OS temp directory). */
  WORK_DIR: z.string().optional(),
  /**
   * Evidence packs: copy the original segments into the ZIP inside S3 (UploadPartCopy) instead of uploading them from
   * the worker's scratch copies. Worth it where the worker's link to S3 is the bottleneck; on S3 that shares the
   * worker's host it is slower (docs/benchmarks.md, "Evidence pack").
   */
  PACK_COPY_ORIGINALS_IN_S3: bool('false'),
  /** Chromium for the packs' PDF reports (print-to-PDF). */
  CHROMIUM_PATH: z.string().min(1).default('/usr/bin/chromium'),
});

export type Config = z.infer<typeof schema>;
export type WorkerConfig = z.infer<typeof workerSchema>;

/** The sign-in and session settings the services and the HTTP layer take. */
export function authSettingsFrom(cfg: z.infer<typeof authEnv>) {
  return {
    sessionTtlSeconds: cfg.SESSION_TTL_SECONDS,
    sessionIdleSeconds: cfg.SESSION_IDLE_SECONDS,
    account: { maxFailures: cfg.LOGIN_MAX_FAILURES, windowSeconds: cfg.LOGIN_FAILURE_WINDOW_SECONDS, lockSeconds: cfg.LOGIN_LOCK_SECONDS },
    ip: { maxFailures: cfg.LOGIN_IP_MAX_FAILURES, windowSeconds: cfg.LOGIN_FAILURE_WINDOW_SECONDS, lockSeconds: cfg.LOGIN_LOCK_SECONDS },
    cookieSecure: cfg.COOKIE_SECURE,
    trustProxyHops: cfg.TRUST_PROXY_HOPS,
  };
}
export type AppAuthSettings = ReturnType<typeof authSettingsFrom>;

export function incidentSettingsFrom(cfg: z.infer<typeof incidentEnv>) {
  return {
    marginBeforeSeconds: cfg.INCIDENT_MARGIN_BEFORE_SECONDS,
    marginAfterSeconds: cfg.INCIDENT_MARGIN_AFTER_SECONDS,
    maxMarginSeconds: cfg.INCIDENT_MAX_MARGIN_SECONDS,
    maxWindowSeconds: cfg.INCIDENT_MAX_WINDOW_SECONDS,
    commandRedeliverSeconds: cfg.AGENT_COMMAND_REDELIVER_SECONDS,
  };
}
export type IncidentSettings = ReturnType<typeof incidentSettingsFrom>;

/** Incident settings, defaults filled in (tests, and callers that build services without the full environment). */
export function loadIncidentSettings(env: Record<string, string | undefined> = {}): IncidentSettings {
  return incidentSettingsFrom(parse(incidentEnv, env));
}

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Only the sign-in settings, defaults filled in (for the command line, the worker and tests). */
export function loadAuthSettings(env: Record<string, string | undefined> = {}): AppAuthSettings {
  return authSettingsFrom(parse(authEnv, env));
}

/** Parses the environment; throws ConfigError listing every bad variable. */
function parse<T extends z.ZodType>(s: T, env: Record<string, string | undefined>): z.infer<T> {
  const result = s.safeParse(env);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  return result.data;
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  return parse(schema, env);
}

export function loadWorkerConfig(env: Record<string, string | undefined> = process.env): WorkerConfig {
  return parse(workerSchema, env);
}

/** For entry points: print every problem and exit non-zero. */
export function loadConfigOrExit(): Config;
export function loadConfigOrExit(kind: 'worker'): WorkerConfig;
export function loadConfigOrExit(kind: 'server' | 'worker' = 'server'): Config | WorkerConfig {
  try {
    return kind === 'worker' ? loadWorkerConfig() : loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      process.exit(2);
    }
    throw e;
  }
}
