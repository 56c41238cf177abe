/**
 * Who is signed in. The session itself is an HttpOnly cookie JavaScript never sees; this only remembers what
 * `GET /api/v1/auth/me` answered. Nothing is kept in storage: a reload asks the centre again.
 */
import { ApiError, apiClient, type Me } from './api.ts';

export type SessionStatus = 'checking' | 'signed-in' | 'signed-out' | 'unreachable';
/** Why the sign-in form is showing: a 401 code from the centre (`session_expired`, …), or the person signed out. */
export type SignedOutReason = 'signed-out' | 'session_expired' | 'session_invalid' | 'other' | null;

let status = $state<SessionStatus>('checking');
let me = $state<Me | null>(null);
let reason = $state<SignedOutReason>(null);

function ended(code: string) {
  me = null;
  status = 'signed-out';
  reason = code === 'session_expired' || code === 'session_invalid' ? code : 'other';
}

const client = apiClient({ onUnauthorized: ended });

export const session = {
  get status() {
    return status;
  },
  get me() {
    return me;
  },
  get reason() {
    return reason;
  },
  /** Whether the signed-in person's role may do this (`footage:read`, `calls:read`, ...). */
  can(capability: string): boolean {
    return me?.capabilities.includes(capability) ?? false;
  },
  /** Asks the centre who we are (at start, and after a failed check). */
  async check() {
    const wasSignedIn = status === 'signed-in';
    status = 'checking';
    try {
      me = await client.me();
      status = 'signed-in';
      reason = null;
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        if (wasSignedIn) ended(e.code); // the session ended under us: say why
        else {
          me = null;
          status = 'signed-out';
        }
      } else {
        status = 'unreachable';
      }
    }
  },
  /** Signs in; throws the centre's ApiError (401 invalid_credentials, 429 with retryAfterSeconds, ...). */
  async signIn(login: string, password: string) {
    const r = await client.login(login, password);
    me = r.user;
    status = 'signed-in';
    reason = null;
  },
  /** Ends the session at the centre (which also clears the cookie). */
  async signOut() {
    await client.logout();
    me = null;
    status = 'signed-out';
    reason = 'signed-out';
  },
  /** The API client; any 401 sends the person back to the sign-in form. */
  api() {
    return client;
  },
};
