import type { GapReason, Problem } from './types.ts';

/** The camera list and one camera's player and timeline. */
export type CameraMessages = {
  camerasTitle: string;
  colSite: string;
  colCamera: string;
  colPlace: string;
  colHealth: string;
  colLastSegment: string;
  noCameras: string;
  viewFootage: string;
  backToCameras: string;
  rangeFrom: string;
  rangeTo: string;
  show: string;
  earlier: string;
  later: string;
  rangeHelp: (zone: string) => string;
  displayZone: (label: string) => string;
  currentFrame: string;
  notPlaying: string;
  segmentHash: string;
  segmentClockOffset: (ms: number) => string;
  segmentClockOffsetUnknown: string;
  timelineTitle: string;
  timelineHelp: string;
  legend: Record<'footage' | 'at-store' | 'gap' | 'unrecorded', string>;
  gapsTitle: string;
  noGaps: string;
  gapReason: Record<GapReason, string> & { unreported: string };
  health: Record<string, string>;
  problem: Record<Problem, string>;
  noFootage: string;
  playbackFailed: (detail: string) => string;
  cameraNotFound: string;
  jumpedOverGap: string;
};

export const ja: CameraMessages = {
  camerasTitle: 'カメラ一覧',
  colSite: '店舗',
  colCamera: 'カメラ',
  colPlace: '設置場所',
  colHealth: '状態',
  colLastSegment: '最終録画',
  noCameras: 'カメラはまだ登録されていません。',
  viewFootage: '映像を見る',
  backToCameras: '← カメラ一覧',
  rangeFrom: '開始',
  rangeTo: '終了',
  show: '表示',
  earlier: '← 前の時間帯',
  later: '次の時間帯 →',
  rangeHelp: (zone) => `時刻は店舗の現地時間 (${zone}) で入力します。`,
  displayZone: (label) => `表示時刻: ${label}`,
  currentFrame: '再生中の映像の時刻',
  notPlaying: '—',
  segmentHash: 'この区間の店舗での SHA-256',
  segmentClockOffset: (ms) => `録画時の店舗の時計のずれ: ${ms >= 0 ? '+' : ''}${ms} ms`,
  segmentClockOffsetUnknown: '録画時の店舗の時計のずれ: 不明',
  timelineTitle: 'タイムライン',
  timelineHelp: 'バーをクリックするとその時刻から再生します。',
  legend: { footage: '録画あり', 'at-store': '店舗に保存 (未転送)', gap: '欠落 (理由の報告あり)', unrecorded: '記録なし (理由の報告なし)' },
  gapsTitle: '映像のない時間帯',
  noGaps: 'この時間帯に欠落はありません。',
  gapReason: {
    camera_offline: 'カメラ停止',
    recorder_restart: '録画の再起動',
    evicted: '容量不足のため店舗で削除',
    agent_down: '店舗の録画装置の停止',
    disk_full: '店舗の記憶容量不足で録画停止',
    other: 'その他',
    unreported: '理由の報告なし',
  },
  health: { recording: '録画中', offline: '停止', starting: '起動中', unknown: '不明' },
  problem: {
    missing: '開始と終了を指定してください。',
    invalid: '時刻の形式が正しくありません。',
    order: '終了は開始より後にしてください。',
    too_long: '一度に表示できるのは 7 日間までです。',
  },
  noFootage: 'この時間帯の映像はセンターにありません。',
  playbackFailed: (detail) => `再生できませんでした (${detail})。`,
  cameraNotFound: 'このカメラは見つかりません。',
  jumpedOverGap: '選んだ時刻は欠落中のため、次の録画から再生します。',
};

export const en: CameraMessages = {
  camerasTitle: 'Cameras',
  colSite: 'Store',
  colCamera: 'Camera',
  colPlace: 'Place',
  colHealth: 'Status',
  colLastSegment: 'Last recording',
  noCameras: 'No cameras are registered yet.',
  viewFootage: 'View footage',
  backToCameras: '← Cameras',
  rangeFrom: 'From',
  rangeTo: 'To',
  show: 'Show',
  earlier: '← Earlier',
  later: 'Later →',
  rangeHelp: (zone) => `Times are the store's local time (${zone}).`,
  displayZone: (label) => `Times shown in: ${label}`,
  currentFrame: 'Time of the frame on screen',
  notPlaying: '—',
  segmentHash: "This segment's SHA-256 at the store",
  segmentClockOffset: (ms) => `Store clock offset when recorded: ${ms >= 0 ? '+' : ''}${ms} ms`,
  segmentClockOffsetUnknown: 'Store clock offset when recorded: unknown',
  timelineTitle: 'Timeline',
  timelineHelp: 'Click the bar to play from that time.',
  legend: { footage: 'Recorded', 'at-store': 'Kept at the store (not uploaded)', gap: 'Missing (reason reported)', unrecorded: 'No record (no reason reported)' },
  gapsTitle: 'Stretches without footage',
  noGaps: 'No footage is missing in this range.',
  gapReason: {
    camera_offline: 'Camera offline',
    recorder_restart: 'Recorder restarted',
    evicted: 'Deleted at the store for disk space',
    agent_down: 'Store recorder down',
    disk_full: 'Recording stopped: store disk full',
    other: 'Other',
    unreported: 'No reason reported',
  },
  health: { recording: 'Recording', offline: 'Offline', starting: 'Starting', unknown: 'Unknown' },
  problem: {
    missing: 'Give a start and an end.',
    invalid: 'That time is not in a valid format.',
    order: 'The end must be after the start.',
    too_long: 'At most 7 days can be shown at once.',
  },
  noFootage: 'The centre has no footage in this range.',
  playbackFailed: (detail) => `Could not play (${detail}).`,
  cameraNotFound: 'This camera was not found.',
  jumpedOverGap: 'The chosen time falls in a gap; playing from the next recording.',
};
