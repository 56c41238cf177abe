import type { MiddlewareHandler } from 'hono';
import { AGENT_API_BASE, AGENT_ROUTES } from '@mamoru/contract/paths';
import { MAX_CALL_JSON_BYTES } from '@mamoru/contract';
import { tooLarge } from '../domain/errors.ts';
import type { AppEnv } from './app-env.ts';
import { routePattern } from './auth.ts';

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * How many body bytes a route takes. `streamed` routes (segment and recording uploads) read the raw request
 * themselves and count every byte against the size the agent declared (services/verified-upload.ts); here only their
 * declared Content-Length is checked, before authentication.
 */
export type BodyRule = { bytes: number; streamed?: boolean; code?: string };

/** Sign-in and the agent's small messages: a few KiB of JSON at most. */
export const SMALL_BODY_BYTES = 16 * KiB;
/** The agent's heartbeat: up to 256 cameras' health. */
export const HEARTBEAT_BODY_BYTES = 64 * KiB;
/** Every other JSON body (filings, notes, filters, settings). */
export const DEFAULT_BODY_BYTES = 1 * MiB;

/** OpenAPI `{param}` templates → `:param` routes (what routePattern reads). */
const agent = (template: string) => `${AGENT_API_BASE}${template.replace(/\{([^}]+)\}/g, ':$1')}`;

/** The table (first match wins); paths are matched as routes, methods exactly. */
export function bodyRules(max: { segmentBytes: number; recordingBytes: number }): { method: string; path: string; rule: BodyRule }[] {
  return [
    { method: 'POST', path: '/api/v1/auth/login', rule: { bytes: SMALL_BODY_BYTES } },
    { method: 'POST', path: '/api/v1/auth/logout', rule: { bytes: SMALL_BODY_BYTES } },
    { method: 'POST', path: '/api/v1/auth/password', rule: { bytes: SMALL_BODY_BYTES } },
    { method: 'POST', path: agent(AGENT_ROUTES.enroll), rule: { bytes: SMALL_BODY_BYTES } },
    { method: 'POST', path: agent(AGENT_ROUTES.heartbeat), rule: { bytes: HEARTBEAT_BODY_BYTES } },
    { method: 'POST', path: agent(AGENT_ROUTES.commandAck), rule: { bytes: SMALL_BODY_BYTES } },
    { method: 'POST', path: agent(AGENT_ROUTES.gaps), rule: { bytes: SMALL_BODY_BYTES } },
    { method: 'PUT', path: agent(AGENT_ROUTES.segmentMeta), rule: { bytes: SMALL_BODY_BYTES } },
    { method: 'PUT', path: agent(AGENT_ROUTES.segment), rule: { bytes: max.segmentBytes, streamed: true, code: 'segment_too_large' } },
    { method: 'PUT', path: agent(AGENT_ROUTES.callVersion), rule: { bytes: MAX_CALL_JSON_BYTES } },
    { method: 'PUT', path: agent(AGENT_ROUTES.callRecording), rule: { bytes: max.recordingBytes, streamed: true, code: 'recording_too_large' } },
    // The police share page's passcode form.
    { method: 'POST', path: '/share/:token', rule: { bytes: SMALL_BODY_BYTES } },
  ];
}

export function bodyRuleFor(rules: ReturnType<typeof bodyRules>) {
  const compiled = rules.map((r) => ({ method: r.method, re: routePattern(r.path), rule: r.rule }));
  return (method: string, path: string): BodyRule => compiled.find((r) => r.method === method && r.re.test(path))?.rule ?? { bytes: DEFAULT_BODY_BYTES };
}

const refuse = (rule: BodyRule) => tooLarge(rule.code ?? 'body_too_large', `the body of this request is limited to ${rule.bytes} bytes`);

/**
 * Every request body has a limit, enforced before anything else reads it (authentication included): a declared
 * Content-Length over the limit is refused without reading a byte; a chunked body is read here, counted as it
 * arrives, and refused the moment it passes the limit (the buffered bytes, at most the limit, then feed the route).
 * 413 `body_too_large` (`segment_too_large`, `recording_too_large` for uploads, as their services say it). The Node adapter drains (or, past 64 MiB, drops) what the client still sends.
 */
export function bodyLimit(ruleFor: (method: string, path: string) => BodyRule): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const length = c.req.header('content-length');
    const chunked = c.req.header('transfer-encoding') !== undefined;
    if (length === undefined && !chunked) return next(); // no body
    const rule = ruleFor(c.req.method, c.req.path);
    if (!chunked) {
      const n = Number(length);
      // Node's parser has already refused a Content-Length that is not a number.
      if (!(n <= rule.bytes)) throw refuse(rule);
      return next();
    }
    if (rule.streamed) return next(); // counted by the upload itself against the declared size (≤ its own limit)
    const body = c.req.raw.body;
    if (!body) return next();
    const reader = body.getReader();
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > rule.bytes) {
        // Not cancel(): that would destroy the socket before the 413 is written. The adapter drains the rest.
        reader.releaseLock();
        throw refuse(rule);
      }
      chunks.push(value);
    }
    const buffered = Buffer.concat(chunks, total);
    const headers = new Headers(c.req.raw.headers);
    headers.delete('transfer-encoding');
    headers.set('content-length', String(total));
    c.req.raw = new Request(c.req.raw.url, { method: c.req.method, headers, body: buffered, signal: c.req.raw.signal });
    return next();
  };
}
