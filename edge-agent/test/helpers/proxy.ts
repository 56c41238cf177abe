/**
 * A small HTTP proxy in front of a real centre, for faults the centre itself does not produce: answering with
 * 503/429 + Retry-After, or corrupting a request body in transit. Everything else is forwarded unchanged.
 */
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Transform } from 'node:stream';

export type ProxyDecision = { action: 'forward' } | { action: 'answer'; status: number; headers?: Record<string, string>; body?: unknown } | { action: 'corrupt'; atByte: number };

export type SeenRequest = { method: string; path: string; at: number; decision: ProxyDecision['action'] };

export async function startProxy(target: () => string, decide: (req: IncomingMessage, seen: SeenRequest[]) => ProxyDecision = () => ({ action: 'forward' })) {
  const seen: SeenRequest[] = [];
  const server: Server = createServer((req, res) => {
    const d = decide(req, seen);
    seen.push({ method: req.method!, path: req.url!, at: performance.now(), decision: d.action });
    if (d.action === 'answer') {
      req.resume();
      const body = JSON.stringify(d.body ?? { error: { code: 'test_fault', message: 'injected by the test proxy', requestId: 'proxy' } });
      res.writeHead(d.status, { 'content-type': 'application/json', ...d.headers });
      res.end(body);
      return;
    }
    const url = new URL(req.url!, target());
    const up = request(url, { method: req.method, headers: { ...req.headers, host: url.host } }, (ur) => {
      res.writeHead(ur.statusCode!, ur.headers);
      ur.pipe(res);
    });
    up.on('error', () => res.destroy());
    if (d.action === 'corrupt') {
      let pos = 0;
      const flip = new Transform({
        transform(chunk: Buffer, _e, cb) {
          const c = Buffer.from(chunk);
          if (d.atByte >= pos && d.atByte < pos + c.length) c[d.atByte - pos] = c[d.atByte - pos]! ^ 0xff;
          pos += c.length;
          cb(null, c);
        },
      });
      req.pipe(flip).pipe(up);
    } else req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
