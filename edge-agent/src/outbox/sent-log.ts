/**
 * What the centre has acknowledged, per camera, after the outbox deleted the items: the spans of footage whose media
 * arrived (merged, contiguous segments become one span) and the gaps it accepted. Kept for `SENT_KEEP_MS` back from each camera's latest entry in
 * `<spoolDir>/outbox/sent.json` (atomic write on every change).
 *
 * Two readers need it once the local files are gone:
 * - a case window's command (commands/executor.ts) reports footage that already arrived as arrived, not as missing;
 * - the start-up downtime check (recorder/downtime.ts) finds where each camera's footage ended before the agent went
 *   down, even when everything recorded was already sent.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { writeFileAtomic } from '../state/atomic-file.ts';

/** Spans and gaps older than this are forgotten (a case window is at most 7 days; one day of slack). */
export const SENT_KEEP_MS = 8 * 86_400_000;
/** Segments closer than this are one span (keyframe-aligned edges, the centre's contiguity tolerance). */
const JOIN_MS = 500;
const MAX_GAPS_PER_CAMERA = 2000;

export type Span = { start: number; end: number };
export type SentGap = Span & { reason: string };

const FileSchema = z.object({
  v: z.literal(1),
  cameras: z.record(
    z.string(),
    z.object({
      footage: z.array(z.tuple([z.number(), z.number()])),
      gaps: z.array(z.tuple([z.number(), z.number(), z.string()])),
    }),
  ),
});

/** Inserts a span into sorted, disjoint spans, merging what touches it (within JOIN_MS). Pure. */
export function mergeSpan(spans: readonly Span[], s: Span, joinMs = JOIN_MS): Span[] {
  const out: Span[] = [];
  let cur = { ...s };
  let placed = false;
  for (const x of spans) {
    if (x.end + joinMs < cur.start) out.push(x);
    else if (cur.end + joinMs < x.start) {
      if (!placed) {
        out.push(cur);
        placed = true;
      }
      out.push(x);
    } else cur = { start: Math.min(cur.start, x.start), end: Math.max(cur.end, x.end) };
  }
  if (!placed) out.push(cur);
  return out.sort((a, b) => a.start - b.start);
}

type CameraSent = { footage: Span[]; gaps: SentGap[] };

export class SentLog {
  private readonly cams = new Map<string, CameraSent>();

  private constructor(private readonly path: string) {}

  /** Loads the log; a missing or unreadable file starts empty (it is a convenience record, not evidence). */
  static async open(path: string): Promise<SentLog> {
    const log = new SentLog(path);
    const text = await readFile(path, 'utf8').catch(() => null);
    if (text) {
      try {
        const f = FileSchema.parse(JSON.parse(text));
        for (const [k, c] of Object.entries(f.cameras)) {
          log.cams.set(k, { footage: c.footage.map(([start, end]) => ({ start, end })), gaps: c.gaps.map(([start, end, reason]) => ({ start, end, reason })) });
        }
      } catch {
        /* start empty */
      }
    }
    return log;
  }

  private cam(key: string): CameraSent {
    let c = this.cams.get(key);
    if (!c) this.cams.set(key, (c = { footage: [], gaps: [] }));
    return c;
  }

  /** The centre acknowledged a segment's media. Durable when it returns. */
  async footageSent(cameraKey: string, span: Span): Promise<void> {
    const c = this.cam(cameraKey);
    c.footage = mergeSpan(c.footage, span);
    await this.save();
  }

  /** The centre accepted a gap. Durable when it returns. */
  async gapSent(cameraKey: string, gap: SentGap): Promise<void> {
    const c = this.cam(cameraKey);
    if (!c.gaps.some((g) => g.start === gap.start && g.end === gap.end && g.reason === gap.reason)) c.gaps.push(gap);
    await this.save();
  }

  /** Footage of the camera at the centre overlapping [from, to). */
  footage(cameraKey: string, from: number, to: number): Span[] {
    return (this.cams.get(cameraKey)?.footage ?? []).filter((s) => s.end > from && s.start < to);
  }

  /** Gaps of the camera the centre accepted overlapping [from, to). */
  gaps(cameraKey: string, from: number, to: number): SentGap[] {
    return (this.cams.get(cameraKey)?.gaps ?? []).filter((g) => g.end > from && g.start < to);
  }

  /** The end of the latest footage or gap of the camera the centre acknowledged, or null. */
  lastEnd(cameraKey: string): number | null {
    const c = this.cams.get(cameraKey);
    if (!c) return null;
    const ends = [...c.footage.map((s) => s.end), ...c.gaps.map((g) => g.end)];
    return ends.length ? Math.max(...ends) : null;
  }

  private async save() {
    const cameras: z.infer<typeof FileSchema>['cameras'] = {};
    for (const [k, c] of this.cams) {
      // Counted back from the camera's latest entry (not the clock), so its last entry always stays: it is where
      // the camera's record last ended.
      const cutoff = (this.lastEnd(k) ?? 0) - SENT_KEEP_MS;
      c.footage = c.footage.filter((s) => s.end >= cutoff);
      c.gaps = c.gaps.filter((g) => g.end >= cutoff).sort((a, b) => a.start - b.start).slice(-MAX_GAPS_PER_CAMERA);
      cameras[k] = { footage: c.footage.map((s) => [s.start, s.end]), gaps: c.gaps.map((g) => [g.start, g.end, g.reason]) };
    }
    await writeFileAtomic(this.path, `${JSON.stringify({ v: 1, cameras })}\n`);
  }
}
