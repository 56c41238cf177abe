/**
 * The case page (`/incidents/{id}`: synchronized player, timeline, bookmarks, links, hold, history). All under one
 * key, `case`, so that none of its many short names (status, from, to, …) meets another area's.
 */
export type CaseTexts = {
  backToList: string;
  loadFailed: (code: string) => string;
  notFound: string;
  loading: string;
  category: Record<string, string>;
  severity: Record<string, string>;
  status: Record<string, string>;
  severityLabel: string;
  caseWindow: string;
  reporter: string;
  legalHoldOn: string;
  displayZone: (label: string) => string;
  moment: string;
  clockState: Record<'playing' | 'paused' | 'held', string>;
  play: string;
  pause: string;
  back5: string;
  forward5: string;
  frameBack: string;
  frameForward: string;
  prevBookmark: string;
  nextBookmark: string;
  speed: string;
  copyLink: string;
  linkCopied: string;
  linkCopyFailed: string;
  camerasTitle: string;
  showCameras: string;
  noCamerasShown: string;
  noCameras: string;
  tileState: Record<'gap' | 'not-yet' | 'loading' | 'no-footage' | 'failed', string>;
  tileNextFootage: (time: string) => string;
  callsTitle: string;
  noCalls: string;
  callLabel: (caller: string, operator: string, time: string) => string;
  callOutside: string;
  noPlayable: string;
  waveformLabel: string;
  mute: string;
  unmute: string;
  timelineTitle: string;
  timelineLabel: string;
  timelineHelp: string;
  zoom: Record<'case' | 'all', string>;
  zoomLabel: string;
  laneCall: string;
  laneBookmarks: string;
  legend: Record<'footage' | 'at-store' | 'gap' | 'unrecorded' | 'not-yet' | 'call' | 'bookmark', string>;
  problemsTitle: string;
  noProblems: string;
  gapReason: (reason: string | undefined) => string;
  shortcutsTitle: string;
  shortcuts: [keys: string, what: string][];
  bookmarksTitle: string;
  bookmarkNote: string;
  bookmarkNotePlaceholder: string;
  addBookmark: string;
  bookmarkAdded: string;
  noBookmarks: string;
  jump: string;
  remove: string;
  statusTitle: string;
  statusTo: string;
  statusNote: string;
  changeStatus: string;
  noTransitions: string;
  linksTitle: string;
  linkedCalls: string;
  linkedWindows: string;
  unlink: string;
  linkSource: Record<string, string>;
  addCall: string;
  findCalls: string;
  noOtherCalls: string;
  link: string;
  addWindow: string;
  camera: string;
  from: string;
  to: string;
  arrivalState: Record<'complete' | 'awaiting' | 'failed', string>;
  legalHoldTitle: string;
  legalHoldActive: (reason: string, at: string) => string;
  legalHoldInactive: string;
  legalHoldReason: string;
  placeHold: string;
  releaseHold: string;
  historyTitle: string;
  noHistory: string;
  action: (action: string) => string;
  repeatTitle: string;
  noRepeat: string;
  repeatMatch: (site: string, time: string) => string;
  errors: Record<string, string>;
  error: (code: string) => string;
  done: string;
};

const CATEGORY_JA = { verbal_abuse: '暴言', threat: '脅迫', excessive_demand: '過剰要求', prolonged_detention: '長時間拘束', violence: '暴力', other: 'その他' };
const CATEGORY_EN = { verbal_abuse: 'Verbal abuse', threat: 'Threat', excessive_demand: 'Excessive demand', prolonged_detention: 'Prolonged detention', violence: 'Violence', other: 'Other' };
const GAP_JA: Record<string, string> = { camera_offline: 'カメラ停止', recorder_restart: '録画の再起動', evicted: '容量不足で削除', agent_down: '店舗機器の停止', disk_full: '容量不足で録画停止', other: 'その他' };
const GAP_EN: Record<string, string> = { camera_offline: 'Camera offline', recorder_restart: 'Recorder restart', evicted: 'Evicted for disk space', agent_down: 'Store agent down', disk_full: 'Recording stopped: disk full', other: 'Other' };
const ACTION_JA: Record<string, string> = {
  'incident.filed': '起票',
  'incident.updated': '内容の変更',
  'incident.status_changed': '状態の変更',
  'incident.call_linked': '通話の紐付け',
  'incident.call_unlinked': '通話の紐付け解除',
  'incident.window_linked': 'カメラ映像の紐付け',
  'incident.window_unlinked': 'カメラ映像の紐付け解除',
  'incident.note_added': 'メモの追加',
  'incident.bookmark_added': 'ブックマークの追加',
  'incident.bookmark_removed': 'ブックマークの削除',
  'incident.legal_hold_placed': '訴訟ホールドの設定',
  'incident.legal_hold_released': '訴訟ホールドの解除',
  'incident.preserve_acknowledged': '店舗からの保全完了報告',
};
const ACTION_EN: Record<string, string> = {
  'incident.filed': 'Filed',
  'incident.updated': 'Edited',
  'incident.status_changed': 'Status changed',
  'incident.call_linked': 'Call linked',
  'incident.call_unlinked': 'Call unlinked',
  'incident.window_linked': 'Camera window linked',
  'incident.window_unlinked': 'Camera window unlinked',
  'incident.note_added': 'Note added',
  'incident.bookmark_added': 'Bookmark added',
  'incident.bookmark_removed': 'Bookmark removed',
  'incident.legal_hold_placed': 'Legal hold placed',
  'incident.legal_hold_released': 'Legal hold released',
  'incident.preserve_acknowledged': 'Store confirmed preservation',
};
const ERRORS_JA: Record<string, string> = {
  incident_closed: 'この事案は終結しているため変更できません。',
  legal_hold_active: '訴訟ホールド中のため、証拠の紐付けを解除できません。',
  version_conflict: '他の人がこの事案を更新しました。再読み込みしてからやり直してください。',
  invalid_transition: 'この状態には変更できません。',
  transition_forbidden: 'この状態に変更する権限がありません。',
  reason_required: '理由を入力してください。',
  already_linked: 'すでに紐付いています。',
  bookmark_outside_case: 'この時刻は事案の範囲外です。',
  bookmark_outside_window: 'この時刻はカメラ映像の範囲外です。',
  invalid_range: '終了は開始より後にしてください。',
  window_too_long: '範囲が長すぎます（24 時間まで）。',
  window_in_future: 'まだ来ていない時刻は指定できません。',
  forbidden: 'この操作の権限がありません。',
  network_error: 'サーバーに接続できません。',
};
const ERRORS_EN: Record<string, string> = {
  incident_closed: 'This case is closed and cannot be changed.',
  legal_hold_active: 'The case is under legal hold: its evidence cannot be unlinked.',
  version_conflict: 'Someone else changed this case. Reload and try again.',
  invalid_transition: 'The case cannot move to that status.',
  transition_forbidden: 'You may not move the case to that status.',
  reason_required: 'Please give a reason.',
  already_linked: 'Already linked.',
  bookmark_outside_case: 'That moment is outside the case.',
  bookmark_outside_window: "That moment is outside the camera's window.",
  invalid_range: 'The end must be after the start.',
  window_too_long: 'The window is too long (24 hours at most).',
  window_in_future: 'That time has not come yet.',
  forbidden: 'You may not do this.',
  network_error: 'The server cannot be reached.',
};

export type CaseMessages = { case: CaseTexts };

const texts: { ja: CaseTexts; en: CaseTexts } = {
  ja: {
    backToList: '← 事案一覧',
    loadFailed: (code) => `読み込めませんでした（${code}）。`,
    notFound: 'この事案は見つかりません。',
    loading: '読み込み中…',
    category: CATEGORY_JA,
    severity: { low: '軽微', medium: '中', high: '重大', critical: '緊急' },
    status: { draft: '下書き', open: '受付', under_review: '確認中', referred_to_police: '警察へ相談・通報済み', closed: '終結' },
    severityLabel: '重大度',
    caseWindow: '発生時刻',
    reporter: '起票者',
    legalHoldOn: '訴訟ホールド中',
    displayZone: (label) => `表示時刻: ${label}`,
    moment: '再生中の時刻',
    clockState: { playing: '再生中', paused: '一時停止', held: '読み込み待ち' },
    play: '再生',
    pause: '一時停止',
    back5: '5 秒戻る',
    forward5: '5 秒進む',
    frameBack: '1 コマ戻る',
    frameForward: '1 コマ進む',
    prevBookmark: '前のブックマーク',
    nextBookmark: '次のブックマーク',
    speed: '速度',
    copyLink: 'この時刻へのリンクをコピー',
    linkCopied: 'リンクをコピーしました。',
    linkCopyFailed: 'コピーできませんでした。アドレス欄のURLをお使いください。',
    camerasTitle: 'カメラ',
    showCameras: '表示するカメラ',
    noCamerasShown: '表示するカメラが選ばれていません。',
    noCameras: 'この事案に紐付いたカメラはありません。',
    tileState: { gap: 'この時刻の映像はありません', 'not-yet': 'まだ録画されていない時刻です', loading: '読み込み中…', 'no-footage': 'センターに映像がまだありません', failed: '再生できません' },
    tileNextFootage: (time) => `次の映像: ${time}`,
    callsTitle: '通話',
    noCalls: 'この事案に紐付いた通話はありません。',
    callLabel: (caller, operator, time) => `${time} ${caller} → ${operator}`,
    callOutside: '通話時間外',
    noPlayable: '再生用の音声はまだありません。',
    waveformLabel: '通話の波形（クリックでその時刻へ移動）',
    mute: '消音',
    unmute: '消音を解除',
    timelineTitle: 'タイムライン',
    timelineLabel: '事案のタイムライン',
    timelineHelp: 'クリックまたはドラッグで、すべてのカメラと通話をその時刻へ移動します。',
    zoom: { case: '事案の前後', all: '紐付いた時間すべて' },
    zoomLabel: '表示範囲',
    laneCall: '通話',
    laneBookmarks: 'ブックマーク',
    legend: { footage: '映像あり', 'at-store': '店舗に保管中', gap: '欠落（理由あり）', unrecorded: '欠落（理由の報告なし）', 'not-yet': 'まだ', call: '通話', bookmark: 'ブックマーク' },
    problemsTitle: '映像のない時間',
    noProblems: '紐付いた時間はすべて映像があります。',
    gapReason: (r) => (r === undefined ? '理由の報告なし' : (GAP_JA[r] ?? r)),
    shortcutsTitle: 'キーボード操作',
    shortcuts: [
      ['Space / K', '再生・一時停止'],
      ['← / →', '5 秒戻る・進む'],
      [', / .', '1 コマ戻る・進む'],
      ['[ / ]', '前・次のブックマーク'],
      ['- / +', '速度を下げる・上げる'],
      ['B', 'この時刻にブックマーク'],
    ],
    bookmarksTitle: 'ブックマーク',
    bookmarkNote: 'メモ',
    bookmarkNotePlaceholder: '例: 客が大声を出す',
    addBookmark: 'この時刻にブックマーク',
    bookmarkAdded: 'ブックマークを追加しました。',
    noBookmarks: 'ブックマークはまだありません。',
    jump: '移動',
    remove: '削除',
    statusTitle: '状態',
    statusTo: '変更先',
    statusNote: 'メモ（任意）',
    changeStatus: '状態を変更',
    noTransitions: 'この状態から変更できる操作はありません。',
    linksTitle: '紐付いた証拠',
    linkedCalls: '通話',
    linkedWindows: 'カメラ映像',
    unlink: '紐付け解除',
    linkSource: { filed_from: '起票元', window: '時間帯で自動', manual: '手動', filed: '起票時', },
    addCall: '通話を追加',
    findCalls: '前後の通話を探す',
    noOtherCalls: '追加できる通話はありません。',
    link: '紐付け',
    addWindow: 'カメラ映像を追加',
    camera: 'カメラ',
    from: '開始',
    to: '終了',
    arrivalState: { complete: 'センターに保管済み', awaiting: '店舗から送信待ち', failed: '取得できず' },
    legalHoldTitle: '訴訟ホールド',
    legalHoldActive: (reason, at) => `設定中（${at}）: ${reason}`,
    legalHoldInactive: '設定されていません。',
    legalHoldReason: '理由',
    placeHold: '訴訟ホールドを設定',
    releaseHold: '訴訟ホールドを解除',
    historyTitle: '事案の履歴',
    noHistory: '履歴はありません。',
    action: (a) => ACTION_JA[a] ?? a,
    repeatTitle: '他店舗での同じ番号からの着信',
    noRepeat: '他店舗での同じ番号からの着信はありません。',
    repeatMatch: (site, time) => `${site} ${time}`,
    errors: ERRORS_JA,
    error: (code) => ERRORS_JA[code] ?? `操作できませんでした（${code}）。`,
    done: '変更しました。',
  },
  en: {
    backToList: '← Cases',
    loadFailed: (code) => `Could not load (${code}).`,
    notFound: 'This case was not found.',
    loading: 'Loading…',
    category: CATEGORY_EN,
    severity: { low: 'Low', medium: 'Medium', high: 'High', critical: 'Critical' },
    status: { draft: 'Draft', open: 'Open', under_review: 'Under review', referred_to_police: 'Referred to police', closed: 'Closed' },
    severityLabel: 'Severity',
    caseWindow: 'When',
    reporter: 'Filed by',
    legalHoldOn: 'Legal hold',
    displayZone: (label) => `Times shown in: ${label}`,
    moment: 'Moment',
    clockState: { playing: 'Playing', paused: 'Paused', held: 'Waiting for media' },
    play: 'Play',
    pause: 'Pause',
    back5: 'Back 5 s',
    forward5: 'Forward 5 s',
    frameBack: 'Previous frame',
    frameForward: 'Next frame',
    prevBookmark: 'Previous bookmark',
    nextBookmark: 'Next bookmark',
    speed: 'Speed',
    copyLink: 'Copy a link to this moment',
    linkCopied: 'Link copied.',
    linkCopyFailed: "Could not copy; use the address bar's URL.",
    camerasTitle: 'Cameras',
    showCameras: 'Cameras shown',
    noCamerasShown: 'No camera is selected.',
    noCameras: 'No camera is linked to this case.',
    tileState: { gap: 'No footage at this moment', 'not-yet': 'Not recorded yet', loading: 'Loading…', 'no-footage': 'No footage at the centre yet', failed: 'Cannot play' },
    tileNextFootage: (time) => `Next footage: ${time}`,
    callsTitle: 'Calls',
    noCalls: 'No call is linked to this case.',
    callLabel: (caller, operator, time) => `${time} ${caller} → ${operator}`,
    callOutside: 'Outside the call',
    noPlayable: 'No playable audio yet.',
    waveformLabel: 'Call waveform (click to go to that moment)',
    mute: 'Mute',
    unmute: 'Unmute',
    timelineTitle: 'Timeline',
    timelineLabel: 'Case timeline',
    timelineHelp: 'Click or drag to move every camera and call to that moment.',
    zoom: { case: 'Around the case', all: 'Everything linked' },
    zoomLabel: 'Show',
    laneCall: 'Call',
    laneBookmarks: 'Bookmarks',
    legend: { footage: 'Footage', 'at-store': 'Still at the store', gap: 'Gap (reason reported)', unrecorded: 'Gap (no reason reported)', 'not-yet': 'Not yet', call: 'Call', bookmark: 'Bookmark' },
    problemsTitle: 'Time without footage',
    noProblems: 'Every linked moment has footage.',
    gapReason: (r) => (r === undefined ? 'No reason reported' : (GAP_EN[r] ?? r)),
    shortcutsTitle: 'Keyboard',
    shortcuts: [
      ['Space / K', 'Play or pause'],
      ['← / →', 'Back or forward 5 s'],
      [', / .', 'Previous or next frame'],
      ['[ / ]', 'Previous or next bookmark'],
      ['- / +', 'Slower or faster'],
      ['B', 'Bookmark this moment'],
    ],
    bookmarksTitle: 'Bookmarks',
    bookmarkNote: 'Note',
    bookmarkNotePlaceholder: 'e.g. the customer starts shouting',
    addBookmark: 'Bookmark this moment',
    bookmarkAdded: 'Bookmark added.',
    noBookmarks: 'No bookmarks yet.',
    jump: 'Go',
    remove: 'Remove',
    statusTitle: 'Status',
    statusTo: 'Move to',
    statusNote: 'Note (optional)',
    changeStatus: 'Change status',
    noTransitions: 'No status change is available to you now.',
    linksTitle: 'Linked evidence',
    linkedCalls: 'Calls',
    linkedWindows: 'Camera windows',
    unlink: 'Unlink',
    linkSource: { filed_from: 'Filed from', window: 'By time', manual: 'Manual', filed: 'At filing' },
    addCall: 'Link a call',
    findCalls: 'Find calls around the case',
    noOtherCalls: 'No other call to link.',
    link: 'Link',
    addWindow: 'Link a camera window',
    camera: 'Camera',
    from: 'From',
    to: 'To',
    arrivalState: { complete: 'At the centre', awaiting: 'Awaiting the store', failed: 'Could not be fetched' },
    legalHoldTitle: 'Legal hold',
    legalHoldActive: (reason, at) => `Active (${at}): ${reason}`,
    legalHoldInactive: 'Not placed.',
    legalHoldReason: 'Reason',
    placeHold: 'Place legal hold',
    releaseHold: 'Release legal hold',
    historyTitle: 'Case history',
    noHistory: 'No history.',
    action: (a) => ACTION_EN[a] ?? a,
    repeatTitle: 'The same number at other stores',
    noRepeat: 'No calls from these numbers at other stores.',
    repeatMatch: (site, time) => `${site} ${time}`,
    errors: ERRORS_EN,
    error: (code) => ERRORS_EN[code] ?? `Could not do that (${code}).`,
    done: 'Done.',
  },
};

export const ja: CaseMessages = { case: texts.ja };
export const en: CaseMessages = { case: texts.en };
