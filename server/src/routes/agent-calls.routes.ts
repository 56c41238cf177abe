import { createRoute, z } from '@hono/zod-openapi';
import {
  AGENT_ROUTES,
  CallKeySchema,
  CallPayloadSchema,
  CallVersionResponseSchema,
  LiveCallResponseSchema,
  LiveCallSchema,
  MAX_CALL_JSON_BYTES,
  RECORDING_NAME,
  RecordingHeadersSchema,
  RecordingPutResponseSchema,
} from '@mamoru/contract';
import type { HttpAuth } from '../http/auth.ts';
import { agentSecurity, errorResponses, json, jsonBody, router } from '../http/openapi.ts';
import type { CallIngestService } from '../services/call-ingest.service.ts';


export function agentCallRoutes(deps: { calls: CallIngestService; http: Pick<HttpAuth, 'agent'> }) {
  const app = router();
  app.use('/calls/*', deps.http.agent);

  app.openapi(
    createRoute({
      method: 'put',
      path: AGENT_ROUTES.callVersion,
      summary: "Store one version of a call's metadata (every version is kept; never overwritten)",
      // The body's limit (MAX_CALL_JSON_BYTES, 413 `body_too_large`) is enforced before authentication (http/body-limit.ts).
      description:
        'Same version with identical content again answers 200 with the same id; with different content 409 `call_version_conflict`. ' +
        '`missingRecordings` lists the declared recordings whose bytes the centre does not hold yet.',
      security: agentSecurity,
      request: {
        params: z.object({ callKey: CallKeySchema, version: z.coerce.number().int().min(1).max(1_000_000) }),
        body: jsonBody(CallPayloadSchema),
      },
      responses: { 200: json(CallVersionResponseSchema, 'already stored'), 201: json(CallVersionResponseSchema, 'stored'), ...errorResponses(400, 401, 409, 413) },
    }),
    async (c) => {
      const p = c.req.valid('param');
      const r = await deps.calls.putVersion(c.get('agent'), p.callKey, p.version, c.req.valid('json'));
      return r.status === 'created' ? c.json({ ...r, status: 'created' as const }, 201) : c.json({ ...r, status: 'exists' as const }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: AGENT_ROUTES.callLive,
      summary: 'Show a call while it happens (AMI), before its CDR row; a sealed version of the same key replaces it',
      description:
        'Creates or updates the live view of a call that has no sealed version yet: `applied`. When a sealed version exists the update ' +
        'changes nothing (`superseded`); an update with a lower `seq` than the stored one neither (`stale`).',
      security: agentSecurity,
      request: {
        params: z.object({ callKey: CallKeySchema }),
        body: jsonBody(LiveCallSchema),
      },
      responses: { 200: json(LiveCallResponseSchema, 'applied, superseded or stale'), ...errorResponses(400, 401) },
    }),
    async (c) => {
      const r = await deps.calls.putLive(c.get('agent'), c.req.valid('param').callKey, c.req.valid('json'));
      return c.json(r, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: AGENT_ROUTES.callRecording,
      summary: "Upload a recording's original bytes; streamed to S3 while hashed, kept byte for byte",
      description:
        'The recording must be declared in a version of the call with this SHA-256 and size. The same recording again answers 200. ' +
        'A new original queues the `recording.derive` job (playable copy and waveform).',
      security: agentSecurity,
      request: {
        params: z.object({ callKey: CallKeySchema, name: z.string().regex(RECORDING_NAME, 'a file basename') }),
        headers: RecordingHeadersSchema,
        body: { content: { 'application/octet-stream': { schema: z.any().openapi({ type: 'string', format: 'binary' }) } }, required: true },
      },
      responses: { 200: json(RecordingPutResponseSchema, 'already stored'), 201: json(RecordingPutResponseSchema, 'stored'), ...errorResponses(400, 401, 404, 413) },
    }),
    async (c) => {
      const p = c.req.valid('param');
      const h = c.req.valid('header');
      const r = await deps.calls.putRecording(
        c.get('agent'),
        p.callKey,
        p.name,
        { sha256: h['x-recording-sha256'], size: h['x-recording-size'], mediaType: h['content-type'].split(';')[0]!.trim().toLowerCase() },
        c.env.incoming,
        h['content-length'],
      );
      const body = { status: r.status, callId: r.callId, recordingId: r.recording.id, derive: { status: r.recording.derive.status, jobId: r.recording.derive.jobId } };
      return r.status === 'created' ? c.json(body, 201) : c.json(body, 200);
    },
  );

  return app;
}
