/** Stores, audit and admin pages. */
import { durationEn, durationJa } from './format.ts';
import type { RefusalSubject } from '@mamoru/contract/enums';

type ProblemCode = 'no_agent' | 'agent_silent' | 'agent_never_seen' | 'clock_offset' | 'disk_nearly_full' | 'backlog' | 'camera_offline' | 'coverage_holes';
type TabCode = 'users' | 'sites' | 'tokens' | 'agents' | 'retention';
type TokenState = 'active' | 'used' | 'expired' | 'revoked';
type RetentionClass = 'routine_footage' | 'routine_calls' | 'incident_evidence' | 'legal_hold';
type BrokenReason = 'hash_mismatch' | 'prev_hash_mismatch' | 'missing_event' | 'head_mismatch' | 'anchor_mismatch';

export type AdminMessages = {
  // Stores
  storesTitle: string;
  storesIntro: string;
  storesEmpty: string;
  storesOk: string;
  storeProblem: Record<ProblemCode, (value: number | undefined, camera: string | undefined) => string>;
  problemSeverity: Record<'critical' | 'warning', string>;
  agentHeading: string;
  noAgentEnrolled: string;
  lastContact: string;
  neverContacted: string;
  agentVersion: string;
  clockOffset: string;
  /** Requests of the agent the centre refused (times out of bounds), per kind. */
  refused: string;
  refusedValue: (subject: RefusalSubject, count: number, code: string) => string;
  disk: string;
  backlog: string;
  backlogValue: (count: number | null, bytes: string) => string;
  unknownValue: string;
  camerasHeading: string;
  storeNoCameras: string;
  uploadMode: Record<'continuous' | 'on-demand', string>;
  coverage24h: (percent: number) => string;
  coverageLegend: Record<'covered' | 'hole' | 'gap' | 'notYet', string>;
  coverageBarLabel: (camera: string) => string;
  callsHeading: (count: number) => string;
  storeNoCalls: string;
  callsHidden: string;
  callDirection: Record<'inbound' | 'outbound' | 'internal' | 'unknown', string>;
  callDisposition: Record<'answered' | 'no_answer' | 'busy' | 'failed' | 'congestion' | 'unknown', string>;
  ago: (ms: number) => string;
  // Audit
  auditTitle: string;
  auditZone: (zone: string) => string;
  chainHeading: string;
  chainChecking: string;
  chainIntact: (checked: number, headId: string) => string;
  chainBroken: (id: string, reason: string) => string;
  chainBrokenReason: Record<BrokenReason, string>;
  chainLastGood: (id: string) => string;
  chainRecheck: string;
  filterActor: string;
  filterActorHint: string;
  filterAction: string;
  filterActionHint: string;
  filterTargetType: string;
  filterTargetId: string;
  filterFrom: string;
  filterTo: string;
  filterOutcome: string;
  outcome: Record<'success' | 'failure', string>;
  filterApply: string;
  filterClear: string;
  filterProblem: Record<'from_invalid' | 'to_invalid' | 'order', string>;
  auditEmpty: string;
  auditColTime: string;
  auditColActor: string;
  auditColAction: string;
  auditColTarget: string;
  auditColOutcome: string;
  auditColDetails: string;
  olderEvents: string;
  newestEvents: string;
  actorType: Record<'user' | 'agent' | 'system' | 'anonymous', string>;
  // Admin
  adminTitle: string;
  adminTab: Record<TabCode, string>;
  colLogin: string;
  colName: string;
  colRole: string;
  colSites: string;
  colState: string;
  colActions: string;
  userActive: string;
  userDisabled: string;
  userLocked: string;
  newUser: string;
  password: string;
  passwordHint: string;
  create: string;
  save: string;
  cancel: string;
  edit: string;
  disable: string;
  enable: string;
  saved: string;
  created: (what: string) => string;
  sitesNotApplicable: string;
  siteCode: string;
  siteCodeHint: string;
  siteName: string;
  siteZone: string;
  siteAddress: string;
  cameraNotice: string;
  cameraNoticeText: string;
  cameraNoticePlace: string;
  cameraNoticeSince: string;
  pbxNotice: string;
  noticeMissing: string;
  newSite: string;
  editSite: (name: string) => string;
  tokenSite: string;
  tokenTtl: string;
  tokenTtlHours: (h: number) => string;
  issueToken: string;
  tokenIssued: string;
  tokenOnce: string;
  tokenState: Record<TokenState, string>;
  colIssued: string;
  colExpires: string;
  colBy: string;
  revoke: string;
  revokeConfirm: (what: string) => string;
  noTokens: string;
  colHost: string;
  colVersion: string;
  colLastContact: string;
  agentRevoked: (at: string) => string;
  agentLive: string;
  noAgents: string;
  retentionIntro: string;
  retentionReadOnly: string;
  retentionClass: Record<RetentionClass, string>;
  retentionDays: string;
  retentionUntilReleased: string;
  retentionUpdated: (at: string, by: string) => string;
  adminNoAccess: string;
  auditNoAccess: string;
  storesNoAccess: string;
  /** API error codes of these pages as plain sentences; others fall back to loadFailed. */
  adminError: Record<string, string>;
};

const dur = (f: (ms: number) => string) => (ms: number | undefined) => f(ms ?? 0);

export const ja: AdminMessages = {
  storesTitle: '店舗の状況',
  storesIntro: '各店舗のエージェント、カメラの直近24時間の録画状況、最近の通話。問題のある店舗が先に表示されます。',
  storesEmpty: '表示できる店舗がありません。',
  storesOk: '問題なし',
  storeProblem: {
    no_agent: () => 'エージェントが登録されていません',
    agent_silent: (v) => `エージェントから ${dur(durationJa)(v)} 連絡がありません`,
    agent_never_seen: () => 'エージェントから一度も連絡がありません',
    clock_offset: (v) => `エージェントの時計が ${((v ?? 0) / 1000).toFixed(1)} 秒ずれています`,
    disk_nearly_full: (v) => `ディスク使用率 ${Math.round((v ?? 0) * 100)}%`,
    backlog: (v) => `未送信 ${v ?? 0} 件`,
    camera_offline: (_v, c) => `カメラ「${c ?? ''}」が停止しています`,
    coverage_holes: (v, c) => `カメラ「${c ?? ''}」の録画が計 ${dur(durationJa)(v)} 欠けています`,
  },
  problemSeverity: { critical: '重大', warning: '注意' },
  agentHeading: 'エージェント',
  noAgentEnrolled: '登録済みのエージェントはありません。',
  lastContact: '最終連絡',
  neverContacted: '連絡なし',
  agentVersion: 'バージョン',
  clockOffset: '時計のずれ',
  refused: '受け付けなかった送信',
  refusedValue: (subject, n, code) => `${{ segment: '映像', segment_meta: '映像の記録', gap: '欠落の報告', heartbeat: '状態報告', call: '通話記録', call_live: '通話中の情報' }[subject]} ${n} 件 (${code === 'time_out_of_bounds' ? '時刻が範囲外' : code})`,
  disk: 'ディスク',
  backlog: '未送信',
  backlogValue: (n, bytes) => `${n ?? '—'} 件 (${bytes})`,
  unknownValue: '不明',
  camerasHeading: 'カメラ (直近24時間)',
  storeNoCameras: 'カメラは登録されていません。',
  uploadMode: { continuous: '常時送信', 'on-demand': '必要時のみ送信' },
  coverage24h: (p) => `録画 ${p}%`,
  coverageLegend: { covered: '録画あり', hole: '録画なし', gap: '報告された欠落', notYet: '未着 (処理中)' },
  coverageBarLabel: (c) => `${c} の直近24時間の録画状況`,
  callsHeading: (n) => `直近24時間の通話 (${n} 件)`,
  storeNoCalls: '直近24時間の通話はありません。',
  callsHidden: 'この役割には通話の閲覧権限がありません。',
  callDirection: { inbound: '着信', outbound: '発信', internal: '内線', unknown: '不明' },
  callDisposition: { answered: '応答', no_answer: '不応答', busy: '話中', failed: '失敗', congestion: '輻輳', unknown: '不明' },
  ago: (ms) => `${durationJa(ms)}前`,
  auditTitle: '監査ログ',
  auditZone: (z) => `表示時刻: ${z}`,
  chainHeading: 'ハッシュチェーンの検証',
  chainChecking: '検証中…',
  chainIntact: (n, head) => `改ざんは検出されませんでした (${n} 件を検証、先頭 #${head})。`,
  chainBroken: (id, reason) => `改ざんを検出しました: 最初に壊れているのはイベント #${id} です (${reason})。`,
  chainBrokenReason: {
    hash_mismatch: 'イベントの内容が変更されています',
    prev_hash_mismatch: '前のイベントとのつながりが一致しません',
    missing_event: 'イベントが削除されています',
    head_mismatch: '末尾のイベントが削除または追加されています',
    anchor_mismatch: '記録済みのアンカーと一致しません',
  },
  chainLastGood: (id) => `最後に正しかったイベント: #${id}`,
  chainRecheck: '再検証',
  filterActor: '実行者',
  filterActorHint: 'ログインIDまたはID',
  filterAction: '操作',
  filterActionHint: '例: auth.* / user.create',
  filterTargetType: '対象の種類',
  filterTargetId: '対象ID',
  filterFrom: '開始',
  filterTo: '終了',
  filterOutcome: '結果',
  outcome: { success: '成功', failure: '失敗' },
  filterApply: '絞り込む',
  filterClear: '条件をクリア',
  filterProblem: { from_invalid: '開始日時が正しくありません。', to_invalid: '終了日時が正しくありません。', order: '開始は終了より前にしてください。' },
  auditEmpty: '条件に合うイベントはありません。',
  auditColTime: '日時',
  auditColActor: '実行者',
  auditColAction: '操作',
  auditColTarget: '対象',
  auditColOutcome: '結果',
  auditColDetails: '詳細',
  olderEvents: '古いイベント →',
  newestEvents: '← 最新に戻る',
  actorType: { user: '利用者', agent: 'エージェント', system: 'システム', anonymous: '未認証' },
  adminTitle: '管理',
  adminTab: { users: '利用者と役割', sites: '店舗', tokens: '登録トークン', agents: 'エージェント', retention: '保存期間' },
  colLogin: 'ログインID',
  colName: '氏名',
  colRole: '役割',
  colSites: '担当店舗',
  colState: '状態',
  colActions: '操作',
  userActive: '有効',
  userDisabled: '無効',
  userLocked: 'ロック中',
  newUser: '利用者を追加',
  password: '初期パスワード',
  passwordHint: '12文字以上',
  create: '作成',
  save: '保存',
  cancel: 'キャンセル',
  edit: '編集',
  disable: '無効にする',
  enable: '有効にする',
  saved: '保存しました。',
  created: (w) => `「${w}」を作成しました。`,
  sitesNotApplicable: '本部・監査担当・システム管理者は店舗に結び付きません。',
  siteCode: '店舗コード',
  siteCodeHint: '英小文字・数字・ハイフン (変更不可)',
  siteName: '店舗名',
  siteZone: 'タイムゾーン',
  siteAddress: '住所',
  cameraNotice: 'カメラ掲示 (撮影の告知)',
  cameraNoticeText: '掲示の文言',
  cameraNoticePlace: '掲示場所',
  cameraNoticeSince: '掲示開始日',
  pbxNotice: '通話録音の告知文 (PBX)',
  noticeMissing: '未登録',
  newSite: '店舗を追加',
  editSite: (n) => `「${n}」を編集`,
  tokenSite: '店舗',
  tokenTtl: '有効期間',
  tokenTtlHours: (h) => (h >= 24 ? `${h / 24} 日` : `${h} 時間`),
  issueToken: 'トークンを発行',
  tokenIssued: '登録トークンを発行しました。店舗のエージェントの登録に使ってください:',
  tokenOnce: 'このトークンは今だけ表示されます。一度しか使えません。',
  tokenState: { active: '未使用', used: '使用済み', expired: '期限切れ', revoked: '取り消し済み' },
  colIssued: '発行',
  colExpires: '有効期限',
  colBy: '発行者',
  revoke: '取り消す',
  revokeConfirm: (w) => `${w} を取り消しますか? 元に戻せません。`,
  noTokens: '登録トークンはありません。',
  colHost: 'ホスト名',
  colVersion: 'バージョン',
  colLastContact: '最終連絡',
  agentRevoked: (at) => `取り消し済み (${at})`,
  agentLive: '有効',
  noAgents: 'エージェントはありません。',
  retentionIntro: '保存期間を過ぎた通常の映像と通話は自動で削除されます。事案に紐づく証拠と訴訟ホールド中のものは削除されません。',
  retentionReadOnly: '保存期間は本部が設定します (この画面では閲覧のみ)。',
  retentionClass: { routine_footage: '通常の映像', routine_calls: '通常の通話録音', incident_evidence: '事案の証拠 (事案の終了から)', legal_hold: '訴訟ホールド' },
  retentionDays: '日数',
  retentionUntilReleased: '解除まで保存',
  retentionUpdated: (at, by) => `${at} に ${by} が更新`,
  adminNoAccess: 'この役割では管理画面を開けません。',
  auditNoAccess: 'この役割では監査ログを閲覧できません。',
  storesNoAccess: 'この役割では店舗の状況を閲覧できません。',
  adminError: {
    login_taken: 'そのログインIDは使われています。',
    invalid_login: 'ログインIDは3〜64文字の英小文字・数字・. _ @ - で、英数字で始めてください。',
    weak_password: 'パスワードが弱すぎます (12文字以上、ログインIDと同じにしない、同じ文字の繰り返しにしない)。',
    last_admin: '最後の有効なシステム管理者は変更・無効化できません。先に別の管理者を作成してください。',
    sites_not_applicable: 'この役割には店舗を割り当てられません。',
    site_code_taken: 'その店舗コードは使われています。',
    invalid_site_code: '店舗コードは英小文字・数字・ハイフンで入力してください。',
    invalid_timezone: 'タイムゾーンが正しくありません (例: Asia/Tokyo)。',
    invalid_notice_date: '掲示開始日が正しくありません。',
    enrollment_token_used: 'このトークンは使用済みです。取り消すには、登録されたエージェントを取り消してください。',
    invalid_request: '入力内容に誤りがあります。',
    forbidden: 'この操作の権限がありません。',
  },
};

export const en: AdminMessages = {
  storesTitle: 'Stores',
  storesIntro: "Each store's agent, its cameras' recording over the last 24 hours, and recent calls. Stores with a problem come first.",
  storesEmpty: 'No stores to show.',
  storesOk: 'No problems',
  storeProblem: {
    no_agent: () => 'No agent enrolled',
    agent_silent: (v) => `No word from the agent for ${dur(durationEn)(v)}`,
    agent_never_seen: () => 'The agent has never reported',
    clock_offset: (v) => `Agent clock off by ${((v ?? 0) / 1000).toFixed(1)} s`,
    disk_nearly_full: (v) => `Disk ${Math.round((v ?? 0) * 100)}% full`,
    backlog: (v) => `${v ?? 0} items waiting to upload`,
    camera_offline: (_v, c) => `Camera “${c ?? ''}” is offline`,
    coverage_holes: (v, c) => `Camera “${c ?? ''}” is missing ${dur(durationEn)(v)} of footage`,
  },
  problemSeverity: { critical: 'Critical', warning: 'Warning' },
  agentHeading: 'Agent',
  noAgentEnrolled: 'No agent is enrolled.',
  lastContact: 'Last contact',
  neverContacted: 'never',
  agentVersion: 'Version',
  clockOffset: 'Clock offset',
  refused: 'Refused uploads',
  refusedValue: (subject, n, code) => `${{ segment: 'segments', segment_meta: 'segment records', gap: 'gap reports', heartbeat: 'heartbeats', call: 'call records', call_live: 'live call updates' }[subject]}: ${n} (${code === 'time_out_of_bounds' ? 'time out of range' : code})`,
  disk: 'Disk',
  backlog: 'Backlog',
  backlogValue: (n, bytes) => `${n ?? '—'} items (${bytes})`,
  unknownValue: 'unknown',
  camerasHeading: 'Cameras (last 24 hours)',
  storeNoCameras: 'No cameras registered.',
  uploadMode: { continuous: 'Continuous upload', 'on-demand': 'On demand' },
  coverage24h: (p) => `${p}% recorded`,
  coverageLegend: { covered: 'Recorded', hole: 'No footage', gap: 'Reported gap', notYet: 'Not yet (arriving)' },
  coverageBarLabel: (c) => `Recording of ${c} over the last 24 hours`,
  callsHeading: (n) => `Calls in the last 24 hours (${n})`,
  storeNoCalls: 'No calls in the last 24 hours.',
  callsHidden: 'This role may not see calls.',
  callDirection: { inbound: 'Inbound', outbound: 'Outbound', internal: 'Internal', unknown: 'Unknown' },
  callDisposition: { answered: 'Answered', no_answer: 'No answer', busy: 'Busy', failed: 'Failed', congestion: 'Congestion', unknown: 'Unknown' },
  ago: (ms) => `${durationEn(ms)} ago`,
  auditTitle: 'Audit log',
  auditZone: (z) => `Times shown in: ${z}`,
  chainHeading: 'Hash chain verification',
  chainChecking: 'Verifying…',
  chainIntact: (n, head) => `No tampering found (${n} events checked, head #${head}).`,
  chainBroken: (id, reason) => `Tampering found: the first broken link is event #${id} (${reason}).`,
  chainBrokenReason: {
    hash_mismatch: 'the event was altered',
    prev_hash_mismatch: 'it does not link to the event before it',
    missing_event: 'an event was deleted',
    head_mismatch: 'events at the end were deleted or added',
    anchor_mismatch: 'it does not match a recorded anchor',
  },
  chainLastGood: (id) => `Last good event: #${id}`,
  chainRecheck: 'Verify again',
  filterActor: 'Who',
  filterActorHint: 'login or id',
  filterAction: 'Action',
  filterActionHint: 'e.g. auth.* / user.create',
  filterTargetType: 'Object type',
  filterTargetId: 'Object id',
  filterFrom: 'From',
  filterTo: 'To',
  filterOutcome: 'Outcome',
  outcome: { success: 'Success', failure: 'Failure' },
  filterApply: 'Filter',
  filterClear: 'Clear',
  filterProblem: { from_invalid: 'The start time is not valid.', to_invalid: 'The end time is not valid.', order: 'The start must be before the end.' },
  auditEmpty: 'No events match.',
  auditColTime: 'Time',
  auditColActor: 'Who',
  auditColAction: 'Action',
  auditColTarget: 'Object',
  auditColOutcome: 'Outcome',
  auditColDetails: 'Details',
  olderEvents: 'Older events →',
  newestEvents: '← Back to newest',
  actorType: { user: 'Person', agent: 'Agent', system: 'System', anonymous: 'Not signed in' },
  adminTitle: 'Admin',
  adminTab: { users: 'People and roles', sites: 'Stores', tokens: 'Enrollment tokens', agents: 'Agents', retention: 'Retention' },
  colLogin: 'Login',
  colName: 'Name',
  colRole: 'Role',
  colSites: 'Stores',
  colState: 'State',
  colActions: 'Actions',
  userActive: 'Active',
  userDisabled: 'Disabled',
  userLocked: 'Locked',
  newUser: 'Add a person',
  password: 'Initial password',
  passwordHint: 'at least 12 characters',
  create: 'Create',
  save: 'Save',
  cancel: 'Cancel',
  edit: 'Edit',
  disable: 'Disable',
  enable: 'Enable',
  saved: 'Saved.',
  created: (w) => `Created “${w}”.`,
  sitesNotApplicable: 'HQ, auditors and admins are not bound to stores.',
  siteCode: 'Store code',
  siteCodeHint: 'lowercase letters, digits, dashes (cannot change)',
  siteName: 'Store name',
  siteZone: 'Time zone',
  siteAddress: 'Address',
  cameraNotice: 'Camera signage (recording notice)',
  cameraNoticeText: 'Sign text',
  cameraNoticePlace: 'Where posted',
  cameraNoticeSince: 'Posted since',
  pbxNotice: 'Call recording notice (PBX)',
  noticeMissing: 'not recorded',
  newSite: 'Add a store',
  editSite: (n) => `Edit “${n}”`,
  tokenSite: 'Store',
  tokenTtl: 'Valid for',
  tokenTtlHours: (h) => (h >= 24 ? `${h / 24} days` : `${h} hours`),
  issueToken: 'Issue token',
  tokenIssued: "Enrollment token issued. Use it to enroll the store's agent:",
  tokenOnce: 'This token is shown only now and works once.',
  tokenState: { active: 'Unused', used: 'Used', expired: 'Expired', revoked: 'Revoked' },
  colIssued: 'Issued',
  colExpires: 'Expires',
  colBy: 'By',
  revoke: 'Revoke',
  revokeConfirm: (w) => `Revoke ${w}? This cannot be undone.`,
  noTokens: 'No enrollment tokens.',
  colHost: 'Host',
  colVersion: 'Version',
  colLastContact: 'Last contact',
  agentRevoked: (at) => `Revoked (${at})`,
  agentLive: 'Active',
  noAgents: 'No agents.',
  retentionIntro: 'Routine footage and calls past their period are deleted automatically. Evidence linked to a case and anything under legal hold is kept.',
  retentionReadOnly: 'HQ sets the retention periods (read-only here).',
  retentionClass: { routine_footage: 'Routine footage', routine_calls: 'Routine call recordings', incident_evidence: 'Case evidence (from case closing)', legal_hold: 'Legal hold' },
  retentionDays: 'Days',
  retentionUntilReleased: 'Kept until released',
  retentionUpdated: (at, by) => `Updated ${at} by ${by}`,
  adminNoAccess: 'This role may not open the admin pages.',
  auditNoAccess: 'This role may not read the audit log.',
  storesNoAccess: 'This role may not see the stores view.',
  adminError: {
    login_taken: 'That login is taken.',
    invalid_login: 'Login: 3–64 of a-z 0-9 . _ @ -, starting with a letter or digit.',
    weak_password: "Password too weak (at least 12 characters, not the login, not one repeated character).",
    last_admin: 'The last active admin cannot be changed or disabled; make another admin first.',
    sites_not_applicable: 'This role cannot have stores.',
    site_code_taken: 'That store code is taken.',
    invalid_site_code: 'Store code: lowercase letters, digits and dashes.',
    invalid_timezone: 'Unknown time zone (e.g. Asia/Tokyo).',
    invalid_notice_date: 'The signage date is not valid.',
    enrollment_token_used: 'This token was already used; revoke the agent it enrolled instead.',
    invalid_request: 'Some input is not valid.',
    forbidden: 'You may not do this.',
  },
};
