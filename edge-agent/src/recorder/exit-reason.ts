import type { GapReason } from '../contracts.ts';
import type { SegmenterExit } from '../media/media-tool.ts';

/** stderr phrases that mean the camera could not be reached or sent nothing (ffmpeg 5.1 wording). */
const OFFLINE_PATTERNS = [
  /Connection refused/i,
  /Connection timed out/i,
  /Operation timed out/i,
  /No route to host/i,
  /Network is unreachable/i,
  /Host is unreachable/i,
  /Connection reset by peer/i,
  /Name or service not known|Temporary failure in name resolution|Failed to resolve hostname/i,
  /Server returned \d{3}/i,
  /method (DESCRIBE|SETUP|PLAY|OPTIONS) failed/i,
  /End of file/i,
  /Invalid data found when processing input/i,
  /Could not find codec parameters/i,
];

/** Lines worth quoting in a gap's detail (no banner, no stream listing). */
function relevant(line: string): boolean {
  return !/^\s|^(Input|Output) #|^Stream mapping|^Press \[q\]|^frame=|^video:|^ffmpeg stats|Opening '|Non-monotonous DTS|muxed as a private data stream/.test(line);
}

/** Camera credentials must never leave the agent: strip `user:pass@` and credential query parameters from URLs. */
export function redactCredentials(text: string): string {
  return text
    .replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s'"]*@/gi, '$1***@')
    .replace(/([?&](?:user|username|usr|password|passwd|pass|pwd|auth|token)=)[^&\s'"]*/gi, '$1***');
}

export function stderrExcerpt(tail: readonly string[], maxLen = 300): string | null {
  const lines = tail.filter(relevant).slice(-3);
  if (!lines.length) return null;
  const text = redactCredentials(lines.map((l) => l.replace(/^\[[^\]]+ @ 0x[0-9a-f]+\] /, '')).join(' | '));
  return text.length > maxLen ? `${text.slice(0, maxLen - 1)}…` : text;
}

export type RunEnd = {
  exit: SegmenterExit;
  /** The recorder killed it for producing nothing (watchdog). */
  stalled: boolean;
  /** The recorder restarted it on purpose (e.g. to switch the audio mode). */
  deliberate: string | null;
};

/**
 * Why a run ended, as a gap reason. A dead camera makes ffmpeg exit 0 after its timeout, so a clean exit that we
 * did not ask for means the camera stopped sending. "No space left on device" is `disk_full`. Everything else
 * (crash, signal, muxer error) is a recorder restart.
 */
export function classifyRunEnd(r: RunEnd): { reason: GapReason; detail: string } {
  const excerpt = stderrExcerpt(r.exit.stderrTail);
  const how = r.exit.signal ? `killed by ${r.exit.signal}` : `exit code ${r.exit.code}`;
  if (r.deliberate) return { reason: 'recorder_restart', detail: r.deliberate };
  if (r.stalled) return { reason: 'camera_offline', detail: `no packets from the camera (watchdog)${excerpt ? `: ${excerpt}` : ''}` };
  const text = r.exit.stderrTail.join('\n');
  // The store's disk is full: recording cannot continue until space is freed (its own reason, not a restart).
  if (/No space left on device/i.test(text)) return { reason: 'disk_full', detail: excerpt ?? `ffmpeg ${how}: no space left on device` };
  if (OFFLINE_PATTERNS.some((p) => p.test(text))) return { reason: 'camera_offline', detail: excerpt ?? how };
  if (r.exit.code === 0 && !r.exit.signal) return { reason: 'camera_offline', detail: `stream ended (${how})${excerpt ? `: ${excerpt}` : ''}` };
  return { reason: 'recorder_restart', detail: `ffmpeg ${how}${excerpt ? `: ${excerpt}` : ''}` };
}
