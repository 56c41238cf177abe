/**
 * Evidence packs (issue 11): the fixed purposes, the manifest's shape, and the pure parts of building one (where an
 * MP4 is cut, its subtitles, the checksum list). Nothing here does I/O.
 */

export const PACK_PURPOSES = ['police_request', 'court', 'internal_investigation', 'insurer', 'data_subject_request'] as const;
export type PackPurpose = (typeof PACK_PURPOSES)[number];

export const PURPOSE_LABELS: Record<PackPurpose, { ja: string; en: string }> = {
  police_request: { ja: '警察からの照会（捜査関係事項照会等）', en: 'Police request (written inquiry)' },
  court: { ja: '裁判所・訴訟対応', en: 'Court / litigation' },
  internal_investigation: { ja: '社内調査', en: 'Internal investigation' },
  insurer: { ja: '保険会社への提出', en: 'Insurer' },
  data_subject_request: { ja: '本人からの開示請求', en: "The data subject's own request" },
};

export const PACK_KINDS = ['evidence', 'disclosure'] as const;
export type PackKind = (typeof PACK_KINDS)[number];

export const PACK_STATUSES = ['queued', 'building', 'ready', 'failed'] as const;
export type PackStatus = (typeof PACK_STATUSES)[number];

/** The manifest's format name; a verifier refuses other formats. */
export const MANIFEST_FORMAT = 'mamoru-evidence-pack/1';

/** Fixed names inside the ZIP. */
export const PACK_FILES = {
  manifest: 'manifest.json',
  manifestSig: 'manifest.json.sig',
  sums: 'SHA256SUMS',
  sumsSig: 'SHA256SUMS.sig',
  publicKey: 'public-key.pem',
  readme: 'README.txt',
  verifyPage: 'verify.html',
  reportHtml: 'report/report.html',
  reportPdf: 'report/report.pdf',
} as const;

export type ManifestFileRole =
  | 'original-segment'
  | 'original-recording'
  | 'video-mp4'
  | 'video-subtitles'
  | 'playable-audio'
  | 'report-html'
  | 'report-pdf'
  | 'readme'
  | 'verifier'
  | 'public-key'
  | 'extra';

export type ManifestFile = { path: string; size: number; sha256: string; role: ManifestFileRole; description?: string };

/** One source segment an MP4 was cut from. */
export type ManifestCutSource = {
  path: string;
  segmentId: string;
  start: string;
  end: string;
  /** The SHA-256 the store's agent computed when the segment file closed (the file in the pack has it). */
  edgeSha256: string;
  clockOffsetMs: number | null;
  /** When the segment's metadata (with its hash) reached the centre, and when its media was stored there. */
  receivedAt: string;
  storedAt: string | null;
};

export type ManifestVideo = {
  path: string;
  camera: { id: string; key: string; name: string; place: string | null };
  window: { from: string; to: string };
  /** Wall-clock time (UTC) of the MP4's first video packet, and its site-local form. */
  start: string;
  startSiteLocal: string;
  durationS: number;
  videoCodec: string;
  audio: 'copy' | 'aac' | 'none';
  /** Stream copy: every video packet is a packet of the sources, in order (the verifier checks this). */
  method: 'stream-copy' | 're-encoded';
  videoPackets: number;
  cutFrom: ManifestCutSource[];
  gaps: { from: string; to: string; reason: string }[];
};

export type ManifestRecording = { path: string; recordingId: string; name: string; role: string; size: number; edgeSha256: string; playablePath: string | null };

export type ManifestCall = {
  id: string;
  pbxCallId: string;
  direction: string;
  start: string;
  end: string;
  callerNumber: string | null;
  operator: string | null;
  recordingNotice: string;
  recordings: ManifestRecording[];
};

export type CustodyEvent = { at: string; action: string; actor: string | null; detail: string | null };

export type PackManifest = {
  format: typeof MANIFEST_FORMAT;
  kind: PackKind;
  packId: string;
  builtAt: string;
  builtBy: { id: string; login: string; name: string | null };
  purpose: { code: PackPurpose; ja: string; en: string };
  reference: string;
  legalBasis: string;
  case: { id: string; caseNumber: string; title: string; site: { code: string; name: string; timezone: string }; window: { from: string; to: string } } | null;
  signing: { algorithm: 'Ed25519'; publicKeyFile: string; publicKeyFingerprintSha256: string };
  videos: ManifestVideo[];
  calls: ManifestCall[];
  custody: CustodyEvent[];
  /** Everything in the ZIP except manifest.json, the signatures and SHA256SUMS (SHA256SUMS lists manifest.json too). */
  files: ManifestFile[];
  /** Extra fields of a pack kind (a disclosure's masking). */
  [extra: string]: unknown;
};

// ---- cutting a window out of segments --------------------------------------------------------------------------

/** A stored segment with what ffprobe said about it. `start`/`end` are its wall-clock bounds (ms). */
export type CutSegment = { start: number; end: number; probeStart: number; probeDurationS: number; keyframes?: number[] | undefined };

export type CutPlanInput = { inpoint?: number; outpoint?: number; durationS?: number };

export type CutPlan = {
  /** Per segment, in order. */
  inputs: CutPlanInput[];
  /** Wall clock (ms) of the first video packet of the cut and of its end. */
  startMs: number;
  endMs: number;
};

/**
 * Where to cut: the first segment from its last keyframe at or before the window's start (so the MP4 starts within
 * one keyframe interval of the window), the last segment up to the window's end. Each input's duration in the
 * concat list is the wall-clock time to the next segment's start, so the MP4's clock stays the wall clock across a
 * gap between segments (the player holds the last picture; the report lists the gap).
 */
export function planCut(segments: readonly CutSegment[], window: { from: number; to: number }): CutPlan {
  if (segments.length === 0) throw new Error('planCut: no segments');
  const inputs: CutPlanInput[] = segments.map(() => ({}));
  const first = segments[0]!;
  let startMs = first.start;
  const off = (window.from - first.start) / 1000;
  if (off > 0) {
    const kfs = (first.keyframes ?? []).map((k) => k - first.probeStart).filter((k) => k <= off + 1e-6);
    const k = kfs.length ? Math.max(...kfs) : 0;
    if (k > 0) {
      inputs[0]!.inpoint = first.probeStart + k;
      startMs = first.start + Math.round(k * 1000);
    }
  }
  const lastIdx = segments.length - 1;
  const last = segments[lastIdx]!;
  let endMs = last.end;
  const offEnd = (window.to - last.start) / 1000;
  if (offEnd < last.probeDurationS - 1e-3 && window.to < last.end) {
    inputs[lastIdx]!.outpoint = last.probeStart + offEnd;
    endMs = window.to;
  }
  for (let i = 0; i < lastIdx; i++) {
    const from = i === 0 ? startMs : segments[i]!.start;
    inputs[i]!.durationS = (segments[i + 1]!.start - from) / 1000;
  }
  return { inputs, startMs, endMs };
}

// ---- time in the site's zone -------------------------------------------------------------------------------------

/** `2026-11-24 03:05:00` in the zone, and the zone's offset as `+09:00`. */
const partsFormats = new Map<string, Intl.DateTimeFormat>();
export function localParts(ms: number, timeZone: string): { text: string; offset: string; iso: string } {
  // One formatter per zone (making one costs far more than using it: a pack's subtitles ask once per second).
  let f = partsFormats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23', timeZoneName: 'longOffset' });
    partsFormats.set(timeZone, f);
  }
  const p = Object.fromEntries(f.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  const offset = (p.timeZoneName ?? 'GMT').replace('GMT', '') || '+00:00';
  const text = `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
  return { text, offset, iso: `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}${offset}` };
}

const srtTime = (ms: number) => {
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = Math.floor((ms % 60_000) / 1000);
  const r = ms % 1000;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')},${String(r).padStart(3, '0')}`;
};

/** Soft subtitles: one cue per wall-clock second, showing the site-local time and the zone, cues on whole seconds. */
export function timeSubtitles(startMs: number, endMs: number, timeZone: string): string {
  const cues: string[] = [];
  let n = 1;
  for (let sec = Math.floor(startMs / 1000) * 1000; sec < endMs; sec += 1000) {
    const from = Math.max(0, sec - startMs);
    const to = Math.min(endMs, sec + 1000) - startMs;
    if (to <= from) continue;
    const l = localParts(sec, timeZone);
    cues.push(`${n++}\n${srtTime(from)} --> ${srtTime(to)}\n${l.text} (${timeZone} UTC${l.offset})\n`);
  }
  return cues.join('\n');
}

/** `sha256sum -c` input: two spaces between hash and name (text mode), one line per file. */
export function sha256sumsText(files: readonly { path: string; sha256: string }[]): string {
  return files.map((f) => `${f.sha256}  ${f.path}\n`).join('');
}

/** A file name safe in a ZIP on every system: ASCII letters, digits, `._-`; anything else becomes `_`. */
export function safeName(s: string): string {
  const t = s.normalize('NFKC').replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '');
  return (t || 'file').slice(0, 120);
}

/** UTC as `20261123T180500Z` for file names. */
export const compactUtc = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
