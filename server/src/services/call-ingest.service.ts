import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Clock } from '../adapters/clock.ts';
import type { StorageLockService } from './storage-lock.service.ts';
import type { ObjectStore } from '../adapters/object-store.ts';
import { storeVerified } from './verified-upload.ts';
import type { CallPayload, LiveCall } from '@mamoru/contract';
import { payloadDigest } from '../domain/call-payload.ts';
import type { Principal } from '../domain/principal.ts';
import { badRequest, conflict, notFound, tooLarge } from '../domain/errors.ts';
import type { JobQueue } from '../jobs/queue.ts';
import type { TimeRefusals } from './time-refusal.ts';
import type { CallRepository } from '../repositories/call.repository.ts';
import type { RecordingRepository, RecordingRow } from '../repositories/recording.repository.ts';

type AgentPrincipal = Extract<Principal, { kind: 'agent' }>;

/** Content types an agent may send a recording as; the original's bytes are kept as sent either way. */
export const RECORDING_MEDIA_TYPES = ['audio/wav', 'audio/x-wav', 'audio/wave', 'audio/vnd.wave', 'audio/mpeg', 'audio/ogg', 'audio/gsm', 'audio/basic', 'application/octet-stream'];

export type RecordingUploadMeta = { sha256: string; size: number; mediaType: string };


const at = (field: string, utc: string | null | undefined) => (utc ? [{ field, ms: Date.parse(utc) }] : []);

/** Every time a call version carries (PBX times read by the agent, in the agent's clock's frame), with its field. */
export function callPayloadTimes(p: CallPayload): { field: string; ms: number }[] {
  return [
    ...at('times.startUtc', p.times.startUtc),
    ...at('times.answerUtc', p.times.answerUtc),
    ...at('times.pickupUtc', p.times.pickupUtc),
    ...at('times.endUtc', p.times.endUtc),
    ...at('notice.atUtc', p.notice.atUtc),
    ...p.operators.flatMap((o, i) => [...at(`operators[${i}].rungUtc`, o.rungUtc), ...at(`operators[${i}].answeredUtc`, o.answeredUtc)]),
    ...p.transfers.flatMap((t, i) => at(`transfers[${i}].atUtc`, t.atUtc)),
  ];
}

/** Every time a live view carries. */
export function liveCallTimes(l: LiveCall): { field: string; ms: number }[] {
  return [
    ...at('startUtc', l.startUtc),
    ...at('answerUtc', l.answerUtc),
    ...at('pickupUtc', l.pickupUtc),
    ...at('endUtc', l.endUtc),
    ...at('observedUtc', l.observedUtc),
    ...l.operators.flatMap((o, i) => [...at(`operators[${i}].rungUtc`, o.rungUtc), ...at(`operators[${i}].answeredUtc`, o.answeredUtc)]),
  ];
}

const extensionOf = (name: string) => /\.([A-Za-z0-9]{1,8})$/.exec(name)?.[1]?.toLowerCase() ?? 'bin';

/**
 * Calls from agents: metadata versions (every one kept) and the recordings' original bytes, streamed into S3 while
 * hashed. An agent acts only for its own site; nothing is stored for a bad request.
 */
export function callIngestService(deps: {
  calls: CallRepository;
  recordings: RecordingRepository;
  store: ObjectStore;
  clock: Clock;
  jobs: Pick<JobQueue, 'enqueue'>;
  maxRecordingBytes: number;
  log?: ((line: Record<string, unknown>) => void) | undefined;
  /** Object Lock for stored recordings (retention by policy, legal hold when the call is held). */
  storageLock?: Pick<StorageLockService, 'recordingStored'> | undefined;
  /** Bounds on the times the agent sends (issue 12 item 2): every time in a call, as for footage. */
  timeChecks: Pick<TimeRefusals, 'check'>;
}) {
  const { calls, recordings, store, clock } = deps;

  async function queueDerive(rec: { id: string }) {
    try {
      const jobId = await deps.jobs.enqueue('recording.derive', { recordingId: rec.id });
      await recordings.setDeriveJob(rec.id, jobId, clock.now());
      return jobId;
    } catch (e) {
      // The original is stored; the derivation sweep queues it later. The upload itself succeeded.
      deps.log?.({ level: 'warn', msg: 'could not queue recording.derive', recordingId: rec.id, error: (e as Error).message });
      return null;
    }
  }

  return {
    async putVersion(agent: AgentPrincipal, callKey: string, version: number, payload: CallPayload) {
      if (callKey !== `${payload.pbxId}:${payload.linkedId}`) {
        throw badRequest('call_key_mismatch', `callKey must be '<pbxId>:<linkedId>' of the payload ('${payload.pbxId}:${payload.linkedId}')`);
      }
      if (Date.parse(payload.times.endUtc) < Date.parse(payload.times.startUtc)) throw badRequest('invalid_times', 'times.endUtc is before times.startUtc');
      await deps.timeChecks.check(agent, 'call', callPayloadTimes(payload), null, { callKey, version });
      const names = new Set<string>();
      for (const r of payload.recordings) {
        if (names.has(r.name)) throw badRequest('duplicate_recording', `recording '${r.name}' is declared twice`);
        names.add(r.name);
      }
      const saved = await calls.saveVersion({ siteId: agent.siteId, agentId: agent.agentId, callKey, version, payload, digest: payloadDigest(payload), now: clock.now() });
      if (saved.status === 'conflict') throw conflict('call_version_conflict', `version ${version} of this call is already stored with different content`);
      const declared = await recordings.listForCall(saved.callId);
      const wanted = new Set(payload.recordings.map((r) => `${r.name}\n${r.sha256}`));
      const missingRecordings = declared.filter((r) => wanted.has(`${r.name}\n${r.sha256}`) && !r.objectKey).map((r) => r.name);
      return { callId: saved.callId, version, status: saved.status, missingRecordings };
    },

    /**
     * The live view of a call (the agent's AMI connection), shown until the sealed version from the PBX's files
     * arrives under the same key; after that a live update changes nothing (`superseded`).
     */
    async putLive(agent: AgentPrincipal, callKey: string, live: LiveCall) {
      if (callKey !== `${live.pbxId}:${live.linkedId}`) {
        throw badRequest('call_key_mismatch', `callKey must be '<pbxId>:<linkedId>' of the live call ('${live.pbxId}:${live.linkedId}')`);
      }
      if (live.endUtc !== null && Date.parse(live.endUtc) < Date.parse(live.startUtc)) throw badRequest('invalid_times', 'endUtc is before startUtc');
      if (live.state === 'ended' && live.endUtc === null) throw badRequest('invalid_request', 'an ended live call needs endUtc');
      await deps.timeChecks.check(agent, 'call_live', liveCallTimes(live), null, { callKey, seq: live.seq });
      return calls.saveLive({ siteId: agent.siteId, callKey, live, now: clock.now() });
    },

    /**
     * Streams a recording's original into S3 while hashing it. It must be declared in some version of the call, with
     * this SHA-256 and size; nothing is kept on any mismatch. The same recording again answers `exists`.
     */
    async putRecording(agent: AgentPrincipal, callKey: string, name: string, meta: RecordingUploadMeta, body: Readable, contentLength: number | undefined) {
      const drain = () => body.resume();
      try {
        if (!RECORDING_MEDIA_TYPES.includes(meta.mediaType)) throw badRequest('unsupported_media_type', `content-type ${meta.mediaType} is not accepted for recordings`);
        const call = await calls.findBySiteAndKey(agent.siteId, callKey);
        if (!call) throw notFound('call_not_found', `no call '${callKey}' from this agent's site; send its metadata first`);
        const declarations = await recordings.findDeclared(call.id, name);
        if (declarations.length === 0) throw notFound('recording_not_declared', `recording '${name}' is not declared in any version of this call`);
        const rec = declarations.find((d) => d.sha256 === meta.sha256);
        if (!rec) throw badRequest('hash_mismatch', `x-recording-sha256 differs from the SHA-256 declared for '${name}'`);
        if (rec.size !== meta.size) throw badRequest('size_mismatch', `x-recording-size ${meta.size} differs from the declared size ${rec.size}`);
        if (contentLength !== undefined && contentLength !== meta.size) throw badRequest('size_mismatch', `declared size ${meta.size} but the body is ${contentLength} bytes`);
        if (rec.objectKey) {
          drain();
          return { status: 'exists' as const, callId: call.id, recording: rec };
        }
        if (meta.size > deps.maxRecordingBytes) throw tooLarge('recording_too_large', `recording exceeds ${deps.maxRecordingBytes} bytes`);

        const key = `calls/${agent.siteId}/${call.id}/${rec.id}/original-${randomUUID()}.${extensionOf(name)}`;
        const stored = await storeVerified(store, key, body, { size: meta.size, sha256: meta.sha256, mediaType: meta.mediaType });
        // The object is durably stored (S3 answered the PUT): only now may the row point at it.
        if (!(await recordings.attachOriginal(rec.id, key, meta.mediaType, clock.now()))) {
          await store.remove(key, stored);
          return { status: 'exists' as const, callId: call.id, recording: (await recordings.findById(rec.id))! };
        }
        await deps.storageLock?.recordingStored({ keys: [{ key, versionId: stored.versionId }], callId: call.id });
        await queueDerive(rec);
        return { status: 'created' as const, callId: call.id, recording: (await recordings.findById(rec.id))! };
      } catch (e) {
        drain();
        throw e;
      }
    },
  };
}
export type CallIngestService = ReturnType<typeof callIngestService>;
export type { RecordingRow };
