import { createRoute, z } from '@hono/zod-openapi';
import { CATEGORIES, STATUSES } from '../../domain/incident.ts';
import { errorResponses, IdParam, iso, IsoDate, json, jsonBody, router, sessionSecurity, Uuid } from '../../http/openapi.ts';
import type { IncidentQueryService } from '../../services/incident-query.service.ts';
import type { IncidentService } from '../../services/incident.service.ts';
import { Link, Incident, incidentJson, windowJson, callJson, Note, noteJson, Bookmark, bookmarkJson, holdJson, repeatJson, Detail, LinkOutcome, Timeline, Event, eventJson, FileBody, PatchBody, StatusBody, ReasonBody, UnlinkQuery, SiteList } from './schemas.ts';

/** Cases (incidents): people's sessions; the services check the role and the site scope. See docs/api-incidents.md. */
export function incidentRoutes(deps: { incidents: IncidentService; query: IncidentQueryService }) {
  const app = router();
  const { incidents, query } = deps;

  app.openapi(
    createRoute({
      method: 'get',
      path: '/incidents',
      summary: 'Cases the caller may see, newest filed first, by cursor',
      security: sessionSecurity,
      request: {
        query: z.object({
          site: SiteList.optional(),
          status: z.enum(STATUSES).optional(),
          category: z.enum(CATEGORIES).optional(),
          from: IsoDate.optional(),
          to: IsoDate.optional(),
          reporter: Uuid.optional().openapi({ description: 'id of the person who filed' }),
          caseNumber: z.string().trim().min(1).max(40).optional().openapi({ description: 'part of the case number, any case' }),
          cursor: z.string().max(200).optional(),
          limit: z.coerce.number().int().min(1).max(200).default(50),
        }),
      },
      responses: { 200: json(z.object({ incidents: z.array(Incident), nextCursor: z.string().nullable() })), ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      const q = c.req.valid('query');
      const { reporter, ...rest } = q;
      const r = await query.list(c.get('principal'), { ...rest, reporterId: reporter, siteIds: q.site });
      return c.json({ incidents: r.incidents.map(incidentJson), nextCursor: r.nextCursor }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/incidents',
      summary: "File a case from a call or a time window; links and holds the site's calls and camera windows around it",
      security: sessionSecurity,
      request: { body: jsonBody(FileBody) },
      responses: { 201: json(z.object({ incident: Incident, linked: LinkOutcome })), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const r = await incidents.file(c.get('principal'), c.req.valid('json'));
      return c.json({ incident: incidentJson(r.incident), linked: r.linked }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/incidents/{id}',
      summary: 'One case: links with arrival per camera window, notes, bookmarks, holds, repeat-caller matches',
      security: sessionSecurity,
      request: { params: IdParam },
      responses: { 200: json(Detail), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const d = await query.detail(c.get('principal'), c.req.valid('param').id);
      return c.json(
        {
          ...incidentJson(d.incident),
          allowedTransitions: d.allowedTransitions,
          calls: d.calls.map((x) => callJson(x.link, x.call)),
          cameraWindows: d.windows.map(windowJson),
          notes: d.notes.map(noteJson),
          bookmarks: d.bookmarks.map(bookmarkJson),
          holds: d.holds.map(holdJson),
          repeatCallers: repeatJson(d.repeatCallers),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/incidents/{id}',
      summary: "Edit a case's title, category, severity, narrative, window or involved staff (kept in its history)",
      security: sessionSecurity,
      request: { params: IdParam, body: jsonBody(PatchBody) },
      responses: { 200: json(z.object({ incident: Incident, changed: z.array(z.string()) })), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const r = await incidents.update(c.get('principal'), c.req.valid('param').id, c.req.valid('json'));
      return c.json({ incident: incidentJson(r.incident), changed: r.changed }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/incidents/{id}/history',
      summary: "The case's change history: who changed what, before and after",
      security: sessionSecurity,
      request: { params: IdParam },
      responses: { 200: json(z.object({ incidentId: z.string(), caseNumber: z.string(), events: z.array(Event) })), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const h = await query.history(c.get('principal'), c.req.valid('param').id);
      return c.json({ incidentId: h.incident.id, caseNumber: h.incident.caseNumber, events: h.events.map(eventJson) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/incidents/{id}/timeline',
      summary: 'Everything to play the case on one clock: camera windows (HLS), calls (audio, waveform), bookmarks, arrival, time zone',
      security: sessionSecurity,
      request: { params: IdParam },
      responses: { 200: json(Timeline), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const t = await query.timeline(c.get('principal'), c.req.valid('param').id);
      const i = t.incident;
      return c.json(
        {
          incident: incidentJson(i),
          timezone: i.timezone,
          caseWindow: { from: i.windowStart.toISOString(), to: i.windowEnd.toISOString() },
          range: { from: t.range.start.toISOString(), to: t.range.end.toISOString() },
          cameraWindows: t.windows.map((w) => ({ ...windowJson(w), playlistUrl: w.playlistUrl, playable: w.playable })),
          calls: t.calls.map((x) => ({
            ...callJson(x.link, x.call),
            recordings: x.recordings.map(({ recording: r, original, playable, waveform }) => ({
              id: r.id,
              name: r.name,
              role: r.role,
              durationS: r.durationS,
              sha256: r.sha256,
              stored: r.objectKey !== null,
              original: original && { url: original.url, expiresAt: original.expiresAt.toISOString() },
              playable: playable && r.playable && { url: playable.url, expiresAt: playable.expiresAt.toISOString(), mediaType: r.playable.mediaType, durationS: r.playable.durationS },
              waveform: waveform && r.waveform && { url: waveform.url, expiresAt: waveform.expiresAt.toISOString(), bucketMs: r.waveform.bucketMs },
              derive: r.derive.status,
            })),
          })),
          bookmarks: t.bookmarks.map(bookmarkJson),
          linksExpireAt: t.linksExpireAt.toISOString(),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/incidents/{id}/status',
      summary: 'Move a case to another status (allowed moves depend on the status and the role); closing starts the retention clock of its incident holds',
      security: sessionSecurity,
      request: { params: IdParam, body: jsonBody(StatusBody) },
      responses: { 200: json(z.object({ incident: Incident, from: z.enum(STATUSES), to: z.enum(STATUSES), incidentHoldsExpireAt: z.string().nullable() })), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const b = c.req.valid('json');
      const r = await incidents.setStatus(c.get('principal'), c.req.valid('param').id, b.status, { note: b.note, expectedVersion: b.expectedVersion });
      return c.json({ incident: incidentJson(r.incident), from: r.from, to: r.to, incidentHoldsExpireAt: iso(r.incidentHoldsExpireAt) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/incidents/{id}/calls',
      summary: "Link a call of the case's site (held at once)",
      security: sessionSecurity,
      request: { params: IdParam, body: jsonBody(z.object({ callId: Uuid }).strict()) },
      responses: { 201: json(z.object({ callId: z.string(), holds: z.number() })), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => c.json(await incidents.linkCall(c.get('principal'), c.req.valid('param').id, c.req.valid('json').callId), 201),
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/incidents/{id}/calls/{callId}',
      summary: "Unlink a call; releases the case's incident hold on it (refused under legal hold)",
      security: sessionSecurity,
      request: { params: z.object({ id: Uuid, callId: Uuid }), query: UnlinkQuery },
      responses: { 200: json(z.object({ callId: z.string(), holdsReleased: z.number() })), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const p = c.req.valid('param');
      return c.json(await incidents.unlinkCall(c.get('principal'), p.id, p.callId, c.req.valid('query').reason), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/incidents/{id}/camera-windows',
      summary: "Link a window of one of the site's cameras (held at once; the store's agent is asked for footage not at the centre)",
      security: sessionSecurity,
      request: { params: IdParam, body: jsonBody(z.object({ cameraId: Uuid, from: IsoDate, to: IsoDate }).strict()) },
      responses: {
        201: json(z.object({ id: z.string(), cameraId: z.string(), cameraKey: z.string(), from: z.string(), to: z.string(), commandId: z.string().nullable(), holds: z.number(), missingMs: z.number(), metadataOnlyCount: z.number() })),
        ...errorResponses(400, 401, 403, 404, 409),
      },
    }),
    async (c) => {
      const b = c.req.valid('json');
      return c.json(await incidents.linkWindow(c.get('principal'), c.req.valid('param').id, b), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/incidents/{id}/camera-windows/{windowId}',
      summary: "Unlink a camera window; releases the case's incident hold on it and closes its open preserve command (refused under legal hold)",
      security: sessionSecurity,
      request: { params: z.object({ id: Uuid, windowId: Uuid }), query: UnlinkQuery },
      responses: { 200: json(z.object({ windowId: z.string(), holdsReleased: z.number(), commandCancelled: z.boolean() })), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const p = c.req.valid('param');
      return c.json(await incidents.unlinkWindow(c.get('principal'), p.id, p.windowId, c.req.valid('query').reason), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/incidents/{id}/notes',
      summary: 'Add a note to a case (notes are kept; they are not edited)',
      security: sessionSecurity,
      request: { params: IdParam, body: jsonBody(z.object({ body: z.string().max(10000) }).strict()) },
      responses: { 201: json(Note), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => c.json(noteJson(await incidents.addNote(c.get('principal'), c.req.valid('param').id, c.req.valid('json').body)), 201),
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/incidents/{id}/bookmarks',
      summary: 'Mark a moment: on a linked camera, a linked call, or the case clock, with a note',
      security: sessionSecurity,
      request: { params: IdParam, body: jsonBody(z.object({ at: IsoDate, cameraId: Uuid.optional(), callId: Uuid.optional(), note: z.string().max(2000).optional() }).strict()) },
      responses: { 201: json(Bookmark), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => c.json(bookmarkJson(await incidents.addBookmark(c.get('principal'), c.req.valid('param').id, c.req.valid('json'))), 201),
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/incidents/{id}/bookmarks/{bookmarkId}',
      summary: 'Remove a bookmark (the history keeps it)',
      security: sessionSecurity,
      request: { params: z.object({ id: Uuid, bookmarkId: Uuid }) },
      responses: { 200: json(z.object({ bookmarkId: z.string() })), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const p = c.req.valid('param');
      return c.json(await incidents.removeBookmark(c.get('principal'), p.id, p.bookmarkId), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/incidents/{id}/legal-hold',
      summary: "hq: place a legal hold on the case with a reason (every linked window and call, never expiring until released)",
      security: sessionSecurity,
      request: { params: IdParam, body: jsonBody(ReasonBody) },
      responses: { 200: json(z.object({ incident: Incident, holds: z.number() })), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const r = await incidents.placeLegalHold(c.get('principal'), c.req.valid('param').id, c.req.valid('json').reason);
      return c.json({ incident: incidentJson(r.incident), holds: r.holds }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/incidents/{id}/legal-hold/release',
      summary: "hq: release the case's legal hold with a reason",
      security: sessionSecurity,
      request: { params: IdParam, body: jsonBody(ReasonBody) },
      responses: { 200: json(z.object({ incident: Incident, holdsReleased: z.number() })), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      const r = await incidents.releaseLegalHold(c.get('principal'), c.req.valid('param').id, c.req.valid('json').reason);
      return c.json({ incident: incidentJson(r.incident), holdsReleased: r.holdsReleased }, 200);
    },
  );

  return app;
}
