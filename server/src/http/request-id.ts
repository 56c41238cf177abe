import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from './app-env.ts';

/** What a client's X-Request-Id may look like to be kept (beside ours, as the client's). */
const CLIENT_ID = /^[\w.:=-]{1,200}$/;

/**
 * The centre makes its own id for every request (a UUID): it is the `requestId` of the error shape, the audit log and
 * the `x-request-id` answer header. A client's `X-Request-Id` never replaces it (two people could send the same one);
 * a well-formed one is kept as `clientRequestId` and recorded beside ours in the audit log.
 */
export function requestIds(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const id = crypto.randomUUID();
    c.set('requestId', id);
    const client = c.req.header('x-request-id');
    if (client !== undefined && CLIENT_ID.test(client)) c.set('clientRequestId', client);
    c.header('x-request-id', id);
    await next();
  };
}
