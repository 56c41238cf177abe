import type { UserRole } from './types.ts';
import { durationEn, durationJa } from './format.ts';

/** Messages every page uses: sign-in, roles, navigation, loading and error sentences. */
export type CommonMessages = {
  htmlLang: string;
  appName: string;
  otherLanguage: string;
  signInTitle: string;
  loginLabel: string;
  passwordLabel: string;
  signIn: string;
  signingIn: string;
  signOut: string;
  invalidCredentials: string;
  lockedOut: (wait: string) => string;
  lockedOutNoTime: string;
  lockOver: string;
  sessionEnded: Record<'session_expired' | 'session_invalid' | 'other', string>;
  signedOut: string;
  signInRefused: (code: string) => string;
  serverUnreachable: string;
  retry: string;
  signedInAs: string;
  role: Record<UserRole, string>;
  noAccess: (role: string) => string;
  noAccessHint: Partial<Record<UserRole, string>>;
  navCameras: string;
  navCalls: string;
  none: string;
  loadFailed: (code: string) => string;
  loading: string;
  duration: (ms: number) => string;
  reload: string;
  any: string;
};

export const ja: CommonMessages = {
  htmlLang: 'ja',
  appName: 'Mamoru 証拠映像',
  otherLanguage: 'English',
  signInTitle: 'サインイン',
  loginLabel: 'ログインID',
  passwordLabel: 'パスワード',
  signIn: 'サインイン',
  signingIn: 'サインイン中…',
  signOut: 'サインアウト',
  invalidCredentials: 'ログインIDまたはパスワードが正しくありません。',
  lockedOut: (wait) => `サインインの失敗が続いたため、一時的にロックされています。あと ${wait} でもう一度お試しいただけます。`,
  lockedOutNoTime: 'サインインの失敗が続いたため、一時的にロックされています。しばらく待ってからお試しください。',
  lockOver: 'ロックは解除されました。もう一度サインインしてください。',
  sessionEnded: {
    session_expired: 'セッションの有効期限が切れました。もう一度サインインしてください。',
    session_invalid: 'セッションが無効になりました (サインアウト、パスワードや権限の変更)。もう一度サインインしてください。',
    other: 'サインインが必要です。',
  },
  signedOut: 'サインアウトしました。',
  signInRefused: (code) => `サインインできませんでした (${code})。`,
  serverUnreachable: 'サーバーに接続できません。',
  retry: '再試行',
  signedInAs: 'サインイン中',
  role: { store_manager: '店長', security: '警備担当', hq: '本部', auditor: '監査担当', admin: 'システム管理者' },
  noAccess: (role) => `「${role}」の役割には、映像と通話を閲覧する権限がありません。`,
  noAccessHint: {
    auditor: '監査ログは監査用の API (/api/v1/audit) で参照できます。',
    admin: '利用者・店舗の管理はコマンドライン (npm run admin) または管理用 API で行います。',
  },
  navCameras: 'カメラ',
  navCalls: '通話',
  none: 'なし',
  loadFailed: (code) => `読み込みに失敗しました (${code})。`,
  loading: '読み込み中…',
  duration: durationJa,
  reload: '再読み込み',
  any: 'すべて',
};

export const en: CommonMessages = {
  htmlLang: 'en',
  appName: 'Mamoru evidence',
  otherLanguage: '日本語',
  signInTitle: 'Sign in',
  loginLabel: 'Login ID',
  passwordLabel: 'Password',
  signIn: 'Sign in',
  signingIn: 'Signing in…',
  signOut: 'Sign out',
  invalidCredentials: 'The login ID or password is not correct.',
  lockedOut: (wait) => `Too many failed sign-ins: signing in is locked for now. Try again in ${wait}.`,
  lockedOutNoTime: 'Too many failed sign-ins: signing in is locked for now. Try again later.',
  lockOver: 'The lock is over. Sign in again.',
  sessionEnded: {
    session_expired: 'Your session expired. Sign in again.',
    session_invalid: 'Your session ended (signed out, or your password or role changed). Sign in again.',
    other: 'Sign in to continue.',
  },
  signedOut: 'You are signed out.',
  signInRefused: (code) => `Could not sign in (${code}).`,
  serverUnreachable: 'Cannot reach the server.',
  retry: 'Retry',
  signedInAs: 'Signed in',
  role: { store_manager: 'Store manager', security: 'Security', hq: 'HQ', auditor: 'Auditor', admin: 'Administrator' },
  noAccess: (role) => `The ${role} role has no access to footage or calls.`,
  noAccessHint: {
    auditor: 'The audit log is read through the audit API (/api/v1/audit).',
    admin: 'People and sites are managed with the command line (npm run admin) or the admin API.',
  },
  navCameras: 'Cameras',
  navCalls: 'Calls',
  none: 'none',
  loadFailed: (code) => `Could not load (${code}).`,
  loading: 'Loading…',
  duration: durationEn,
  reload: 'Reload',
  any: 'Any',
};
