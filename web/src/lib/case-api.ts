/**
 * The case routes the case page uses (docs/api-incidents.md). Same origin, session cookie, the one error shape.
 * The answer types follow the server's OpenAPI schemas (IncidentTimeline, IncidentDetail, …).
 */
import { errorFromAnswer, ApiError } from './api.ts';
import type { WindowArrival } from './case-view.ts';

export type Stretch = { from: string; to: string };
export type IncidentStatus = 'draft' | 'open' | 'under_review' | 'referred_to_police' | 'closed';
export type Incident = {
  id: string;
  caseNumber: string;
  site: { id: string; code: string; name: string; timezone: string };
  title: string;
  category: string;
  categoryLabel: string;
  severity: string;
  severityLabel: string;
  status: IncidentStatus;
  statusLabel: string;
  window: Stretch;
  linkedSpan: Stretch;
  narrative: string;
  reporter: { id: string; login: string; displayName: string } | null;
  legalHold: { active: boolean; reason: string | null; placedBy: string | null; placedAt: string | null };
  closedAt: string | null;
  version: number;
  createdAt: string;
};
export type CaseCall = {
  id: string;
  link: { source: 'filed_from' | 'window' | 'manual'; linkedBy: string; linkedAt: string };
  startUtc: string;
  answerUtc: string | null;
  endUtc: string;
  durationS: number;
  direction: string;
  disposition: string;
  caller: { number: string | null; name: string | null; e164: string | null };
  operator: { extension: string; name: string | null } | null;
  recordingCount: number;
};
export type CaseRecording = {
  id: string;
  name: string;
  role: string;
  durationS: number | null;
  sha256: string;
  stored: boolean;
  playable: { url: string; expiresAt: string; mediaType: string; durationS: number } | null;
  waveform: { url: string; expiresAt: string; bucketMs: number } | null;
  derive: string;
};
export type CameraWindow = WindowArrival & {
  id: string;
  camera: { id: string; key: string; name: string; place: string | null; uploadMode: string };
  source: 'filed' | 'manual';
  arrival: WindowArrival['arrival'] & { state: 'complete' | 'awaiting' | 'failed' };
};
export type Bookmark = { id: string; at: string; cameraId: string | null; callId: string | null; note: string; createdByLabel: string | null; createdAt: string };
export type CaseTimeline = {
  incident: Incident;
  timezone: string;
  caseWindow: Stretch;
  range: Stretch;
  cameraWindows: (CameraWindow & { playlistUrl: string; playable: boolean })[];
  calls: (CaseCall & { recordings: CaseRecording[] })[];
  bookmarks: Bookmark[];
  linksExpireAt: string;
};
export type Hold = { id: string; kind: 'incident' | 'legal'; cameraId: string | null; callId: string | null; reason: string; active: boolean };
export type RepeatCaller = {
  caller: { number: string | null; e164: string | null };
  linkedCallIds: string[];
  matches: { callId: string; site: { id: string; code: string; name: string }; startUtc: string; endUtc: string; direction: string; disposition: string; callerNumber: string | null }[];
};
export type CaseDetail = Incident & {
  allowedTransitions: IncidentStatus[];
  calls: CaseCall[];
  cameraWindows: CameraWindow[];
  bookmarks: Bookmark[];
  holds: Hold[];
  repeatCallers: RepeatCaller[];
};
export type CaseEvent = { id: string; at: string; actor: { type: string; id: string | null; label: string | null }; action: string; changes: unknown };
export type SiteCall = { id: string; times: { startUtc: string; endUtc: string }; caller: { number: string | null }; direction: string; disposition: string };
export type SiteCamera = { id: string; siteId: string; name: string; place: string | null; key: string };

async function call<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown, onUnauthorized?: () => void): Promise<T> {
  let r: Response;
  try {
    r = await fetch(path, {
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
    // not our JSON shape
  }
  if (r.status === 401) onUnauthorized?.();
  throw errorFromAnswer(r.status, r.statusText, parsed, r.headers.get('retry-after'));
}

/** `onUnauthorized`: the session ended (the page asks the centre again, which shows the sign-in form). */
export function caseApi(onUnauthorized?: () => void) {
  const inc = (id: string) => `/api/v1/incidents/${encodeURIComponent(id)}`;
  const get = <T>(p: string) => call<T>('GET', p, undefined, onUnauthorized);
  const post = <T>(p: string, b: unknown) => call<T>('POST', p, b, onUnauthorized);
  const del = <T>(p: string) => call<T>('DELETE', p, undefined, onUnauthorized);
  return {
    timeline: (id: string) => get<CaseTimeline>(`${inc(id)}/timeline`),
    detail: (id: string) => get<CaseDetail>(inc(id)),
    history: (id: string) => get<{ events: CaseEvent[] }>(`${inc(id)}/history`).then((r) => r.events),
    addBookmark: (id: string, b: { at: string; note: string; cameraId?: string; callId?: string }) => post<Bookmark>(`${inc(id)}/bookmarks`, b),
    removeBookmark: (id: string, bookmarkId: string) => del<unknown>(`${inc(id)}/bookmarks/${encodeURIComponent(bookmarkId)}`),
    setStatus: (id: string, status: IncidentStatus, note: string, expectedVersion: number) => post<unknown>(`${inc(id)}/status`, { status, ...(note && { note }), expectedVersion }),
    linkCall: (id: string, callId: string) => post<unknown>(`${inc(id)}/calls`, { callId }),
    unlinkCall: (id: string, callId: string) => del<unknown>(`${inc(id)}/calls/${encodeURIComponent(callId)}`),
    linkWindow: (id: string, w: { cameraId: string; from: string; to: string }) => post<unknown>(`${inc(id)}/camera-windows`, w),
    unlinkWindow: (id: string, windowId: string) => del<unknown>(`${inc(id)}/camera-windows/${encodeURIComponent(windowId)}`),
    placeLegalHold: (id: string, reason: string) => post<unknown>(`${inc(id)}/legal-hold`, { reason }),
    releaseLegalHold: (id: string, reason: string) => post<unknown>(`${inc(id)}/legal-hold/release`, { reason }),
    /** The site's calls around a time (to link one). */
    siteCalls: (siteId: string, from: string, to: string) => {
      const q = new URLSearchParams({ site: siteId, from, to, limit: '50' });
      return get<{ calls: SiteCall[] }>(`/api/v1/calls?${q.toString()}`).then((r) => r.calls);
    },
    siteCameras: (siteId: string) => get<{ cameras: SiteCamera[] }>(`/api/v1/cameras?${new URLSearchParams({ siteId }).toString()}`).then((r) => r.cameras),
    json: <T>(url: string) => get<T>(url),
  };
}
export type CaseApi = ReturnType<typeof caseApi>;
