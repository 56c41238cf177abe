/**
 * The agent → centre call payload (`CallPayloadSchema` of @mamoru/contract, which the centre validates) and the sink
 * the PBX side hands sealed calls to.
 */
import type { CallPayload } from '@mamoru/contract/call-payload';

export type { CallDirection, CallDisposition, CallFlag, NoticeMethod, RecordingRole } from '@mamoru/contract/enums';
export type { CallLeg, CallPayload, RecordingDeclaration as CallRecording } from '@mamoru/contract/call-payload';

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
