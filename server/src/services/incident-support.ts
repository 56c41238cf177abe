/** Pieces the incident services share: who is acting, the scoped case lookup, footage arrival of a camera window. */
import { signPath } from '../adapters/crypto.ts';
import { arrival, type Arrival } from '../domain/incident.ts';
import { CONTIGUITY_TOLERANCE_MS } from '../domain/hls.ts';
import { type Principal, readableSites } from '../domain/principal.ts';
import { notFound } from '../domain/errors.ts';
import type { IncidentRepository, IncidentRow } from '../repositories/incident.repository.ts';
import type { CameraFootage, FootageWindow, LinkingRepository } from '../repositories/linking.repository.ts';
import type { GapRecord } from '../repositories/segment.repository.ts';
import { auditRefusedRead, ensureCan } from './access.ts';
import type { AuditService } from './audit.service.ts';

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
export async function scopedIncident(incidents: IncidentRepository, p: Principal, id: string, lock = false, audit?: Pick<AuditService, 'record'>): Promise<IncidentRow> {
  ensureCan(p, 'incidents:read');
  const row = isUuid(id) ? await incidents.findInSites(id, readableSites(p), lock) : undefined;
  if (!row) {
    // Reads pass the audit log: the refusal is recorded (writes run in a transaction that the 404 rolls back).
    if (audit) {
      const any = isUuid(id) ? await incidents.findInSites(id, 'all') : undefined;
      await auditRefusedRead(audit, p, { what: 'incident', targetType: 'incident', targetId: id, siteId: any?.siteId });
    }
    throw notFound('incident_not_found', 'incident not found');
  }
  return row;
}

export type WindowFootage = { arrival: Arrival; gaps: GapRecord[] };

/** What of a camera window is at the centre, still at the store (metadata only), a reported gap or not known yet (pure). */
export function footageArrival(f: CameraFootage, start: Date, end: Date, now: Date): WindowFootage {
  return {
    gaps: f.gaps,
    arrival: arrival({
      window: { start: start.getTime(), end: end.getTime() },
      segments: f.segments,
      gaps: f.gaps.map((g) => ({ start: g.start.getTime(), end: g.end.getTime() })),
      now: now.getTime(),
      toleranceMs: CONTIGUITY_TOLERANCE_MS,
    }),
  };
}

/** footageArrival of each camera window, read in one statement for all of them (never a cut list), in the order given. */
export async function windowsFootage(linking: LinkingRepository, windows: readonly FootageWindow[], now: Date): Promise<WindowFootage[]> {
  const rows = await linking.windows(windows);
  return rows.map((f, i) => footageArrival(f, windows[i]!.start, windows[i]!.end, now));
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
