/**
 * Who is signed in. For now the admin token (people's accounts come later), kept in sessionStorage: it survives a
 * reload but not closing the tab, and is never put in a URL.
 */
import { apiClient } from './api.ts';

const KEY = 'mamoru.adminToken';

function stored(): string | null {
  try {
    return typeof sessionStorage === 'undefined' ? null : sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

let token = $state<string | null>(stored());
let rejected = $state(false);

export const session = {
  get token() {
    return token;
  },
  /** True after the centre refused the token we had (the sign-in box says so). */
  get rejected() {
    return rejected;
  },
  signIn(t: string) {
    token = t;
    rejected = false;
    sessionStorage.setItem(KEY, t);
  },
  signOut(wasRejected = false) {
    token = null;
    rejected = wasRejected;
    sessionStorage.removeItem(KEY);
  },
  /** An API client with the current token; a 401 signs out. */
  api() {
    return apiClient(token ?? '', () => session.signOut(true));
  },
};
