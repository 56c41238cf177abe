/**
 * The outbox's on-disk item format (one JSON file per item, `<spool>/outbox/items/<id>.json`). Version 1.
 * Every kind shares the envelope (priority, capture time, sequence, hold flag, local files); the payload differs.
 */
import { GAP_REASONS, UPLOAD_MODES } from '@mamoru/contract/enums';
import { createHash } from 'node:crypto';
import { z } from 'zod';

/** Lower sends first: windows a case asked for > calls > continuous footage (and gaps, which travel with it). */
export const PRIORITY = { caseWindow: 0, call: 1, footage: 2 } as const;

const Hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const Iso = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'ISO date');

export const LocalFileSchema = z.object({
  /** Unique within the item: the segment's basename, or the call recording's name. */
  name: z.string().min(1),
  path: z.string().min(1),
  size: z.number().int().nonnegative(),
  sha256: Hex64,
  /**
   * The agent owns this file: it deletes it once the centre acknowledged it and moves it into quarantine on a
   * refusal. Segment files are owned; call recordings are the PBX's originals and never are.
   */
  owned: z.boolean(),
  /** Calls: this file is already acknowledged by the centre (multi-file items progress file by file). */
  sent: z.boolean().default(false),
});
export type LocalFile = z.infer<typeof LocalFileSchema>;

const Envelope = {
  v: z.literal(1),
  id: z.string().regex(/^[A-Za-z0-9_.-]{1,200}$/),
  priority: z.number().int().min(0).max(9),
  /** Capture time: ordering key within a priority ("oldest first"). */
  at: Iso,
  /** Enqueue order, breaks ties. */
  seq: z.number().int().nonnegative(),
  enqueuedAt: Iso,
  /** Held items (a case asked for them) are never evicted for disk space. */
  held: z.boolean().default(false),
  files: z.array(LocalFileSchema).default([]),
  /** Paths to delete if they still exist (left over from an eviction interrupted by a crash). Never evidence. */
  cleanup: z.array(z.string()).default([]),
};

export const SegmentItemSchema = z.object({
  ...Envelope,
  kind: z.literal('segment'),
  /**
   * The camera's upload mode when the segment closed. `on-demand`: only the metadata and hash are sent (at footage
   * priority); the media stays in the local rolling buffer until a case asks for it (`held`), then it is uploaded.
   */
  mode: z.enum(UPLOAD_MODES).default('continuous'),
  /** On-demand: the centre acknowledged the metadata (the segment now waits in the rolling buffer). */
  metaSent: z.boolean().default(false),
  segment: z.object({
    cameraKey: z.string(),
    start: Iso,
    durationMs: z.number().int().nonnegative(),
    size: z.number().int().nonnegative(),
    sha256: Hex64,
    mediaType: z.string(),
    codec: z.record(z.string(), z.unknown()),
    runId: z.string(),
    clockOffsetMs: z.number().nullable(),
  }),
});

export const GapItemSchema = z.object({
  ...Envelope,
  kind: z.literal('gap'),
  gap: z.object({
    cameraKey: z.string(),
    start: Iso,
    end: Iso,
    reason: z.enum(GAP_REASONS),
    detail: z.string().nullable(),
  }),
});

export const CallItemSchema = z.object({
  ...Envelope,
  kind: z.literal('call'),
  call: z.object({
    callKey: z.string().min(1),
    version: z.number().int().positive(),
    /** The call metadata exactly as it is PUT to the centre (`CallPayloadSchema` of @mamoru/contract). */
    payload: z.record(z.string(), z.unknown()),
    /** The metadata PUT was acknowledged; only recordings remain. */
    metaSent: z.boolean().default(false),
  }),
});

export const OutboxItemSchema = z.discriminatedUnion('kind', [SegmentItemSchema, GapItemSchema, CallItemSchema]);
export type OutboxItem = z.infer<typeof OutboxItemSchema>;
export type SegmentItem = z.infer<typeof SegmentItemSchema>;
export type GapItem = z.infer<typeof GapItemSchema>;
export type CallItem = z.infer<typeof CallItemSchema>;
export type ItemKind = OutboxItem['kind'];

/** Deterministic ids: the same segment/gap/call version enqueued twice is one item. */
export const segmentItemId = (cameraKey: string, start: Date) => `seg_${cameraKey}_${start.getTime()}`;
export const gapItemId = (cameraKey: string, start: Date, end: Date, reason: string) => `gap_${cameraKey}_${start.getTime()}_${end.getTime()}_${reason}`;
export const callItemId = (callKey: string, version: number) => `call_${createHash('sha256').update(callKey).digest('hex').slice(0, 24)}_v${version}`;

/** Bytes the item still has to send (or, for a buffered on-demand segment, keeps on disk). */
export const pendingBytes = (item: OutboxItem) => item.files.reduce((n, f) => n + (f.sent ? 0 : f.size), 0);

/**
 * An on-demand segment whose metadata the centre acknowledged and that no case asked for: it waits in the rolling
 * buffer and is not sent. `continuousNow`: the camera's current config says continuous (its media is uploaded).
 */
export const isBuffered = (item: OutboxItem, continuousNow = false) => item.kind === 'segment' && item.mode === 'on-demand' && item.metaSent && !item.held && !continuousNow;

/** The PBX side's hand-over (edge-agent/src/pbx/payload.ts); the outbox implements CallSink. */
export type { CallSink, SealedCall } from '../pbx/payload.ts';
