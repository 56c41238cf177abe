/** Evidence packs and police share links (the case's packs page). */
type Purpose = 'police_request' | 'court' | 'internal_investigation' | 'insurer' | 'data_subject_request';
type PackStatus = 'queued' | 'building' | 'ready' | 'failed';
type LinkState = 'live' | 'expired' | 'used_up' | 'revoked';

export type PackMessages = {
  casePacksLink: string;
  pk: {
    title: (caseNo: string) => string;
    backToCase: string;
    loading: string;
    requestTitle: string;
    purpose: string;
    purposes: Record<Purpose, string>;
    reference: string;
    referenceHelp: string;
    legalBasis: string;
    legalBasisHelp: string;
    scope: string;
    scopeAll: string;
    scopeChosen: string;
    windows: string;
    calls: string;
    noneLinked: string;
    pickSomething: string;
    request: string;
    requesting: string;
    requested: string;
    listTitle: string;
    empty: string;
    status: Record<PackStatus, string>;
    colRequested: string;
    colPurpose: string;
    colStatus: string;
    colSize: string;
    colActions: string;
    progress: (phase: string, percent: number) => string;
    files: (n: number) => string;
    download: string;
    downloads: (n: number) => string;
    manifest: string;
    keyTitle: string;
    keyHelp: string;
    shareTitle: string;
    recipient: string;
    recipientHelp: string;
    expiresInHours: string;
    maxDownloads: string;
    passcode: string;
    passcodeHelp: string;
    createLink: string;
    linkOnce: string;
    copy: string;
    copied: string;
    linksEmpty: string;
    linkState: Record<LinkState, string>;
    linkLine: (recipient: string, until: string, used: number, max: number) => string;
    withPasscode: string;
    revoke: string;
    revokeReason: string;
    revokeReasonDefault: string;
    revokeQuestion: string;
    revoked: string;
    required: string;
  };
};

export const ja: PackMessages = {
  casePacksLink: '証拠パック・警察への提供',
  pk: {
    title: (n) => `証拠パック（${n}）`,
    backToCase: '案件に戻る',
    loading: '読み込み中…',
    requestTitle: '証拠パックを作成する',
    purpose: '利用目的',
    purposes: {
      police_request: '警察からの照会（捜査関係事項照会等）',
      court: '裁判所・訴訟対応',
      internal_investigation: '社内調査',
      insurer: '保険会社への提出',
      data_subject_request: '本人からの開示請求',
    },
    reference: '照会番号など',
    referenceHelp: '例：捜査関係事項照会書の番号',
    legalBasis: '根拠',
    legalBasisHelp: '例：刑事訴訟法第197条第2項、個人情報保護法第27条第1項第4号',
    scope: '範囲',
    scopeAll: '案件全体',
    scopeChosen: '選んだカメラ映像・通話だけ',
    windows: 'カメラ映像',
    calls: '通話',
    noneLinked: '（紐づいたものはありません）',
    pickSomething: 'カメラ映像か通話を一つ以上選んでください。',
    request: '作成を依頼',
    requesting: '依頼中…',
    requested: '作成を依頼しました。進み具合は下の一覧に表示されます。',
    listTitle: 'この案件の証拠パック',
    empty: 'まだ証拠パックはありません。',
    status: { queued: '待機中', building: '作成中', ready: '完成', failed: '失敗' },
    colRequested: '依頼（日時・依頼者）',
    colPurpose: '目的・照会番号',
    colStatus: '状態',
    colSize: 'サイズ',
    colActions: '操作',
    progress: (phase, p) => `${phase} ${p}%`,
    files: (n) => `${n} ファイル`,
    download: 'ダウンロード',
    downloads: (n) => `ダウンロード ${n} 回`,
    manifest: 'マニフェスト SHA-256',
    keyTitle: 'センターの署名鍵',
    keyHelp: '受け取る方にはこの指紋を別の手段（電話・書面）で伝えてください。',
    shareTitle: '警察への共有リンク',
    recipient: '受取人',
    recipientHelp: '例：○○警察署 生活安全課 ○○様',
    expiresInHours: '有効期間（時間）',
    maxDownloads: 'ダウンロード回数の上限',
    passcode: 'パスコード（任意）',
    passcodeHelp: 'リンクとは別の手段で伝えてください。',
    createLink: '共有リンクを作成',
    linkOnce: 'このリンクは今だけ表示されます。今コピーしてください。',
    copy: 'コピー',
    copied: 'コピーしました',
    linksEmpty: '共有リンクはまだありません。',
    linkState: { live: '有効', expired: '期限切れ', used_up: '上限到達', revoked: '取り消し済み' },
    linkLine: (r, until, used, max) => `${r}（${until} まで、${used}/${max} 回）`,
    withPasscode: 'パスコードあり',
    revoke: '取り消す',
    revokeReason: '取り消しの理由',
    revokeReasonDefault: '共有の必要がなくなったため',
    revokeQuestion: 'この共有リンクを取り消しますか? 取り消したリンクでは以後ダウンロードできません。',
    revoked: 'リンクを取り消しました。',
    required: '入力してください。',
  },
};

export const en: PackMessages = {
  casePacksLink: 'Evidence packs and police sharing',
  pk: {
    title: (n) => `Evidence packs (${n})`,
    backToCase: 'Back to the case',
    loading: 'Loading…',
    requestTitle: 'Request an evidence pack',
    purpose: 'Purpose',
    purposes: {
      police_request: 'Police request (written inquiry)',
      court: 'Court / litigation',
      internal_investigation: 'Internal investigation',
      insurer: 'Insurer',
      data_subject_request: "The data subject's own request",
    },
    reference: 'Reference',
    referenceHelp: 'e.g. the number on the written inquiry',
    legalBasis: 'Legal basis',
    legalBasisHelp: 'e.g. Code of Criminal Procedure art. 197(2); APPI art. 27(1)(iv)',
    scope: 'Scope',
    scopeAll: 'The whole case',
    scopeChosen: 'Only the chosen camera windows and calls',
    windows: 'Camera windows',
    calls: 'Calls',
    noneLinked: '(nothing linked)',
    pickSomething: 'Choose at least one camera window or call.',
    request: 'Request',
    requesting: 'Requesting…',
    requested: 'Requested. Its progress shows in the list below.',
    listTitle: "This case's evidence packs",
    empty: 'No evidence packs yet.',
    status: { queued: 'Queued', building: 'Building', ready: 'Ready', failed: 'Failed' },
    colRequested: 'Requested (when, by whom)',
    colPurpose: 'Purpose, reference',
    colStatus: 'Status',
    colSize: 'Size',
    colActions: 'Actions',
    progress: (phase, p) => `${phase} ${p}%`,
    files: (n) => `${n} files`,
    download: 'Download',
    downloads: (n) => `downloaded ${n} times`,
    manifest: 'Manifest SHA-256',
    keyTitle: "The centre's signing key",
    keyHelp: 'Tell recipients this fingerprint by another channel (phone, letter).',
    shareTitle: 'Police share links',
    recipient: 'Recipient',
    recipientHelp: 'e.g. the officer and station',
    expiresInHours: 'Valid for (hours)',
    maxDownloads: 'Download limit',
    passcode: 'Passcode (optional)',
    passcodeHelp: 'Tell it by another channel than the link.',
    createLink: 'Create share link',
    linkOnce: 'This link is shown only now. Copy it now.',
    copy: 'Copy',
    copied: 'Copied',
    linksEmpty: 'No share links yet.',
    linkState: { live: 'Live', expired: 'Expired', used_up: 'Used up', revoked: 'Revoked' },
    linkLine: (r, until, used, max) => `${r} (until ${until}, ${used}/${max})`,
    withPasscode: 'passcode',
    revoke: 'Revoke',
    revokeReason: 'Reason for revoking',
    revokeReasonDefault: 'No longer needed',
    revokeQuestion: 'Revoke this share link? It cannot be used to download again.',
    revoked: 'Link revoked.',
    required: 'Please fill this in.',
  },
};
