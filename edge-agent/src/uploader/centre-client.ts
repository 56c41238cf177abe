/**
 * The agent's HTTP client for the centre's agent API (node:http/https, so the request body streams with a known
 * Content-Length through the bandwidth cap). It never throws on an HTTP status; it throws NetworkError when no
 * answer came (refused, reset, idle timeout) and AbortedError when the caller aborted.
 */
import { errorOf } from '@mamoru/contract/error-shape';
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { parseRetryAfter } from '../lib/backoff.ts';

export class NetworkError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'NetworkError';
  }
}

export class AbortedError extends Error {
  constructor() {
    super('request aborted');
    this.name = 'AbortedError';
  }
}

export type CentreResponse = {
  status: number;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body, or null. */
  body: unknown;
  /** `error.code` of the centre's error shape, when present. */
  errorCode: string | null;
  errorMessage: string | null;
  retryAfterMs: number | null;
};

export type RequestOptions = {
  method: 'GET' | 'POST' | 'PUT';
  path: string;
  json?: unknown;
  /**
   * The body and its exact length. `chunks` is called once per request; the client awaits each chunk's write to
   * the socket before it asks for the next, so a source may reuse one buffer for every chunk (no allocation per
   * chunk: at 16 cameras the per-chunk buffers of a read stream were a measurable share of the agent's CPU in
   * garbage collection). A source error is reported as a local error (`local: true`), not a network one.
   */
  body?: { chunks: () => AsyncIterable<Buffer>; length: number; contentType: string };
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Whether to send the agent credential (everything except enrollment). */
  auth?: boolean;
  /** Idle timeout of this request (default: the client's idleTimeoutMs). */
  timeoutMs?: number;
};

export interface CentreClient {
  readonly baseUrl: string;
  request(opts: RequestOptions): Promise<CentreResponse>;
  setCredential(credential: string | null): void;
  close(): void;
}

const MAX_RESPONSE_BYTES = 1024 * 1024;

export function createCentreClient(opts: { baseUrl: string; credential?: string | null; idleTimeoutMs?: number; userAgent?: string }): CentreClient {
  const base = new URL(opts.baseUrl.replace(/\/+$/, '') + '/');
  const https = base.protocol === 'https:';
  const agent = https ? new HttpsAgent({ keepAlive: true, maxSockets: 4 }) : new HttpAgent({ keepAlive: true, maxSockets: 4 });
  const doRequest = https ? httpsRequest : httpRequest;
  let credential = opts.credential ?? null;
  const idleTimeoutMs = opts.idleTimeoutMs ?? 60_000;

  return {
    baseUrl: base.toString().replace(/\/$/, ''),
    setCredential(c) {
      credential = c;
    },
    close() {
      agent.destroy();
    },
    request(r) {
      return new Promise<CentreResponse>((resolve, reject) => {
        if (r.signal?.aborted) return reject(new AbortedError());
        const url = new URL(r.path.replace(/^\//, ''), base);
        const headers: Record<string, string> = { accept: 'application/json', 'user-agent': opts.userAgent ?? 'mamoru-agent', ...r.headers };
        if (r.auth !== false && credential) headers.authorization = `Bearer ${credential}`;
        let payload: Buffer | undefined;
        if (r.json !== undefined) {
          payload = Buffer.from(JSON.stringify(r.json));
          headers['content-type'] = 'application/json';
          headers['content-length'] = String(payload.length);
        } else if (r.body) {
          headers['content-type'] = r.body.contentType;
          headers['content-length'] = String(r.body.length);
        } else if (r.method !== 'GET') {
          headers['content-length'] = '0';
        }

        let settled = false;
        let bodyAborted = false;
        const finish = (fn: () => void) => {
          if (settled) return;
          settled = true;
          r.signal?.removeEventListener('abort', onAbort);
          fn();
        };
        const req = doRequest(url, { method: r.method, headers, agent });
        const onAbort = () => {
          finish(() => reject(new AbortedError()));
          bodyAborted = true;
          req.destroy();
        };
        r.signal?.addEventListener('abort', onAbort, { once: true });
        const timeoutMs = r.timeoutMs ?? idleTimeoutMs;
        req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error(`no progress for ${timeoutMs} ms`), { code: 'ETIMEDOUT' })));
        req.on('error', (e: NodeJS.ErrnoException) => {
          bodyAborted = true;
          finish(() => reject(new NetworkError(`${r.method} ${url.pathname}: ${e.message}`, e.code)));
        });
        req.on('response', (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size <= MAX_RESPONSE_BYTES) chunks.push(c);
          });
          res.on('error', (e: NodeJS.ErrnoException) => finish(() => reject(new NetworkError(`reading the answer: ${e.message}`, e.code))));
          res.on('end', () => {
            // The centre may answer before it read the whole body (e.g. an early 404): stop sending.
            if (!req.writableFinished) {
              bodyAborted = true;
              req.destroy();
            }
            const text = Buffer.concat(chunks).toString('utf8');
            let body: unknown = null;
            try {
              body = text ? JSON.parse(text) : null;
            } catch {
              body = null;
            }
            const err = errorOf(body);
            finish(() =>
              resolve({
                status: res.statusCode ?? 0,
                headers: res.headers,
                body,
                errorCode: err.code,
                errorMessage: err.message,
                retryAfterMs: parseRetryAfter(res.headers['retry-after']),
              }),
            );
          });
        });
        if (payload) req.end(payload);
        else if (r.body) {
          const source = r.body.chunks();
          void (async () => {
            try {
              for await (const chunk of source) {
                if (bodyAborted || settled) return;
                await new Promise<void>((resolve) => req.write(chunk, () => resolve()));
              }
            } catch (e) {
              const err = e as NodeJS.ErrnoException;
              bodyAborted = true;
              req.destroy();
              // A local read error is not the network's fault: surface it as such.
              return finish(() => reject(Object.assign(new Error(`reading the local file: ${err.message}`), { code: err.code, local: true })));
            }
            if (!bodyAborted && !settled) req.end();
          })();
        } else req.end();
      });
    },
  };
}

/**
 * Whether a TCP connection to the centre's host and port can be made now: null when it could (the socket is closed at
 * once), else why not (`connect ECONNREFUSED …`, a timeout, aborted). The heartbeat's probe while the centre does not
 * answer: far cheaper than a heartbeat (no request, no body, no disk reading), so it can run every few seconds for as
 * long as an outage lasts. A connection says nothing of the centre behind a proxy: a heartbeat follows it at once.
 */
export function connectProbe(baseUrl: string, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<string | null> {
  const url = new URL(baseUrl);
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return new Promise((resolve) => {
    if (opts.signal?.aborted) return resolve('aborted');
    const socket = connect({ host, port });
    const done = (result: string | null) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(result);
    };
    const onAbort = () => done('aborted');
    const timer = setTimeout(() => done(`no connection within ${opts.timeoutMs} ms`), opts.timeoutMs);
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => done(null));
    socket.once('error', (e) => done(e.message));
  });
}
