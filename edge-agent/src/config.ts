/**
 * The agent's configuration: a YAML or JSON file, then environment overrides, validated with zod. Every problem is
 * listed at once (the CLI prints them and exits non-zero). Camera credentials stay in this process: use
 * `redactConfig` / `describeCamera` for anything that is logged or sent.
 */
import { CAMERA_KEY } from '@mamoru/contract/agent-api';
import { UPLOAD_MODES } from '@mamoru/contract/enums';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { pbxConfigSchema } from './pbx/config.ts';

/** The centre's camera key rule (@mamoru/contract). */
export { CAMERA_KEY };

const positiveInt = z.number().int().positive();
const nonNegInt = z.number().int().nonnegative();

const OnvifSchema = z.strictObject({
  host: z.string().min(1).max(255),
  port: z.number().int().min(1).max(65535).default(80),
  username: z.string().max(200).optional(),
  password: z.string().max(200).optional(),
  profileToken: z.string().min(1).max(200).optional(),
});

const CameraSchema = z
  .strictObject({
    key: z.string().regex(CAMERA_KEY, 'letters, digits, _ and - only, 1–64 characters, starting with a letter or digit'),
    name: z.string().min(1).max(200),
    place: z.string().max(200).nullable().default(null),
    uploadMode: z.enum(UPLOAD_MODES).default('continuous'),
    transport: z.enum(['udp', 'tcp']).default('tcp'),
    rtspUrl: z
      .string()
      .refine((s) => /^rtsps?:\/\/[^/\s]+/i.test(s), 'must be an rtsp:// or rtsps:// URL')
      .optional(),
    onvif: OnvifSchema.optional(),
  })
  .superRefine((c, ctx) => {
    if ((c.rtspUrl === undefined) === (c.onvif === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'give exactly one of rtspUrl or onvif', path: [] });
    }
  });

export const AgentConfigSchema = z
  .strictObject({
    server: z.strictObject({
      url: z
        .string()
        .refine((s) => /^https?:\/\/[^/\s]+/i.test(s) && URL.canParse(s), 'must be an http:// or https:// URL')
        .transform((s) => s.replace(/\/+$/, '')),
    }),
    stateDir: z.string().min(1),
    spoolDir: z.string().min(1),
    heartbeatSeconds: z.number().min(1).max(3600).default(30),
    logLevel: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
    upload: z
      .strictObject({
        /** Cap on request-body bytes per second for all uploads together; 0 = unlimited. */
        bandwidthBytesPerSecond: nonNegInt.default(0),
        backoff: z
          .strictObject({ baseMs: positiveInt.default(1000), capMs: positiveInt.default(300_000) })
          .prefault({})
          .refine((b) => b.capMs >= b.baseMs, { message: 'capMs must be ≥ baseMs', path: ['capMs'] }),
        /** An upload that makes no progress for this long is abandoned and retried. */
        idleTimeoutMs: positiveInt.default(60_000),
        /** On shutdown, how long an in-flight upload may take to finish before it is abandoned (it is re-sent later). */
        shutdownGraceMs: nonNegInt.default(5_000),
        /** Longest Retry-After the agent will honour, seconds (a bigger value is clamped). */
        maxRetryAfterSeconds: positiveInt.default(3600),
        /**
         * While the centre gives no answer, a TCP connection to it is tried every probeMs (±25 % jitter) and a
         * heartbeat sent once one succeeds, instead of a heartbeat every heartbeatSeconds; its first answer wakes the
         * uploader out of its backoff.
         */
        probeMs: positiveInt.default(2000),
      })
      .prefault({}),
    disk: z
      .strictObject({
        maxUsePercent: z.number().gt(0).max(100).default(90),
        minFreeBytes: nonNegInt.default(1024 ** 3),
        /** Optional quota on the outbox's own bytes (pending media); 0 = no quota. */
        maxSpoolBytes: nonNegInt.default(0),
        /**
         * Room kept for live recording when held footage (case windows, never evicted) fills the disk past the
         * limits above: new footage then lives in this reserve, oldest evicted first, and new segments of open case
         * windows are no longer held. Default 512 MiB.
         */
        reserveBytes: nonNegInt.default(512 * 1024 ** 2),
        checkSeconds: z.number().min(0.05).max(3600).default(15),
      })
      .prefault({}),
    recording: z
      .strictObject({
        segmentSeconds: z.number().int().min(1).max(3600).default(60),
        ffmpegPath: z.string().min(1).default('ffmpeg'),
        ffprobePath: z.string().min(1).default('ffprobe'),
      })
      .prefault({}),
    onDemand: z
      .strictObject({
        /** Rolling buffer of on-demand cameras: media no case asked for is deleted this many days after it ended. */
        bufferDays: z.number().gt(0).max(365).default(7),
        /** How often the buffer is checked. */
        checkSeconds: z.number().min(0.05).max(3600).default(60),
      })
      .prefault({}),
    commands: z
      .strictObject({
        /** How often open case windows and unsent command acknowledgements are looked at. */
        tickSeconds: z.number().min(0.05).max(3600).default(5),
      })
      .prefault({}),
    cameras: z.array(CameraSchema).max(256).default([]),
    /** The PBX whose calls this agent collects (edge-agent/src/pbx/config.ts, docs/pbx-*.md); null = none. */
    pbx: pbxConfigSchema.nullable().default(null),
  });

/** Cross-field checks, run on the raw data so they are reported together with the schema's findings. */
function crossChecks(data: Record<string, unknown>, baseDir: string): string[] {
  const errors: string[] = [];
  if (Array.isArray(data.cameras)) {
    const seen = new Map<string, number>();
    data.cameras.forEach((cam: unknown, i) => {
      const key = (cam as { key?: unknown } | null)?.key;
      if (typeof key !== 'string') return;
      const first = seen.get(key);
      if (first !== undefined) errors.push(`cameras.${i}.key: duplicate camera key '${key}' (also cameras.${first})`);
      else seen.set(key, i);
    });
  }
  if (typeof data.stateDir === 'string' && typeof data.spoolDir === 'string' && data.stateDir && resolve(baseDir, data.stateDir) === resolve(baseDir, data.spoolDir)) {
    errors.push('stateDir: must not be the same folder as spoolDir');
  }
  return errors;
}

export type AgentConfig = z.infer<typeof AgentConfigSchema>;
export type CameraConfig = AgentConfig['cameras'][number];
export type RecordingConfig = AgentConfig['recording'];

/** Environment overrides: variable → config path and how its text becomes a value. */
export const ENV_OVERRIDES: readonly { env: string; path: readonly string[]; kind: 'string' | 'number'; doc: string }[] = [
  { env: 'MAMORU_AGENT_SERVER_URL', path: ['server', 'url'], kind: 'string', doc: 'centre base URL' },
  { env: 'MAMORU_AGENT_STATE_DIR', path: ['stateDir'], kind: 'string', doc: 'where the agent credential is kept' },
  { env: 'MAMORU_AGENT_SPOOL_DIR', path: ['spoolDir'], kind: 'string', doc: 'recordings and the outbox' },
  { env: 'MAMORU_AGENT_HEARTBEAT_SECONDS', path: ['heartbeatSeconds'], kind: 'number', doc: 'heartbeat interval' },
  { env: 'MAMORU_AGENT_LOG_LEVEL', path: ['logLevel'], kind: 'string', doc: 'debug | info | warn | error' },
  { env: 'MAMORU_AGENT_UPLOAD_BPS', path: ['upload', 'bandwidthBytesPerSecond'], kind: 'number', doc: 'upload cap, bytes/s (0 = unlimited)' },
  { env: 'MAMORU_AGENT_BACKOFF_BASE_MS', path: ['upload', 'backoff', 'baseMs'], kind: 'number', doc: 'first retry delay ceiling' },
  { env: 'MAMORU_AGENT_BACKOFF_CAP_MS', path: ['upload', 'backoff', 'capMs'], kind: 'number', doc: 'largest retry delay' },
  { env: 'MAMORU_AGENT_DISK_MAX_USE_PERCENT', path: ['disk', 'maxUsePercent'], kind: 'number', doc: 'evict above this disk use' },
  { env: 'MAMORU_AGENT_DISK_MIN_FREE_BYTES', path: ['disk', 'minFreeBytes'], kind: 'number', doc: 'evict below this free space' },
  { env: 'MAMORU_AGENT_MAX_SPOOL_BYTES', path: ['disk', 'maxSpoolBytes'], kind: 'number', doc: 'evict above this outbox size (0 = off)' },
  { env: 'MAMORU_AGENT_SEGMENT_SECONDS', path: ['recording', 'segmentSeconds'], kind: 'number', doc: 'segment length' },
  { env: 'MAMORU_AGENT_BUFFER_DAYS', path: ['onDemand', 'bufferDays'], kind: 'number', doc: 'on-demand rolling buffer, days' },
  { env: 'MAMORU_AGENT_FFMPEG_PATH', path: ['recording', 'ffmpegPath'], kind: 'string', doc: 'ffmpeg binary' },
  { env: 'MAMORU_AGENT_FFPROBE_PATH', path: ['recording', 'ffprobePath'], kind: 'string', doc: 'ffprobe binary' },
];

export type ConfigResult = { ok: true; config: AgentConfig; secrets: string[] } | { ok: false; errors: string[] };

function setPath(obj: Record<string, unknown>, path: readonly string[], value: unknown) {
  let cur = obj;
  for (const k of path.slice(0, -1)) {
    const next = cur[k];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) cur[k] = {};
    cur = cur[k] as Record<string, unknown>;
  }
  cur[path[path.length - 1]!] = value;
}

/**
 * Validates raw config data (already parsed from the file) with the environment applied. Relative directories are
 * resolved against `baseDir` (the config file's folder).
 */
export function validateConfig(raw: unknown, env: NodeJS.ProcessEnv = {}, baseDir = process.cwd()): ConfigResult {
  const errors: string[] = [];
  if (raw === null || raw === undefined) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) return { ok: false, errors: ['(root): the config must be a mapping of keys to values'] };
  const data = structuredClone(raw) as Record<string, unknown>;
  const fromEnv = new Map<string, string>();
  for (const o of ENV_OVERRIDES) {
    const text = env[o.env];
    if (text === undefined || text === '') continue;
    let value: unknown = text;
    if (o.kind === 'number') {
      value = Number(text.trim());
      if (!Number.isFinite(value)) {
        errors.push(`${o.path.join('.')} (from ${o.env}): '${text}' is not a number`);
        continue;
      }
    }
    setPath(data, o.path, value);
    fromEnv.set(o.path.join('.'), o.env);
  }
  const parsed = AgentConfigSchema.safeParse(data);
  const cross = crossChecks(data, baseDir);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        // One line per unknown key, with its full path and the closest known key at that place.
        const known = knownKeysAt(AgentConfigSchema, issue.path, data);
        for (const key of issue.keys) {
          const path = [...issue.path.map(String), key].join('.');
          const near = closestKey(key, known);
          errors.push(`${path}: unknown key${near ? ` (did you mean '${[...issue.path.map(String), near].join('.')}'?)` : known.length ? ` (known keys here: ${known.join(', ')})` : ''}`);
        }
        continue;
      }
      const path = issue.path.map(String).join('.');
      const src = fromEnv.get(path);
      errors.push(`${path || '(root)'}${src ? ` (from ${src})` : ''}: ${issue.message}`);
    }
  }
  errors.push(...cross);
  if (errors.length > 0 || !parsed.success) return { ok: false, errors };
  const config = parsed.data;
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  config.stateDir = abs(config.stateDir);
  config.spoolDir = abs(config.spoolDir);
  const amiSecret = config.pbx?.adapter === 'asterisk-files' ? config.pbx.ami?.secret : undefined;
  return { ok: true, config, secrets: [...cameraSecrets(config), ...(amiSecret ? [amiSecret] : [])] };
}

type AnyDef = { type: string; shape?: Record<string, unknown>; innerType?: unknown; element?: unknown; options?: unknown[]; in?: unknown; discriminator?: string };
const defOf = (s: unknown): AnyDef | null => ((s as { _zod?: { def?: AnyDef } })?._zod?.def ?? null);

/** The keys an object schema at `path` accepts (following wrappers, arrays and the `adapter` union by the data). */
export function knownKeysAt(schema: unknown, path: readonly PropertyKey[], data: unknown): string[] {
  let cur: unknown = schema;
  let value: unknown = data;
  const unwrap = () => {
    for (let i = 0; i < 20; i++) {
      const d = defOf(cur);
      if (!d) return;
      if (d.innerType !== undefined && ['default', 'prefault', 'optional', 'nullable', 'readonly', 'catch', 'nonoptional'].includes(d.type)) cur = d.innerType;
      else if (d.type === 'pipe') cur = d.in;
      else if (d.type === 'union' && Array.isArray(d.options)) {
        // A discriminated union: the option whose literal discriminator matches the data; else the first object option.
        const disc = d.discriminator;
        const v = disc && value && typeof value === 'object' ? (value as Record<string, unknown>)[disc] : undefined;
        const match = d.options.find((o) => {
          const sh = defOf(o)?.shape;
          const lit = sh && disc ? defOf(sh[disc]) as { values?: unknown[] } | null : null;
          return lit?.values?.includes(v);
        });
        cur = match ?? d.options[0];
      } else return;
    }
  };
  unwrap();
  for (const seg of path) {
    const d = defOf(cur);
    if (d?.type === 'object' && d.shape) cur = d.shape[String(seg)];
    else if (d?.type === 'array') cur = d.element;
    else if (d?.type === 'record') cur = (d as { valueType?: unknown }).valueType;
    else return [];
    value = value && typeof value === 'object' ? (value as Record<string, unknown>)[String(seg)] : undefined;
    unwrap();
  }
  const d = defOf(cur);
  return d?.type === 'object' && d.shape ? Object.keys(d.shape) : [];
}

/** The known key a misspelt one most likely meant: same letters ignoring case, or within a small edit distance. */
export function closestKey(key: string, known: readonly string[]): string | null {
  const lower = key.toLowerCase();
  const same = known.find((k) => k.toLowerCase() === lower);
  if (same) return same;
  // `celFile` → `cel`, `monitor` → `monitorDir`: one is the other with a word added.
  const prefix = known.filter((k) => k.length >= 3 && (lower.startsWith(k.toLowerCase()) || k.toLowerCase().startsWith(lower))).sort((a, b) => b.length - a.length)[0];
  if (prefix && lower.length >= 3) return prefix;
  let best: string | null = null;
  let bestD = Infinity;
  for (const k of known) {
    const d = editDistance(lower, k.toLowerCase());
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best !== null && bestD <= Math.max(2, Math.floor(key.length / 3)) ? best : null;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

/** Reads and validates a config file (.yaml, .yml or .json; YAML is a superset of JSON, so both parse). */
export async function loadConfig(path: string, env: NodeJS.ProcessEnv = process.env): Promise<ConfigResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    return { ok: false, errors: [`${path}: cannot read the config file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`] };
  }
  let raw: unknown;
  try {
    raw = parseYaml(text, { prettyErrors: true, uniqueKeys: true });
  } catch (e) {
    return { ok: false, errors: [`${path}: not valid YAML/JSON: ${(e as Error).message.split('\n')[0]}`] };
  }
  return validateConfig(raw, env, dirname(resolve(path)));
}

/** Every secret in the camera settings (for the log masker). */
export function cameraSecrets(config: AgentConfig): string[] {
  const out: string[] = [];
  for (const c of config.cameras) {
    if (c.onvif?.password) out.push(c.onvif.password, encodeURIComponent(c.onvif.password));
    if (c.rtspUrl) {
      const m = /^[a-z]+:\/\/([^@/]*)@/i.exec(c.rtspUrl);
      const userinfo = m?.[1];
      if (userinfo) {
        const pass = userinfo.includes(':') ? userinfo.slice(userinfo.indexOf(':') + 1) : '';
        if (pass) out.push(pass);
        try {
          if (pass) out.push(decodeURIComponent(pass));
        } catch {
          /* not percent-encoded */
        }
      }
    }
  }
  return [...new Set(out.filter((s) => s.length > 0))];
}

/** An RTSP URL without its user-info. */
export function maskRtspUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/)[^@/]*@/i, '$1***@');
}

/** What may be logged or shown about a camera: no user name, no password, no stream URL credentials. */
export function describeCamera(c: CameraConfig) {
  return {
    key: c.key,
    name: c.name,
    place: c.place,
    uploadMode: c.uploadMode,
    transport: c.transport,
    source: c.rtspUrl ? { kind: 'rtsp' as const, url: maskRtspUrl(c.rtspUrl) } : { kind: 'onvif' as const, host: c.onvif!.host, port: c.onvif!.port, profileToken: c.onvif!.profileToken ?? null, username: c.onvif!.username ? '***' : null },
  };
}

/** The whole config with camera credentials and the PBX's AMI secret masked (for `check-config` and the start-up log). */
export function redactConfig(config: AgentConfig) {
  const pbx = config.pbx?.adapter === 'asterisk-files' && config.pbx.ami ? { ...config.pbx, ami: { ...config.pbx.ami, secret: '***' } } : config.pbx;
  return { ...config, cameras: config.cameras.map(describeCamera), pbx };
}

/**
 * What the centre is told about a camera's device (PUT /cameras/{key} `device`): how it is reached, never the
 * stream URI or any credential.
 */
export function cameraDeviceInfo(c: CameraConfig): Record<string, unknown> {
  return c.onvif ? { kind: 'onvif', host: c.onvif.host, port: c.onvif.port, profileToken: c.onvif.profileToken ?? null, transport: c.transport } : { kind: 'rtsp', transport: c.transport };
}
