/** Filing an incident and the incident list. */
type Category = 'verbal_abuse' | 'threat' | 'excessive_demand' | 'prolonged_detention' | 'violence' | 'other';
type Severity = 'low' | 'medium' | 'high' | 'critical';
type Status = 'draft' | 'open' | 'under_review' | 'referred_to_police' | 'closed';
type Preservation = 'centre' | 'transit' | 'store' | 'missing';

export type IncidentMessages = {
  navIncidents: string;
  navStores: string;
  navAudit: string;
  navAdmin: string;
  category: Record<Category, string>;
  severity: Record<Severity, string>;
  status: Record<Status, string>;
  incidentsTitle: string;
  incFilterStatus: string;
  incFilterCategory: string;
  incFilterReporter: string;
  incReporterMe: string;
  incFilterCase: string;
  incFilterCaseHelp: string;
  incFilterDays: (zone: string) => string;
  incApply: string;
  incDateOrder: string;
  incColCase: string;
  incColFiled: string;
  incColSite: string;
  incColTitle: string;
  incColCategory: string;
  incColSeverity: string;
  incColStatus: string;
  incColReporter: string;
  incColWhen: string;
  incNone: string;
  incNoneYet: string;
  incNewer: string;
  incOlder: string;
  incShown: (n: number) => string;
  incOpen: string;
  fileIncident: string;
  fileFromCall: string;
  fileTitle: string;
  fileFromCallTitle: string;
  fileFromTimeTitle: string;
  fileCallSummary: (who: string, when: string) => string;
  fileCallHelp: string;
  fileRequiredNote: string;
  required: string;
  optional: string;
  fileSite: string;
  fileAt: string;
  fileAtHelp: (zone: string) => string;
  fileMinutes: string;
  fileCategory: string;
  fileSeverity: string;
  fileWhatHappened: string;
  fileWhatHappenedHelp: string;
  fileTitleLabel: string;
  fileTitleHelp: string;
  fileSubmit: string;
  fileSubmitting: string;
  fileProblem: Record<'site' | 'at' | 'at_future' | 'minutes' | 'category' | 'severity', string>;
  fileCannot: string;
  filedTitle: (caseNumber: string) => string;
  filedIntro: string;
  filedOpenCase: string;
  filedAnother: string;
  filedRefresh: string;
  filedCameras: string;
  filedCalls: string;
  filedNoCameras: string;
  filedNoCalls: string;
  filedWindow: (from: string, to: string) => string;
  preservation: Record<Preservation, string>;
  preservationHelp: Record<Preservation, string>;
  stillRecording: (d: string) => string;
  gapShare: (reason: string, d: string) => string;
  agentSaid: (detail: string) => string;
  recordingsStored: (stored: number, total: number) => string;
  linkSource: Record<'filed_from' | 'window' | 'manual', string>;
  apiError: Record<string, string>;
  apiErrorOther: (code: string) => string;
};

export const ja: IncidentMessages = {
  navIncidents: '事案',
  navStores: '店舗',
  navAudit: '監査',
  navAdmin: '管理',
  category: { verbal_abuse: '暴言', threat: '脅迫', excessive_demand: '過剰要求', prolonged_detention: '長時間拘束', violence: '暴力', other: 'その他' },
  severity: { low: '軽微', medium: '中', high: '重大', critical: '緊急' },
  status: { draft: '下書き', open: '受付', under_review: '確認中', referred_to_police: '警察へ相談・通報済み', closed: '終結' },
  incidentsTitle: '事案一覧',
  incFilterStatus: '状態',
  incFilterCategory: '種類',
  incFilterReporter: '報告者',
  incReporterMe: '自分が報告した事案',
  incFilterCase: '事案番号 (一部でも可)',
  incFilterCaseHelp: '例: 0012、SHIBUYA-2026',
  incFilterDays: (zone) => `日付は店舗の現地時間 (${zone}) の暦日で、その日に起きた事案を表示します (終了日を含む)。`,
  incApply: '絞り込む',
  incDateOrder: '終了日は開始日以降にしてください。',
  incColCase: '事案番号',
  incColFiled: '登録',
  incColSite: '店舗',
  incColTitle: '件名',
  incColCategory: '種類',
  incColSeverity: '重大度',
  incColStatus: '状態',
  incColReporter: '報告者',
  incColWhen: '発生',
  incNone: '条件に合う事案はありません。',
  incNoneYet: 'まだ事案は登録されていません。',
  incNewer: '← 最新の事案に戻る',
  incOlder: '次のページ (より古い事案) →',
  incShown: (n) => `${n} 件を新しい順に表示`,
  incOpen: '開く',
  fileIncident: '事案を登録',
  fileFromCall: 'この通話で事案を登録',
  fileTitle: '事案の登録',
  fileFromCallTitle: '通話から事案を登録',
  fileFromTimeTitle: '店舗の日時から事案を登録',
  fileCallSummary: (who, when) => `通話: ${who}、${when}`,
  fileCallHelp: 'この通話の時間と前後の数分について、店舗の通話とすべてのカメラの映像を証拠として保全します。',
  fileRequiredNote: '必須は * の項目だけです。あとから追記できます。',
  required: '必須',
  optional: '任意',
  fileSite: '店舗',
  fileAt: '発生日時',
  fileAtHelp: (zone) => `店舗の現地時間 (${zone}) で入力します。`,
  fileMinutes: '続いた時間 (分)',
  fileCategory: '種類',
  fileSeverity: '重大度',
  fileWhatHappened: '何があったか',
  fileWhatHappenedHelp: '相手の言動、対応した人、時刻などを覚えている範囲で。',
  fileTitleLabel: '件名',
  fileTitleHelp: '空欄なら種類と日時が件名になります。',
  fileSubmit: '登録する',
  fileSubmitting: '登録中…',
  fileProblem: {
    site: '店舗を選んでください。',
    at: '発生日時を入力してください。',
    at_future: '発生日時が未来になっています。',
    minutes: '続いた時間は 1 分から 1440 分の間で入力してください。',
    category: '種類を選んでください。',
    severity: '重大度を選んでください。',
  },
  fileCannot: 'この役割では事案を登録できません。',
  filedTitle: (n) => `事案 ${n} を登録しました`,
  filedIntro: '次の通話とカメラ映像を証拠として保全しました。保存先の状態は下のとおりです。',
  filedOpenCase: '事案を開く',
  filedAnother: '別の事案を登録',
  filedRefresh: '状態を更新',
  filedCameras: 'カメラ映像',
  filedCalls: '通話',
  filedNoCameras: 'この店舗にはカメラが登録されていません。',
  filedNoCalls: 'この時間帯の通話はありません。',
  filedWindow: (from, to) => `${from} 〜 ${to}`,
  preservation: { centre: 'センターに保存済み', transit: '転送中', store: '店舗で保持中', missing: '欠落' },
  preservationHelp: {
    centre: 'センターに届き、削除されないよう保全されています。',
    transit: '店舗からセンターへ送られています。',
    store: '店舗の録画装置にあり、センターへの送信を依頼済みです。',
    missing: 'センターに届く見込みのない部分があります。',
  },
  stillRecording: (d) => `あと ${d} は録画中`,
  gapShare: (reason, d) => `欠落 ${d}: ${reason}`,
  agentSaid: (detail) => `店舗の装置からの報告: ${detail}`,
  recordingsStored: (s, t) => `録音 ${t} 件中 ${s} 件がセンターに到着`,
  linkSource: { filed_from: '登録元の通話', window: '同じ時間帯', manual: '手動で追加' },
  apiError: {
    call_not_found: 'この通話は見つからないか、閲覧する権限がありません。',
    site_not_found: 'この店舗は見つからないか、担当していません。',
    window_in_future: '発生日時が未来になっています。',
    window_too_long: '一度に登録できるのは 24 時間までです。',
    invalid_range: '終了は開始より後にしてください。',
    forbidden: 'この操作を行う権限がありません。',
    network_error: 'サーバーに接続できません。通信を確認してもう一度お試しください。',
    invalid_request: '入力内容に誤りがあります。',
    invalid_cursor: 'ページの指定が古くなっています。最初のページから表示し直してください。',
    incident_not_found: 'この事案は見つからないか、閲覧する権限がありません。',
  },
  apiErrorOther: (code) => `処理できませんでした (${code})。時間をおいてもう一度お試しください。`,
};

export const en: IncidentMessages = {
  navIncidents: 'Incidents',
  navStores: 'Stores',
  navAudit: 'Audit',
  navAdmin: 'Admin',
  category: { verbal_abuse: 'Verbal abuse', threat: 'Threat', excessive_demand: 'Excessive demand', prolonged_detention: 'Prolonged detention', violence: 'Violence', other: 'Other' },
  severity: { low: 'Low', medium: 'Medium', high: 'High', critical: 'Critical' },
  status: { draft: 'Draft', open: 'Open', under_review: 'Under review', referred_to_police: 'Referred to police', closed: 'Closed' },
  incidentsTitle: 'Incidents',
  incFilterStatus: 'Status',
  incFilterCategory: 'Kind',
  incFilterReporter: 'Reporter',
  incReporterMe: 'Filed by me',
  incFilterCase: 'Case number (any part)',
  incFilterCaseHelp: 'e.g. 0012, SHIBUYA-2026',
  incFilterDays: (zone) => `Dates are calendar days in the store's local time (${zone}); incidents that happened on them are shown (end date included).`,
  incApply: 'Filter',
  incDateOrder: 'The end date must not be before the start date.',
  incColCase: 'Case number',
  incColFiled: 'Filed',
  incColSite: 'Store',
  incColTitle: 'Title',
  incColCategory: 'Kind',
  incColSeverity: 'Severity',
  incColStatus: 'Status',
  incColReporter: 'Reporter',
  incColWhen: 'Happened',
  incNone: 'No incident matches.',
  incNoneYet: 'No incident has been filed yet.',
  incNewer: '← Back to the newest incidents',
  incOlder: 'Next page (older incidents) →',
  incShown: (n) => `${n} shown, newest first`,
  incOpen: 'Open',
  fileIncident: 'File an incident',
  fileFromCall: 'File an incident from this call',
  fileTitle: 'File an incident',
  fileFromCallTitle: 'File an incident from a call',
  fileFromTimeTitle: 'File an incident at a time at the store',
  fileCallSummary: (who, when) => `Call: ${who}, ${when}`,
  fileCallHelp: "The store's calls and every camera's footage of this call and a few minutes around it are kept as evidence.",
  fileRequiredNote: 'Only the fields marked * are required. You can add more later.',
  required: 'required',
  optional: 'optional',
  fileSite: 'Store',
  fileAt: 'When it happened',
  fileAtHelp: (zone) => `In the store's local time (${zone}).`,
  fileMinutes: 'How long (minutes)',
  fileCategory: 'Kind',
  fileSeverity: 'Severity',
  fileWhatHappened: 'What happened',
  fileWhatHappenedHelp: 'What the person said and did, who dealt with it, times: as far as you remember.',
  fileTitleLabel: 'Title',
  fileTitleHelp: 'Left empty, the kind and the time become the title.',
  fileSubmit: 'File',
  fileSubmitting: 'Filing…',
  fileProblem: {
    site: 'Choose the store.',
    at: 'Give the date and time it happened.',
    at_future: 'That time is in the future.',
    minutes: 'Give between 1 and 1440 minutes.',
    category: 'Choose the kind.',
    severity: 'Choose the severity.',
  },
  fileCannot: 'Your role cannot file incidents.',
  filedTitle: (n) => `Incident ${n} filed`,
  filedIntro: 'These calls and camera footage are now kept as evidence. Where each one is:',
  filedOpenCase: 'Open the case',
  filedAnother: 'File another',
  filedRefresh: 'Refresh',
  filedCameras: 'Camera footage',
  filedCalls: 'Calls',
  filedNoCameras: 'This store has no cameras registered.',
  filedNoCalls: 'No call in this time.',
  filedWindow: (from, to) => `${from} – ${to}`,
  preservation: { centre: 'At the centre', transit: 'On its way', store: 'Held at the store', missing: 'Missing' },
  preservationHelp: {
    centre: 'It reached the centre and is held against deletion.',
    transit: 'The store is sending it to the centre.',
    store: "It is on the store's recorder; the centre has asked for it.",
    missing: 'Part of it will not reach the centre.',
  },
  stillRecording: (d) => `${d} still being recorded`,
  gapShare: (reason, d) => `Missing ${d}: ${reason}`,
  agentSaid: (detail) => `The store's recorder said: ${detail}`,
  recordingsStored: (s, t) => `${s} of ${t} recordings at the centre`,
  linkSource: { filed_from: 'Filed from this call', window: 'Same time', manual: 'Added by hand' },
  apiError: {
    call_not_found: 'This call was not found, or you may not see it.',
    site_not_found: 'This store was not found, or it is not one of yours.',
    window_in_future: 'That time is in the future.',
    window_too_long: 'At most 24 hours can be filed at once.',
    invalid_range: 'The end must be after the start.',
    forbidden: 'You may not do this.',
    network_error: 'Cannot reach the server. Check the connection and try again.',
    invalid_request: 'Something in the form is not right.',
    invalid_cursor: 'That page no longer exists. Start again from the first page.',
    incident_not_found: 'This incident was not found, or you may not see it.',
  },
  apiErrorOther: (code) => `It could not be done (${code}). Try again in a moment.`,
};
