/**
 * The centre's API as the browser calls it: same origin, the session in an HttpOnly cookie the browser sends by
 * itself (`credentials: 'same-origin'`). No Authorization header, nothing kept in storage.
 */
import type { SegmentMeta } from '@mamoru/contract/agent-api';
import type { CallLeg as ContractCallLeg, RecordingDeclaration } from '@mamoru/contract/call-payload';
import type { Role } from '@mamoru/contract/enums';

export type { Role };
export type Site = { id: string; code: string; name: string; timezone: string };
export type Me = { id: string; login: string; displayName: string; role: Role; capabilities: string[]; sites: 'all' | Site[] };

export type Camera = {
  id: string;
  siteId: string;
  siteCode: string;
  siteName: string;
  timezone: string;
  key: string;
  name: string;
  place: string | null;
  uploadMode: string;
  health: string;
  lastSegmentAt: string | null;
};

/** A stored segment row; `durationMs`, `sha256` and `runId` are the facts the agent declared (`SegmentMeta`). */
export type Segment = Pick<SegmentMeta, 'durationMs' | 'sha256' | 'runId'> & { id: string; start: string; end: string; byteSize: number; stored: boolean };
export type Gap = { id: string; start: string; end: string; reason: string; detail: string | null };
export type Timeline = { cameraId: string; camera: Camera; segments: Segment[]; gaps: Gap[] };

export type CallTimes = {
  startUtc: string;
  answerUtc: string | null;
  endUtc: string;
  durationS: number;
  talkS: number | null;
  /** The zone the PBX's own (naive) times were read in, and how that was decided. Not the display zone. */
  zone: string;
  zoneSource: string;
  raw: { start: string | null; answer: string | null; end: string | null };
};
export type CallSummary = {
  id: string;
  siteId: string;
  callKey: string;
  pbxId: string;
  linkedId: string;
  currentVersion: number;
  direction: string;
  disposition: string;
  caller: { number: string | null; name: string | null; e164: string | null };
  called: { number: string | null; e164: string | null };
  operator: { extension: string; name: string | null; source: string | null } | null;
  times: CallTimes;
  notice: { played: string; method: string | null; atUtc: string | null };
  flags: string[];
  recordingCount: number;
};
export type Link = { url: string; expiresAt: string };
/** A recording as the call declared it (`RecordingDeclaration` of the agent's call payload) and where it is. */
export type Recording = RecordingDeclaration & {
  id: string;
  declaredInVersion: number;
  stored: boolean;
  storedAt: string | null;
  mediaType: string | null;
  original: Link | null;
  playable: (Link & { mediaType: string; codec: string; size: number; durationS: number }) | null;
  waveform: (Link & { bucketMs: number; size: number }) | null;
  derive: { status: string; error: string | null; attempts: number; jobId: string | null; updatedAt: string | null };
};
/** A leg as the agent sent it (`CallLeg` of the call payload), in the call's order. */
export type CallLeg = { ordinal: number } & ContractCallLeg;
export type CallVersion = { version: number; receivedAt: string; agentId: string | null; payloadSha256: string };
export type CallDetail = CallSummary & {
  site: Site;
  retentionClass: string;
  holdCount: number;
  legs: CallLeg[];
  versions: CallVersion[];
  recordings: Recording[];
};

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Seconds to wait before trying again (429 `Retry-After`), when the centre said. */
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(message);
  }
}

/** `Retry-After` as seconds from `now`: delay-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | null {
  if (!value) return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v);
  const at = Date.parse(v);
  if (Number.isNaN(at)) return null;
  return Math.max(0, Math.ceil((at - now) / 1000));
}

/**
 * The error an answer stands for: our JSON shape `{ error: { code, message, details? } }` when it is there, else
 * `http_<status>`. The wait comes from `Retry-After`, else from the body's `details.retryAfterSeconds`.
 */
export function errorFromAnswer(status: number, statusText: string, body: unknown, retryAfterHeader: string | null, now = Date.now()): ApiError {
  const e = (body as { error?: { code?: unknown; message?: unknown; details?: { retryAfterSeconds?: unknown } } } | null)?.error;
  const code = typeof e?.code === 'string' ? e.code : `http_${status}`;
  const message = typeof e?.message === 'string' ? e.message : statusText;
  let retry = parseRetryAfter(retryAfterHeader, now);
  if (retry === null && typeof e?.details?.retryAfterSeconds === 'number') retry = e.details.retryAfterSeconds;
  return new ApiError(status, code, message, retry);
}

export type Api = ReturnType<typeof apiClient>;

/**
 * `onUnauthorized` runs when the centre answers 401 to a signed-in request (the session expired or was revoked):
 * the app then shows the sign-in form again. Sign-in itself does not trigger it.
 */
export function apiClient(opts: { onUnauthorized?: (code: string) => void; base?: string } = {}) {
  const base = opts.base ?? '';
  async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown, o: { auth?: boolean } = {}): Promise<T> {
    let r: Response;
    try {
      r = await fetch(`${base}${path}`, {
        method,
        credentials: 'same-origin',
        headers: { accept: 'application/json', ...(body !== undefined && { 'content-type': 'application/json' }) },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
    } catch (e) {
      throw new ApiError(0, 'network_error', (e as Error).message);
    }
    if (r.ok) return (r.status === 204 ? undefined : await r.json()) as T;
    let parsed: unknown = null;
    try {
      parsed = await r.json();
    } catch {
      // not our JSON error shape
    }
    const err = errorFromAnswer(r.status, r.statusText, parsed, r.headers.get('retry-after'));
    if (r.status === 401 && o.auth !== false) opts.onUnauthorized?.(err.code);
    throw err;
  }
  const get = <T>(path: string) => call<T>('GET', path);
  const range = (from: Date, to: Date) => new URLSearchParams({ from: from.toISOString(), to: to.toISOString() }).toString();
  return {
    /** The signed-in person, or ApiError 401 when nobody is (does not call `onUnauthorized`). */
    me: () => call<Me>('GET', '/api/v1/auth/me', undefined, { auth: false }),
    login: (login: string, password: string) => call<{ user: Me; expiresAt: string }>('POST', '/api/v1/auth/login', { login, password }, { auth: false }),
    logout: () => call<void>('POST', '/api/v1/auth/logout', undefined, { auth: false }),
    sites: () => get<{ sites: Site[] }>('/api/v1/sites').then((b) => b.sites),
    cameras: () => get<{ cameras: Camera[] }>('/api/v1/cameras').then((b) => b.cameras),
    camera: (id: string) => get<{ camera: Camera }>(`/api/v1/cameras/${encodeURIComponent(id)}`).then((b) => b.camera),
    timeline: (id: string, from: Date, to: Date) => get<Timeline>(`/api/v1/cameras/${encodeURIComponent(id)}/timeline?${range(from, to)}`),
    playlistUrl: (id: string, from: Date, to: Date) => `${base}/api/v1/cameras/${encodeURIComponent(id)}/playlist.m3u8?${range(from, to)}`,
    calls: (params: URLSearchParams) => get<{ calls: CallSummary[]; nextCursor: string | null }>(`/api/v1/calls?${params.toString()}`),
    call: (id: string) => get<CallDetail>(`/api/v1/calls/${encodeURIComponent(id)}`),
    /** A signed media link handed out by the call detail (no session needed, but same origin). */
    json: <T>(url: string) => get<T>(url),
  };
}
