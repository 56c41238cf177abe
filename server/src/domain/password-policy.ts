/** Login names and passwords: the rules the API, the command line and the database agree on. */

export const LOGIN_PATTERN = /^[a-z0-9][a-z0-9._@-]{2,63}$/;
export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 1024;

/** How a typed login is compared: Unicode NFKC (full-width letters become ASCII), trimmed, lowercase. */
export function normalizeLogin(login: string): string {
  return login.normalize('NFKC').trim().toLowerCase();
}

/** Null when acceptable, else the reason. Length is what matters (NIST SP 800-63B); no composition rules. */
export function passwordProblem(password: string, login?: string): string | null {
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) return `at least ${PASSWORD_MIN_LENGTH} characters`;
  if (length > PASSWORD_MAX_LENGTH) return `at most ${PASSWORD_MAX_LENGTH} characters`;
  if (login && normalizeLogin(password) === normalizeLogin(login)) return 'must not be the login name';
  if (/^(.)\1+$/u.test(password)) return 'must not repeat one character';
  return null;
}
