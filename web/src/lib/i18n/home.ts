/** The home page per role: what needs attention now. */
export type HomeMessages = {
  homeTitle: string;
  homeGreeting: (name: string) => string;
  homeOpenIncidents: string;
  homeOpenIncidentsNone: string;
  homeArriving: string;
  homeArrivingHelp: string;
  homeArrivingNone: string;
  homeCamerasProblem: string;
  homeCamerasAllWell: string;
  homeReview: string;
  homeReviewNone: string;
  homeByStatus: string;
  homeStoresProblems: string;
  homeStoresNone: string;
  homeStoreProblem: (offline: number, total: number) => string;
  homeLastRecording: (when: string) => string;
  homeAudit: string;
  homeAuditOk: (n: number) => string;
  homeAuditBroken: (seq: string) => string;
  homeAuditOpen: string;
  homeAdmin: string;
  homeAdminOpen: string;
  homeSeeAll: string;
  homeRecentCalls: string;
  homeFileFromTime: string;
  homeCameras: string;
};

export const ja: HomeMessages = {
  homeTitle: 'ホーム',
  homeGreeting: (name) => `${name} さん、対応が必要なものを表示しています。`,
  homeOpenIncidents: '自店舗の未終結の事案',
  homeOpenIncidentsNone: '未終結の事案はありません。',
  homeArriving: '店舗からセンターへ転送中の証拠',
  homeArrivingHelp: '事案に保全したカメラ映像のうち、まだセンターに届いていないもの。',
  homeArrivingNone: '転送待ちの証拠はありません。',
  homeCamerasProblem: '録画が止まっているカメラ',
  homeCamerasAllWell: 'すべてのカメラが録画中です。',
  homeReview: '確認待ちの事案 (担当店舗)',
  homeReviewNone: '確認待ちの事案はありません。',
  homeByStatus: '状態別の事案数',
  homeStoresProblems: '問題のある店舗',
  homeStoresNone: '問題のある店舗はありません。',
  homeStoreProblem: (off, total) => `カメラ ${total} 台中 ${off} 台が録画していません`,
  homeLastRecording: (when) => `最終録画 ${when}`,
  homeAudit: '監査ログの改ざん検知 (ハッシュチェーン)',
  homeAuditOk: (n) => `正常: ${n} 件の記録のつながりを確認しました。`,
  homeAuditBroken: (seq) => `異常: 記録 ${seq} でつながりが切れています。`,
  homeAuditOpen: '監査ログを開く',
  homeAdmin: 'システム管理',
  homeAdminOpen: '管理画面を開く',
  homeSeeAll: 'すべて見る',
  homeRecentCalls: '通話を検索',
  homeFileFromTime: '日時を指定して事案を登録',
  homeCameras: 'カメラ一覧',
};

export const en: HomeMessages = {
  homeTitle: 'Home',
  homeGreeting: (name) => `${name}, here is what needs attention.`,
  homeOpenIncidents: "My stores' open incidents",
  homeOpenIncidentsNone: 'No open incident.',
  homeArriving: 'Evidence on its way from the store',
  homeArrivingHelp: 'Camera footage kept for an incident that has not reached the centre yet.',
  homeArrivingNone: 'Nothing is waiting to arrive.',
  homeCamerasProblem: 'Cameras not recording',
  homeCamerasAllWell: 'Every camera is recording.',
  homeReview: 'Incidents waiting for review (my stores)',
  homeReviewNone: 'No incident is waiting for review.',
  homeByStatus: 'Incidents by status',
  homeStoresProblems: 'Stores with problems',
  homeStoresNone: 'No store has a problem.',
  homeStoreProblem: (off, total) => `${off} of ${total} cameras not recording`,
  homeLastRecording: (when) => `last recording ${when}`,
  homeAudit: 'Audit log tamper check (hash chain)',
  homeAuditOk: (n) => `Intact: the links between ${n} records check out.`,
  homeAuditBroken: (seq) => `Broken: the chain breaks at record ${seq}.`,
  homeAuditOpen: 'Open the audit log',
  homeAdmin: 'Administration',
  homeAdminOpen: 'Open the admin pages',
  homeSeeAll: 'See all',
  homeRecentCalls: 'Search calls',
  homeFileFromTime: 'File an incident at a time',
  homeCameras: 'Cameras',
};
