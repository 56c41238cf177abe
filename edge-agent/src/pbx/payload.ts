/** The agent → centre call payload (/work/wt/CALL-CONTRACT.md §1) and the sink the PBX side hands sealed calls to. */

export type CallDirection = 'inbound' | 'outbound' | 'internal' | 'unknown';
export type CallDisposition = 'answered' | 'no_answer' | 'busy' | 'failed' | 'congestion' | 'unknown';
export type RecordingRole = 'mixed' | 'caller' | 'operator' | 'stereo';
export type CallFlag = 'no_recording' | 'no_cdr' | 'weak_match' | 'zone_mismatch' | 'truncated_row';
export type NoticeMethod = 'cdr_variable' | 'userfield' | 'cel' | 'ami' | 'sidecar' | 'config';

export type CallLeg = {
  uniqueId: string | null;
  linkedId: string | null;
  sequence: number | null;
  src: string | null;
  dst: string | null;
  channel: string | null;
  dstChannel: string | null;
  lastApp: string | null;
  disposition: string | null;
  /** The raw CDR line / JSON line / sidecar text (decoded text; without the line terminator). */
  raw: string;
  source: { file: string; offset: number | null };
};

export type CallRecording = {
  name: string;
  role: RecordingRole;
  format: string;
  sampleRate: number | null;
  channels: number | null;
  durationS: number | null;
  size: number;
  sha256: string;
};

export type CallPayload = {
  pbxId: string;
  linkedId: string;
  adapter: 'asterisk-files' | 'drop-folder';
  direction: CallDirection;
  disposition: CallDisposition;
  caller: { number: string | null; name: string | null; e164: string | null };
  called: { number: string | null; e164: string | null };
  operator: { extension: string; name: string | null; source: 'dstchannel' | 'cdr' | 'sidecar' | 'config' } | null;
  times: {
    startUtc: string;
    answerUtc: string | null;
    endUtc: string;
    durationS: number;
    talkS: number | null;
    zone: string;
    zoneSource: 'config' | 'uniqueid' | 'offset_in_data' | 'config_contradicted_by_uniqueid';
    raw: { start: string | null; answer: string | null; end: string | null };
  };
  notice: { played: 'yes' | 'no' | 'unknown'; method: NoticeMethod | null; atUtc: string | null };
  legs: CallLeg[];
  recordings: CallRecording[];
  flags: CallFlag[];
};

export type SealedCall = CallPayload & {
  /** `<pbxId>:<linkedid>` */
  callKey: string;
  version: number;
  /** Recording name → absolute path of the original file (never moved or modified by the agent). */
  files: Record<string, string>;
};

/** Implemented by the agent's outbox: returns once the sealed call is durable. May be called again with the same
 * (callKey, version) and identical content after a crash; must treat that as a no-op. */
export interface CallSink {
  callSealed(call: SealedCall): Promise<void>;
}

export type Clock = { now(): number };
export const systemClock: Clock = { now: () => Date.now() };
