/** Pieces the incident services share: who is acting, the scoped case lookup, footage arrival of a camera window. */
import { signPath } from '../adapters/crypto.ts';
import { arrival, type Arrival } from '../domain/incident.ts';
import { CONTIGUITY_TOLERANCE_MS } from '../domain/hls.ts';
import { type Principal, readableSites } from '../domain/principal.ts';
import { notFound } from '../http/errors.ts';
import type { IncidentRepository, IncidentRow } from '../repositories/incident.repository.ts';
import type { GapRecord, SegmentRepository } from '../repositories/segment.repository.ts';
import { ensureCan } from './access.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (s: string) => UUID.test(s);

/** The acting principal as the case's history and the hold rows name it. */
export function actorOf(p: Principal): { type: string; id: string; label: string | null } {
  switch (p.kind) {
    case 'user':
      return { type: 'user', id: p.userId, label: p.login };
    case 'agent':
      return { type: 'agent', id: p.agentId, label: null };
    case 'system':
      return { type: 'system', id: p.name, label: null };
    case 'operator-token':
      return { type: 'system', id: 'admin-token', label: 'ADMIN_TOKEN bearer' };
  }
}

/** Reading a case: the role first (403), then the site scope (another site's case is a 404 like a missing one). */
export async function scopedIncident(incidents: IncidentRepository, p: Principal, id: string, lock = false): Promise<IncidentRow> {
  ensureCan(p, 'incidents:read');
  const row = isUuid(id) ? await incidents.findInSites(id, readableSites(p), lock) : undefined;
  if (!row) throw notFound('incident_not_found', 'incident not found');
  return row;
}

/** Enough segment rows for the longest window of the shortest segments; a window is never judged on a cut list. */
const MAX_WINDOW_SEGMENTS = 200_000;

export type WindowFootage = { arrival: Arrival; gaps: GapRecord[] };

/** What of a camera window is at the centre, still at the store (metadata only), a reported gap or not known yet. */
export async function windowFootage(segments: SegmentRepository, cameraId: string, start: Date, end: Date, now: Date): Promise<WindowFootage> {
  const [segs, gaps] = await Promise.all([segments.listInRange(cameraId, start, end, MAX_WINDOW_SEGMENTS), segments.listGapsInRange(cameraId, start, end)]);
  return {
    gaps,
    arrival: arrival({
      window: { start: start.getTime(), end: end.getTime() },
      segments: segs.map((s) => ({ start: s.start.getTime(), end: s.end.getTime(), stored: s.objectKey !== null })),
      gaps: gaps.map((g) => ({ start: g.start.getTime(), end: g.end.getTime() })),
      now: now.getTime(),
      toleranceMs: CONTIGUITY_TOLERANCE_MS,
    }),
  };
}

/** A signed, expiring link to a recording's original, playable copy or waveform (same form as the call view's). */
export function recordingLink(secret: string, ttlSeconds: number, now: Date, recordingId: string, kind: 'original' | 'playable' | 'waveform') {
  const exp = Math.floor(now.getTime() / 1000) + ttlSeconds;
  const path = `/api/v1/media/recordings/${recordingId}/${kind}`;
  return { url: `${path}?exp=${exp}&sig=${signPath(secret, path, exp)}`, expiresAt: new Date(exp * 1000) };
}

/** The existing HLS playlist route for exactly one camera window (a session fetch; the playlist fetch is audited). */
export function playlistUrl(cameraId: string, start: Date, end: Date): string {
  return `/api/v1/cameras/${cameraId}/playlist.m3u8?from=${encodeURIComponent(start.toISOString())}&to=${encodeURIComponent(end.toISOString())}`;
}
