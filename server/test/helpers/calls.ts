/** The real Asterisk 22 fixture call (server/test/fixtures/asterisk-22) as an agent would send it, and HTTP helpers. */
import type { RecordingRole } from '@mamoru/contract/enums';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CallPayload } from '@mamoru/contract';

const MONITOR = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/asterisk-22/monitor/2026/11/23');
const BASE = 'in-0501234567-0312345678-20261123-180500-1795457100.0';

export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export type FixtureFile = { name: string; path: string; bytes: Buffer; role: RecordingRole };

export const FIXTURE_FILES: FixtureFile[] = [
  { name: `${BASE}.wav`, role: 'mixed' as const },
  { name: `${BASE}-rx.wav`, role: 'caller' as const },
  { name: `${BASE}-tx.wav`, role: 'operator' as const },
].map((f) => {
  const p = path.join(MONITOR, f.name);
  return { ...f, path: p, bytes: readFileSync(p) };
});

/** cdr_csv rows of the call, verbatim (21 columns: newcdrcolumns=yes), in the order Asterisk wrote them. */
const CDR_LINES = [
  `"","0312345678","s","customer-phone","""Yamada Taro"" <0312345678>","Local/s@customer-phone-00000000;2","","Hangup","","2026-11-23 18:05:00","2026-11-23 18:05:00","2026-11-23 18:05:26",26,26,"ANSWERED","DOCUMENTATION","1795457100.1","","","1795457100.0",1`,
  `"","0312345678","201","operator-phone","""Yamada Taro"" <0312345678>","Local/201@operator-phone-00000001;2","","Wait","30","2026-11-23 18:05:05","2026-11-23 18:05:05","2026-11-23 18:05:26",21,21,"ANSWERED","DOCUMENTATION","1795457105.3","","","1795457100.0",3`,
  `"","0312345678","0501234567","from-trunk","""Yamada Taro"" <0312345678>","Local/s@customer-phone-00000000;1","Local/201@operator-phone-00000001;1","Dial","Local/201@operator-phone/n,30","2026-11-23 18:05:00","2026-11-23 18:05:00","2026-11-23 18:05:26",26,26,"ANSWERED","DOCUMENTATION","1795457100.0","","","1795457100.0",0`,
];

function legs(): CallPayload['legs'] {
  let offset = 0;
  const meta = [
    { uniqueId: '1795457100.1', sequence: 1, src: '0312345678', dst: 's', channel: 'Local/s@customer-phone-00000000;2', dstChannel: null, lastApp: 'Hangup' },
    { uniqueId: '1795457105.3', sequence: 3, src: '0312345678', dst: '201', channel: 'Local/201@operator-phone-00000001;2', dstChannel: null, lastApp: 'Wait' },
    { uniqueId: '1795457100.0', sequence: 0, src: '0312345678', dst: '0501234567', channel: 'Local/s@customer-phone-00000000;1', dstChannel: 'Local/201@operator-phone-00000001;1', lastApp: 'Dial' },
  ];
  return CDR_LINES.map((raw, i) => {
    const leg = { ...meta[i]!, linkedId: '1795457100.0', disposition: 'ANSWERED', raw, source: { file: '/var/log/asterisk/cdr-csv/Master.csv', offset } };
    offset += Buffer.byteLength(raw) + 1;
    return leg;
  });
}

export const FIXTURE_CALL_KEY = 'main-pbx:1795457100.0';

export function fixturePayload(over: Partial<CallPayload> = {}): CallPayload {
  return {
    pbxId: 'main-pbx',
    linkedId: '1795457100.0',
    adapter: 'asterisk-files',
    direction: 'inbound',
    directionSource: 'recording_name',
    disposition: 'answered',
    caller: { number: '0312345678', name: 'Yamada Taro', e164: '+81312345678' },
    called: { number: '0501234567', e164: '+81501234567' },
    operator: { extension: '201', name: 'Tanaka', source: 'dstchannel' },
    operators: [],
    transfers: [],
    times: {
      startUtc: '2026-11-23T18:05:00Z',
      answerUtc: '2026-11-23T18:05:00Z',
      endUtc: '2026-11-23T18:05:26Z',
      durationS: 26,
      talkS: 26,
      pickupUtc: null,
      operatorTalkS: null,
      zone: 'UTC',
      zoneSource: 'uniqueid',
      raw: { start: '2026-11-23 18:05:00', answer: '2026-11-23 18:05:00', end: '2026-11-23 18:05:26' },
    },
    notice: { played: 'yes', method: 'cdr_variable', atUtc: '2026-11-23T18:05:00.493Z', evidence: [] },
    legs: legs(),
    recordings: FIXTURE_FILES.map((f) => ({ name: f.name, role: f.role, format: 'wav', sampleRate: 8000, channels: 1, durationS: 26.48, size: f.bytes.length, sha256: sha256(f.bytes) })),
    flags: [],
    ...over,
  };
}

export function agentClient(baseUrl: () => string, credential: string) {
  const auth = (c: string | null | undefined): Record<string, string> => (c === null ? {} : { authorization: `Bearer ${c ?? credential}` });
  return {
    putVersion: (callKey: string, version: number | string, body: unknown, o: { credential?: string | null; contentType?: string; raw?: string } = {}) =>
      fetch(`${baseUrl()}/api/v1/agent/calls/${encodeURIComponent(callKey)}/versions/${version}`, {
        method: 'PUT',
        headers: { ...auth(o.credential), 'content-type': o.contentType ?? 'application/json' },
        body: o.raw ?? JSON.stringify(body),
      }),
    putRecording: (callKey: string, name: string, bytes: Buffer, o: { sha256?: string; size?: number; credential?: string | null; contentType?: string } = {}) =>
      fetch(`${baseUrl()}/api/v1/agent/calls/${encodeURIComponent(callKey)}/recordings/${encodeURIComponent(name)}`, {
        method: 'PUT',
        headers: { ...auth(o.credential), 'content-type': o.contentType ?? 'audio/wav', 'x-recording-sha256': o.sha256 ?? sha256(bytes), 'x-recording-size': String(o.size ?? bytes.length) },
        body: bytes,
      }),
  };
}

export const errorOf = async (r: Response) => ((await r.json()) as { error: { code: string; message: string; requestId: string } }).error;

/**
 * The fixture call moved to [start, end) with no answer, no legs and the first `recordings` of its recordings, as
 * version 1 of `callKey` (`linkedId` names it): a call row for tests of window reads.
 */
export function windowCallPayload(linkedId: string, start: Date, end: Date, recordings = 0): CallPayload {
  const base = fixturePayload();
  return {
    ...base,
    linkedId,
    times: { ...base.times, startUtc: start.toISOString(), answerUtc: null, endUtc: end.toISOString(), durationS: (end.getTime() - start.getTime()) / 1000, talkS: null },
    legs: [],
    recordings: base.recordings.slice(0, recordings),
  };
}
