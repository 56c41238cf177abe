import { Readable } from 'node:stream';
import type { Context } from 'hono';
import { DomainError } from '../domain/errors.ts';

export type MediaResult = { stream: Readable; size: number; range: { start: number; end: number } | null; mediaType: string; sha256: string | null; filename?: string };

/** Serves evidence bytes: 200 whole or 206 for a byte range, with the edge hash in `x-content-sha256`. */
export function mediaResponse(c: Context, m: MediaResult) {
  const headers: Record<string, string> = {
    'content-type': m.mediaType,
    'accept-ranges': 'bytes',
    'cache-control': 'private, max-age=300',
    ...(m.filename && { 'content-disposition': `inline; filename*=UTF-8''${encodeURIComponent(m.filename)}` }),
    ...(m.sha256 && { 'x-content-sha256': m.sha256 }),
  };
  const body = Readable.toWeb(m.stream) as ReadableStream;
  if (m.range) {
    headers['content-range'] = `bytes ${m.range.start}-${m.range.end}/${m.size}`;
    headers['content-length'] = String(m.range.end - m.range.start + 1);
    return c.body(body, 206, headers);
  }
  headers['content-length'] = String(m.size);
  return c.body(body, 200, headers);
}

/** RFC 9110: a 416 names the current length so the client can retry with a satisfiable range. */
export function withUnsatisfiableRangeLength(c: Context) {
  return (e: unknown): never => {
    const size = e instanceof DomainError && e.kind === 'range_not_satisfiable' ? (e.details as { size?: number } | undefined)?.size : undefined;
    if (size !== undefined) c.header('content-range', `bytes */${size}`);
    throw e;
  };
}
