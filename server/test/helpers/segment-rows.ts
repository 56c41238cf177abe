/** Segment rows for repository tests that need footage metadata without media (linking reads, arrival). */
import type { NewSegment } from '../../src/repositories/segment.repository.ts';

/**
 * A segment row of `cameraId` for [start, end): a distinct fake hash from `n`, with an object key when the media
 * is "at the centre" (`stored`), none for metadata only (an on-demand camera's row).
 */
export function segmentRow(cameraId: string, start: Date, end: Date, n: number, stored: boolean, storedAt: Date | null = stored ? new Date() : null): NewSegment {
  return {
    cameraId,
    start,
    end,
    durationMs: end.getTime() - start.getTime(),
    byteSize: 1000,
    sha256: Buffer.alloc(32, n),
    mediaType: 'video/mp2t',
    codec: { video: 'h264' },
    runId: null,
    clockOffsetMs: 3,
    objectKey: stored ? `segments/k${n}.ts` : null,
    storedAt,
  };
}
