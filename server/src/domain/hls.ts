/** Pure HLS playlist building from segment rows: no I/O, tested on its own. */

export type PlaylistSegment = { id: string; start: Date; end: Date; durationMs: number; runId: string | null };
export type PlaylistGap = { start: Date; end: Date; reason: string };

/** Segments closer than this are treated as contiguous. */
export const CONTIGUITY_TOLERANCE_MS = 500;

/**
 * A VOD playlist for segments (ordered by start). `#EXT-X-PROGRAM-DATE-TIME` on every segment puts each on the
 * wall clock; `#EXT-X-DISCONTINUITY` marks every break: a time gap, or a new recorder run (timestamps restart).
 */
export function buildPlaylist<S extends PlaylistSegment>(segments: readonly S[], uriFor: (s: S) => string, gaps: readonly PlaylistGap[] = []): string {
  const target = Math.max(1, ...segments.map((s) => Math.ceil(s.durationMs / 1000)));
  const lines = ['#EXTM3U', '#EXT-X-VERSION:3', `#EXT-X-TARGETDURATION:${target}`, '#EXT-X-MEDIA-SEQUENCE:0', '#EXT-X-PLAYLIST-TYPE:VOD', '#EXT-X-INDEPENDENT-SEGMENTS'];
  let prev: S | undefined;
  for (const s of segments) {
    if (prev && isBreak(prev, s)) {
      const gap = gaps.find((g) => g.start.getTime() < s.start.getTime() && g.end.getTime() > prev!.end.getTime());
      if (gap) lines.push(`# gap ${gap.start.toISOString()}/${gap.end.toISOString()} ${gap.reason}`);
      lines.push('#EXT-X-DISCONTINUITY');
    }
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${s.start.toISOString()}`);
    lines.push(`#EXTINF:${(s.durationMs / 1000).toFixed(3)},`);
    lines.push(uriFor(s));
    prev = s;
  }
  lines.push('#EXT-X-ENDLIST');
  return `${lines.join('\n')}\n`;
}

export function isBreak(prev: PlaylistSegment, next: PlaylistSegment): boolean {
  if (prev.runId && next.runId && prev.runId !== next.runId) return true;
  return Math.abs(next.start.getTime() - prev.end.getTime()) > CONTIGUITY_TOLERANCE_MS;
}

/**
 * File extension of a segment URI by media type. Players check it: ffmpeg 5.1.9 (Debian 12) refuses HLS segment
 * URLs whose path does not end in a known extension (`allowed_segment_extensions`), so `/segments/17` would not
 * play where `/segments/17.ts` does.
 */
export const SEGMENT_EXTENSION: Readonly<Record<string, string>> = { 'video/mp2t': 'ts', 'video/mp4': 'mp4', 'video/iso.segment': 'm4s' };
