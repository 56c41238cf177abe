import type { SearchProblemKey } from './types.ts';

/** Call search and one call. */
export type CallMessages = {
  callsTitle: string;
  numberLabel: string;
  numberHelp: string;
  dateFrom: string;
  dateTo: string;
  siteLabel: string;
  allSites: string;
  operatorLabel: string;
  directionLabel: string;
  dispositionLabel: string;
  noticeLabel: string;
  search: string;
  clearSearch: string;
  searchZone: (zone: string) => string;
  searchZoneMixed: string;
  searchProblem: Record<SearchProblemKey, string>;
  colStart: string;
  colCaller: string;
  colCalled: string;
  colOperator: string;
  colDuration: string;
  colDisposition: string;
  colNotice: string;
  colRecordings: string;
  noCalls: string;
  nextPage: string;
  firstPage: string;
  shownCount: (n: number) => string;
  openCall: string;
  direction: Record<string, string>;
  disposition: Record<string, string>;
  notice: Record<string, string>;
  noticeMethod: Record<string, string>;
  zoneSource: Record<string, string>;
  operatorSource: Record<string, string>;
  flag: Record<string, string>;
  recordingRole: Record<string, string>;
  channel: (index: number, of: number, role: string) => string;
  deriveStatus: Record<string, string>;
  backToCalls: string;
  callNotFound: string;
  callTitle: (who: string) => string;
  anonymous: string;
  factsTitle: string;
  caller: string;
  asGiven: string;
  e164: string;
  called: string;
  operator: string;
  howKnown: (how: string) => string;
  timesTitle: string;
  timesZone: (label: string) => string;
  timeLabel: Record<'start' | 'answer' | 'pickup' | 'end', string>;
  directionSource: Record<string, string>;
  operatorsTitle: string;
  operatorRung: (ext: string, name: string | null) => string;
  operatorAnswered: (at: string) => string;
  operatorNotAnswered: string;
  operatorTalkTime: string;
  transfersTitle: string;
  transferKind: Record<string, string>;
  transferLine: (kind: string, by: string | null, to: string | null) => string;
  /** In the search results: the kind of transfer and to whom. */
  transferredTo: (kind: string, to: string | null) => string;
  noticeEvidenceTitle: string;
  noticeEvidenceSource: Record<string, string>;
  live: Record<string, string>;
  liveHelp: string;
  notAnswered: string;
  pbxRaw: string;
  pbxZone: (zone: string, how: string) => string;
  callDuration: string;
  talkTime: string;
  noticeAt: string;
  flagsTitle: string;
  callKey: string;
  legsTitle: string;
  legsHelp: string;
  legSource: (file: string, offset: number | null) => string;
  recordingsTitle: string;
  noRecordings: string;
  downloadOriginal: string;
  originalNotHere: string;
  noPlayable: string;
  deriveError: (error: string) => string;
  deriveAttempts: (n: number) => string;
  waveformLabel: (role: string) => string;
  waveformFailed: string;
  audioFailed: string;
  versionsTitle: string;
  versionLabel: (n: number) => string;
  currentVersion: string;
  receivedAt: string;
  fileFacts: (format: string, rate: number | null, channels: number | null) => string;
};

export const ja: CallMessages = {
  callsTitle: '通話の検索',
  numberLabel: '電話番号 (一部でも可)',
  numberHelp: '発信者・着信先のどちらでも、0312345678・03-1234・+81 3-1234-5678・5678 のどの形でも探せます (3 桁以上)。',
  dateFrom: '開始日',
  dateTo: '終了日',
  siteLabel: '店舗',
  allSites: 'すべての店舗',
  operatorLabel: 'オペレーター (内線番号)',
  directionLabel: '方向',
  dispositionLabel: '結果',
  noticeLabel: '録音告知',
  search: '検索',
  clearSearch: '条件をクリア',
  searchZone: (zone) => `日付は店舗の現地時間 (${zone}) の暦日で、終了日を含みます。`,
  searchZoneMixed: '店舗の時間帯が異なるため、店舗を選ばない場合の日付は UTC の暦日です。',
  searchProblem: {
    number_chars: '電話番号には数字、空白、+ - ( ) . だけを使えます。',
    number_short: '電話番号は 3 桁以上入力してください。',
    date_invalid: '日付の形式が正しくありません。',
    date_order: '終了日は開始日以降にしてください。',
    operator_invalid: '内線番号が長すぎます。',
  },
  colStart: '開始',
  colCaller: '発信者',
  colCalled: '着信先',
  colOperator: 'オペレーター',
  colDuration: '通話時間',
  colDisposition: '結果',
  colNotice: '録音告知',
  colRecordings: '録音',
  noCalls: '条件に合う通話はありません。',
  nextPage: '次のページ (より古い通話) →',
  firstPage: '← 最新の通話に戻る',
  shownCount: (n) => `${n} 件を新しい順に表示`,
  openCall: '詳細',
  direction: { inbound: '着信', outbound: '発信', internal: '内線', unknown: '不明' },
  disposition: { answered: '応答', no_answer: '応答なし', busy: '話し中', failed: '失敗', congestion: '回線混雑', unknown: '不明' },
  notice: { yes: '再生済み', no: '再生なし', unknown: '不明' },
  noticeMethod: {
    cdr_variable: 'PBX の通話記録 (CDR) の変数',
    userfield: 'PBX の通話記録 (CDR) の userfield',
    cel: 'PBX のイベント記録 (CEL)',
    ami: 'PBX の管理インターフェース (AMI) のイベント',
    sidecar: '録音に添えられた記録ファイル',
    config: '店舗の設定による想定 (通話ごとの確認なし)',
  },
  zoneSource: {
    config: '店舗エージェントの設定',
    uniqueid: '設定どおり。Asterisk の uniqueid に含まれる UTC 時刻と照合して確認',
    offset_in_data: 'PBX の記録に含まれる時差',
    config_contradicted_by_uniqueid: '設定が uniqueid の UTC 時刻と食い違ったため、uniqueid に合う時間帯を採用',
  },
  operatorSource: { dstchannel: '接続先チャネル', cdr: '通話記録 (CDR)', sidecar: '記録ファイル', config: '店舗の設定', cel: 'PBX のイベント記録 (CEL)', ami: 'PBX の管理インターフェース (AMI)' },
  flag: {
    no_recording: '録音なし',
    no_cdr: '通話記録 (CDR) なし',
    weak_match: '録音と通話記録の照合があいまい',
    zone_mismatch: 'PBX の時間帯が設定と異なる',
    truncated_row: '通話記録の行が途中で切れている',
    grouped_by_time: '通話 ID がなく、発信者と時刻で通話記録をまとめた',
  },
  recordingRole: { mixed: '混合', caller: '顧客', operator: 'オペレーター', stereo: 'ステレオ' },
  channel: (i, of, role) => (role === 'stereo' && of === 2 ? (i === 0 ? '左: 顧客' : '右: オペレーター') : `チャンネル ${i + 1}`),
  deriveStatus: {
    awaiting_original: '原本の到着待ち',
    pending: '再生用コピーの作成待ち',
    running: '再生用コピーを作成中',
    done: '再生用コピー作成済み',
    failed: '再生用コピーを作成できませんでした',
  },
  backToCalls: '← 通話の検索',
  callNotFound: 'この通話は見つかりません。',
  callTitle: (who) => `通話: ${who}`,
  anonymous: '番号なし',
  factsTitle: '通話の情報',
  caller: '発信者',
  asGiven: 'PBX の記録どおり',
  e164: 'E.164',
  called: '着信番号 (DID)',
  operator: 'オペレーター',
  howKnown: (how) => `根拠: ${how}`,
  timesTitle: '時刻',
  timesZone: (label) => `表示時刻: ${label} (店舗の現地時間)`,
  timeLabel: { start: '開始', answer: 'PBX の応答 (告知・音声案内)', pickup: 'オペレーターの応答', end: '終了' },
  directionSource: { recording_name: '録音ファイル名', channels: '通話のチャネル (外線 / 内線)', context: 'ダイヤルプランのコンテキスト', ami: 'PBX の管理インターフェース (AMI)', sidecar: '記録ファイル', none: '判定できず' },
  operatorsTitle: '呼び出した内線',
  operatorRung: (ext, name) => `${ext}${name ? ` ${name}` : ''}`,
  operatorAnswered: (at) => `応答 ${at}`,
  operatorNotAnswered: '応答なし',
  operatorTalkTime: 'オペレーターとの会話',
  transfersTitle: '転送',
  transferKind: { blind: 'ブラインド転送', attended: '打診転送' },
  transferLine: (kind, by, to) => `${kind}: 内線 ${by ?? '?'} → ${to ?? '?'}`,
  transferredTo: (kind, to) => `${kind} → 内線 ${to ?? '?'}`,
  noticeEvidenceTitle: '告知の根拠となった PBX の記録',
  noticeEvidenceSource: { cdr_custom: 'cdr_custom (JSON)', cdr_csv: 'cdr_csv (Master.csv)', cel: 'CEL', ami: 'AMI', sidecar: '記録ファイル' },
  live: { in_progress: '通話中 (速報)', ended: '終了 (速報・通話記録の到着待ち)' },
  liveHelp: 'PBX の管理インターフェース (AMI) からの速報です。PBX の通話記録が届くと、その内容に置き換わります。',
  notAnswered: '応答なし',
  pbxRaw: 'PBX の記録',
  pbxZone: (zone, how) => `PBX の時刻は ${zone} として読みました (${how})。`,
  callDuration: '通話時間',
  talkTime: '会話時間',
  noticeAt: '告知の時刻',
  flagsTitle: '注意',
  callKey: 'PBX の通話 ID',
  legsTitle: 'PBX の通話記録 (レッグ)',
  legsHelp: '各行を開くと、PBX が書いたままの行と、その記録ファイル上の位置を表示します。',
  legSource: (file, offset) => (offset === null ? file : `${file} (${offset} バイト目)`),
  recordingsTitle: '録音',
  noRecordings: 'この通話の録音はありません。',
  downloadOriginal: '原本をダウンロード',
  originalNotHere: '原本はまだセンターに届いていません。',
  noPlayable: '再生用コピーはまだありません。',
  deriveError: (e) => `エラー: ${e}`,
  deriveAttempts: (n) => `試行 ${n} 回`,
  waveformLabel: (role) => `波形 (${role})`,
  waveformFailed: '波形を読み込めませんでした。',
  audioFailed: '再生できませんでした。リンクの期限が切れた場合は再読み込みしてください。',
  versionsTitle: '受信した版',
  versionLabel: (n) => `第 ${n} 版`,
  currentVersion: '現在の版',
  receivedAt: '受信',
  fileFacts: (f, rate, ch) => [f.toUpperCase(), rate ? `${rate} Hz` : null, ch ? `${ch} ch` : null].filter(Boolean).join(' / '),
};

export const en: CallMessages = {
  callsTitle: 'Search calls',
  numberLabel: 'Phone number (any part)',
  numberHelp: 'Caller or called number, in any form: 0312345678, 03-1234, +81 3-1234-5678 or 5678 (at least 3 digits).',
  dateFrom: 'From date',
  dateTo: 'To date',
  siteLabel: 'Store',
  allSites: 'All stores',
  operatorLabel: 'Operator (extension)',
  directionLabel: 'Direction',
  dispositionLabel: 'Outcome',
  noticeLabel: 'Recording notice',
  search: 'Search',
  clearSearch: 'Clear',
  searchZone: (zone) => `Dates are calendar days in the store's local time (${zone}); the end date is included.`,
  searchZoneMixed: 'Your stores are in different time zones: without a store chosen, dates are UTC days.',
  searchProblem: {
    number_chars: 'A phone number may contain only digits, spaces and + - ( ) .',
    number_short: 'Give at least 3 digits of the phone number.',
    date_invalid: 'That date is not in a valid format.',
    date_order: 'The end date must not be before the start date.',
    operator_invalid: 'That extension is too long.',
  },
  colStart: 'Start',
  colCaller: 'Caller',
  colCalled: 'Called',
  colOperator: 'Operator',
  colDuration: 'Length',
  colDisposition: 'Outcome',
  colNotice: 'Notice',
  colRecordings: 'Recordings',
  noCalls: 'No call matches.',
  nextPage: 'Next page (older calls) →',
  firstPage: '← Back to the newest calls',
  shownCount: (n) => `${n} shown, newest first`,
  openCall: 'Details',
  direction: { inbound: 'Inbound', outbound: 'Outbound', internal: 'Internal', unknown: 'Unknown' },
  disposition: { answered: 'Answered', no_answer: 'No answer', busy: 'Busy', failed: 'Failed', congestion: 'Congestion', unknown: 'Unknown' },
  notice: { yes: 'Played', no: 'Not played', unknown: 'Unknown' },
  noticeMethod: {
    cdr_variable: 'a variable in the PBX call record (CDR)',
    userfield: 'the userfield of the PBX call record (CDR)',
    cel: 'the PBX event log (CEL)',
    ami: 'a PBX management interface (AMI) event',
    sidecar: 'the record file next to the recording',
    config: 'assumed by the store configuration (not checked per call)',
  },
  zoneSource: {
    config: "the store agent's configuration",
    uniqueid: 'as configured, confirmed against the UTC time in the Asterisk uniqueid',
    offset_in_data: 'the UTC offset in the PBX record',
    config_contradicted_by_uniqueid: 'the zone that matches the UTC time in the uniqueid, which contradicted the configuration',
  },
  operatorSource: { dstchannel: 'destination channel', cdr: 'call record (CDR)', sidecar: 'record file', config: 'store configuration', cel: 'PBX event log (CEL)', ami: 'PBX management interface (AMI)' },
  flag: {
    no_recording: 'No recording',
    no_cdr: 'No call record (CDR)',
    weak_match: 'Recording matched to the call record loosely',
    zone_mismatch: "PBX time zone differs from the configuration",
    truncated_row: 'A call record line was cut short',
    grouped_by_time: 'No call id: call records grouped by caller and time',
  },
  recordingRole: { mixed: 'Mixed', caller: 'Customer', operator: 'Operator', stereo: 'Stereo' },
  channel: (i, of, role) => (role === 'stereo' && of === 2 ? (i === 0 ? 'Left: customer' : 'Right: operator') : `Channel ${i + 1}`),
  deriveStatus: {
    awaiting_original: 'Waiting for the original',
    pending: 'Playable copy queued',
    running: 'Making the playable copy',
    done: 'Playable copy ready',
    failed: 'The playable copy could not be made',
  },
  backToCalls: '← Search calls',
  callNotFound: 'This call was not found.',
  callTitle: (who) => `Call: ${who}`,
  anonymous: 'no number',
  factsTitle: 'Call facts',
  caller: 'Caller',
  asGiven: 'as the PBX gave it',
  e164: 'E.164',
  called: 'Called number (DID)',
  operator: 'Operator',
  howKnown: (how) => `from: ${how}`,
  timesTitle: 'Times',
  timesZone: (label) => `Times shown in: ${label} (the store's local time)`,
  timeLabel: { start: 'Start', answer: "PBX answer (notice / IVR)", pickup: 'Operator picked up', end: 'End' },
  directionSource: { recording_name: 'the recording file name', channels: 'the call\'s channels (trunk / extension)', context: 'the dialplan context', ami: 'the PBX management interface (AMI)', sidecar: 'the record file', none: 'could not be decided' },
  operatorsTitle: 'Extensions rung',
  operatorRung: (ext, name) => `${ext}${name ? ` ${name}` : ''}`,
  operatorAnswered: (at) => `picked up ${at}`,
  operatorNotAnswered: 'did not answer',
  operatorTalkTime: 'with the operator',
  transfersTitle: 'Transfers',
  transferKind: { blind: 'Blind transfer', attended: 'Attended transfer' },
  transferLine: (kind, by, to) => `${kind}: extension ${by ?? '?'} → ${to ?? '?'}`,
  transferredTo: (kind, to) => `${kind} → extension ${to ?? '?'}`,
  noticeEvidenceTitle: 'PBX lines the notice status was decided from',
  noticeEvidenceSource: { cdr_custom: 'cdr_custom (JSON)', cdr_csv: 'cdr_csv (Master.csv)', cel: 'CEL', ami: 'AMI', sidecar: 'record file' },
  live: { in_progress: 'In progress (live)', ended: 'Ended (live; the call record is on its way)' },
  liveHelp: "A live report from the PBX management interface (AMI). It is replaced by the PBX's call record when that arrives.",
  notAnswered: 'not answered',
  pbxRaw: 'PBX record',
  pbxZone: (zone, how) => `The PBX times were read as ${zone} (${how}).`,
  callDuration: 'Length',
  talkTime: 'Talk time',
  noticeAt: 'Notice at',
  flagsTitle: 'Warnings',
  callKey: 'PBX call id',
  legsTitle: 'PBX call records (legs)',
  legsHelp: 'Open a row to see the line exactly as the PBX wrote it and where it was in its file.',
  legSource: (file, offset) => (offset === null ? file : `${file} (byte ${offset})`),
  recordingsTitle: 'Recordings',
  noRecordings: 'This call has no recording.',
  downloadOriginal: 'Download the original',
  originalNotHere: 'The original has not reached the centre yet.',
  noPlayable: 'No playable copy yet.',
  deriveError: (e) => `Error: ${e}`,
  deriveAttempts: (n) => `${n} attempt${n === 1 ? '' : 's'}`,
  waveformLabel: (role) => `Waveform (${role})`,
  waveformFailed: 'Could not load the waveform.',
  audioFailed: 'Could not play. If the link expired, reload the page.',
  versionsTitle: 'Versions received',
  versionLabel: (n) => `Version ${n}`,
  currentVersion: 'current',
  receivedAt: 'Received',
  fileFacts: (f, rate, ch) => [f.toUpperCase(), rate ? `${rate} Hz` : null, ch ? `${ch} ch` : null].filter(Boolean).join(' / '),
};
