/**
 * Pure rules of disclosure masking: which faces to blur (every detected face but the requester's) and how a call
 * recording's role decides what is muted. Times in seconds from the start of the file, boxes as fractions of the frame.
 */
import type { BlurRegion } from '../adapters/media-mask.ts';
import type { FaceDetection } from '../adapters/face-detector.ts';

export type Box = { x: number; y: number; w: number; h: number };
export type TimedBox = Box & { fromS: number; toS: number };

const centreInside = (d: Box, k: Box) => {
  const cx = d.x + d.w / 2;
  const cy = d.y + d.h / 2;
  return cx >= k.x && cx <= k.x + k.w && cy >= k.y && cy <= k.y + k.h;
};

/**
 * Blur regions for detected faces: each detection (sampled every `everyS`) covers the half interval either side of
 * its sample, grown by `margin` of its size on each side; a detection whose centre lies inside one of the requester's
 * boxes at that time is left visible. Overlapping times of the same place are not merged (ffmpeg applies each).
 */
export function faceRegions(detections: FaceDetection[], o: { everyS: number; keep: TimedBox[]; margin?: number; durationS?: number | null }): BlurRegion[] {
  const m = o.margin ?? 0.25;
  const out: BlurRegion[] = [];
  for (const d of detections) {
    if (o.keep.some((k) => d.t >= k.fromS && d.t <= k.toS && centreInside(d, k))) continue;
    const x = Math.max(0, d.x - d.w * m);
    const y = Math.max(0, d.y - d.h * m);
    const fromS = Math.max(0, d.t - o.everyS / 2);
    let toS = d.t + o.everyS / 2;
    if (o.durationS != null) toS = Math.min(toS, o.durationS);
    if (toS <= fromS) continue;
    out.push({ x, y, w: Math.min(1 - x, d.w * (1 + 2 * m)), h: Math.min(1 - y, d.h * (1 + 2 * m)), fromS, toS });
  }
  return out;
}

export type RecordingRole = 'mixed' | 'caller' | 'operator' | 'stereo';

/**
 * What a masked disclosure does with a call recording by its role (channel 0 of a stereo recording is the caller,
 * channel 1 the operator; see docs/api-calls.md):
 * - `caller`: the requester's own side, disclosed as recorded (time ranges muted if asked);
 * - `operator`: the other party only: left out of a masked response;
 * - `stereo`: the operator channel muted;
 * - `mixed`: both voices in one channel: only chosen time ranges can be muted.
 */
export function audioMaskFor(role: RecordingRole, ranges: { fromS: number; toS: number }[]): { omit: true } | { omit: false; muteChannels: number[]; muteRanges: { fromS: number; toS: number }[] } {
  switch (role) {
    case 'operator':
      return { omit: true };
    case 'stereo':
      return { omit: false, muteChannels: [1], muteRanges: ranges };
    case 'caller':
    case 'mixed':
      return { omit: false, muteChannels: [], muteRanges: ranges };
  }
}
