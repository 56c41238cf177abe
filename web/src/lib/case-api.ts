/** Shorter names for the generated types the case page uses (web/src/lib/api/schema.d.ts, from the server's OpenAPI). */
import type { IncidentDetail, IncidentHistory, IncidentTimeline } from './api.ts';

export type CaseTimeline = IncidentTimeline;
export type CaseDetail = IncidentDetail;
export type CaseEvent = IncidentHistory['events'][number];
export type CaseRecording = IncidentTimeline['calls'][number]['recordings'][number];
export type { IncidentStatus } from './api.ts';
