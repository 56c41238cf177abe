import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { agentClient, errorOf, FIXTURE_CALL_KEY, FIXTURE_FILES, fixturePayload, sha256 } from './helpers/calls.ts';
import { startCentre, type TestCentre } from './helpers/centre.ts';

describe('calls: agent API', () => {
  let centre: TestCentre;
  let agent: ReturnType<typeof agentClient>;
  let other: ReturnType<typeof agentClient>;
  let siteId: string;
  let otherSiteId: string;
  let otherCred: string;
  let cred: string;

  before(async () => {
    centre = await startCentre({ maxRecordingBytes: 1024 * 1024 });
    const a = await centre.createSite();
    siteId = a.siteId;
    cred = (await centre.enrollAgent(a.token)).credential;
    agent = agentClient(() => centre.url, cred);
    const b = await centre.createSite();
    otherSiteId = b.siteId;
    otherCred = (await centre.enrollAgent(b.token)).credential;
    other = agentClient(() => centre.url, otherCred);
  });
  after(() => centre.close());

  // The answer comes from Content-Length alone; the client stops sending once it has it (as a careful agent would),
  // so the test does not depend on how fast the server drains a body it refused.
  const oversized = (urlPath: string, headers: Record<string, string> = { 'content-type': 'application/json', 'content-length': String(5 * 1024 * 1024) }) =>
    new Promise<Response>((resolve, reject) => {
      const req = http.request(`${centre.url}${urlPath}`, { method: 'PUT', headers: { authorization: `Bearer ${cred}`, ...headers } });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          req.destroy();
          resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 0, headers: { 'content-type': 'application/json' } }));
        });
      });
      req.on('error', (e) => ((e as { code?: string }).code === 'ECONNRESET' ? undefined : reject(e)));
      req.write(Buffer.alloc(4096, 0x20));
    });
  const count = async (table: 'call' | 'callVersion' | 'callLeg' | 'recording') =>
    Number((await centre.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  const counts = async () => ({ call: await count('call'), callVersion: await count('callVersion'), callLeg: await count('callLeg'), recording: await count('recording'), objects: await centre.objectCount('calls/') });

  test('stores the real fixture call, then its three recordings byte for byte', async () => {
    const r = await agent.putVersion(FIXTURE_CALL_KEY, 1, fixturePayload());
    assert.equal(r.status, 201);
    const v = (await r.json()) as { callId: string; version: number; status: string; missingRecordings: string[] };
    assert.equal(v.status, 'created');
    assert.equal(v.version, 1);
    assert.deepEqual([...v.missingRecordings].sort(), FIXTURE_FILES.map((f) => f.name).sort());

    const call = await centre.db.selectFrom('call').selectAll().where('id', '=', v.callId).executeTakeFirstOrThrow();
    assert.equal(call.siteId, siteId);
    assert.equal(call.callerE164, '+81312345678');
    assert.equal(call.operatorExtension, '201');
    assert.equal(call.startAt.toISOString(), '2026-11-23T18:05:00.000Z');
    assert.equal(call.callerDigits, '0312345678 81312345678');
    const legs = await centre.db.selectFrom('callLeg').select(['raw', 'ordinal', 'sourceOffset']).where('callId', '=', v.callId).orderBy('ordinal').execute();
    assert.equal(legs.length, 3);
    assert.ok(legs[2]!.raw.includes('"Local/201@operator-phone/n,30"'), 'raw CDR line kept verbatim');

    for (const f of FIXTURE_FILES) {
      const up = await agent.putRecording(FIXTURE_CALL_KEY, f.name, f.bytes);
      assert.equal(up.status, 201, f.name);
      const body = (await up.json()) as { recordingId: string; callId: string; derive: { status: string; jobId: string | null } };
      assert.equal(body.callId, v.callId);
      assert.equal(body.derive.status, 'pending');
      assert.ok(body.derive.jobId, 'a derive job was queued');
      const job = await centre.jobs.get(body.derive.jobId!);
      assert.equal(job?.name, 'recording.derive');
      assert.deepEqual(job?.payload, { recordingId: body.recordingId });
      const rec = await centre.services.repos.recordings.findById(body.recordingId);
      const chunks: Buffer[] = [];
      for await (const c of await centre.store.read(rec!.objectKey!)) chunks.push(c as Buffer);
      assert.equal(sha256(Buffer.concat(chunks)), sha256(f.bytes), 'stored bytes are the original');
    }
    assert.equal(await centre.objectCount('calls/'), 3);

    const again = await agent.putVersion(FIXTURE_CALL_KEY, 1, fixturePayload());
    assert.equal(again.status, 200);
    const a2 = (await again.json()) as { callId: string; status: string; missingRecordings: string[] };
    assert.deepEqual(a2, { callId: v.callId, version: 1, status: 'exists', missingRecordings: [] });
  });

  test('sending the same call or recording again creates nothing twice', async () => {
    const before = await counts();
    // Same content with keys in another order is the same version.
    const p = fixturePayload();
    const reordered = Object.fromEntries(Object.entries(p).reverse());
    const r = await agent.putVersion(FIXTURE_CALL_KEY, 1, reordered);
    assert.equal(r.status, 200);
    for (const f of FIXTURE_FILES) {
      const up = await agent.putRecording(FIXTURE_CALL_KEY, f.name, f.bytes);
      assert.equal(up.status, 200);
      assert.equal(((await up.json()) as { status: string }).status, 'exists');
    }
    assert.deepEqual(await counts(), before);
  });

  test('a later version is kept next to the first; the call shows the newest facts', async () => {
    const v2 = fixturePayload({ flags: ['weak_match'], operator: { extension: '202', name: 'Suzuki', source: 'cdr' } });
    const r = await agent.putVersion(FIXTURE_CALL_KEY, 2, v2);
    assert.equal(r.status, 201);
    const { callId } = (await r.json()) as { callId: string };
    const versions = await centre.db.selectFrom('callVersion').select(['version']).where('callId', '=', callId).orderBy('version').execute();
    assert.deepEqual(versions.map((x) => x.version), [1, 2]);
    const call = await centre.db.selectFrom('call').select(['currentVersion', 'operatorExtension', 'flags']).where('id', '=', callId).executeTakeFirstOrThrow();
    assert.deepEqual(call, { currentVersion: 2, operatorExtension: '202', flags: ['weak_match'] });
    // Version 1 arriving late again does not roll the call back.
    assert.equal((await agent.putVersion(FIXTURE_CALL_KEY, 1, fixturePayload())).status, 200);
    assert.equal((await centre.db.selectFrom('call').select('currentVersion').where('id', '=', callId).executeTakeFirstOrThrow()).currentVersion, 2);
    const legs = await centre.db.selectFrom('callLeg').select('id').where('callId', '=', callId).execute();
    assert.equal(legs.length, 6, 'each version keeps its own raw lines');
  });

  test('bad call metadata gets a 4xx with a code and stores nothing', async () => {
    const before = await counts();
    const p = fixturePayload;
    const key = 'main-pbx:1795457999.7';
    const fresh = (over: Parameters<typeof fixturePayload>[0] = {}) => p({ linkedId: '1795457999.7', ...over });
    const cases: [string, () => Promise<Response>, number, string][] = [
      ['same version, other content', () => agent.putVersion(FIXTURE_CALL_KEY, 1, p({ disposition: 'busy' })), 409, 'call_version_conflict'],
      ['no credential', () => agent.putVersion(key, 1, fresh(), { credential: null }), 401, 'agent_credential_missing'],
      ['wrong credential', () => agent.putVersion(key, 1, fresh(), { credential: `${otherCred.split('.')[0]}.wrongwrongwrongwrongwrong` }), 401, 'agent_credential_invalid'],
      ['call key is not pbxId:linkedId', () => agent.putVersion('main-pbx:1795457100.0', 1, fresh()), 400, 'call_key_mismatch'],
      ['version 0', () => agent.putVersion(key, 0, fresh()), 400, 'invalid_request'],
      ['version not a number', () => agent.putVersion(key, 'latest', fresh()), 400, 'invalid_request'],
      ['malformed JSON', () => agent.putVersion(key, 1, null, { raw: '{"pbxId": ' }), 400, 'invalid_request'],
      ['not JSON', () => agent.putVersion(key, 1, null, { raw: 'pbxId=main', contentType: 'text/plain' }), 415, 'unsupported_media_type'],
      ['unknown field', () => agent.putVersion(key, 1, { ...fresh(), files: { a: '/var/spool/x.wav' } }), 400, 'invalid_request'],
      ['missing field', () => agent.putVersion(key, 1, { ...fresh(), notice: undefined }), 400, 'invalid_request'],
      ['bad direction', () => agent.putVersion(key, 1, { ...fresh(), direction: 'sideways' }), 400, 'invalid_request'],
      ['bad E.164', () => agent.putVersion(key, 1, fresh({ caller: { number: '0312345678', name: null, e164: '0312345678' } })), 400, 'invalid_request'],
      ['time without Z', () => agent.putVersion(key, 1, fresh({ times: { ...p().times, startUtc: '2026-11-23 18:05:00' } })), 400, 'invalid_request'],
      ['unknown zone', () => agent.putVersion(key, 1, fresh({ times: { ...p().times, zone: 'Asia/Nowhere' } })), 400, 'invalid_request'],
      ['end before start', () => agent.putVersion(key, 1, fresh({ times: { ...p().times, endUtc: '2026-11-23T18:04:00Z' } })), 400, 'invalid_times'],
      ['recording declared twice', () => agent.putVersion(key, 1, fresh({ recordings: [p().recordings[0]!, p().recordings[0]!] })), 400, 'duplicate_recording'],
      ['recording name with a path', () => agent.putVersion(key, 1, fresh({ recordings: [{ ...p().recordings[0]!, name: '../../etc/passwd' }] })), 400, 'invalid_request'],
      ['recording hash not hex', () => agent.putVersion(key, 1, fresh({ recordings: [{ ...p().recordings[0]!, sha256: 'ABC' }] })), 400, 'invalid_request'],
      ['recording size 0', () => agent.putVersion(key, 1, fresh({ recordings: [{ ...p().recordings[0]!, size: 0 }] })), 400, 'invalid_request'],
      ['raw line too long', () => agent.putVersion(key, 1, fresh({ legs: [{ ...p().legs[0]!, raw: 'x'.repeat(70_000) }] })), 400, 'invalid_request'],
      ['body over 4 MiB', () => oversized(`/api/v1/agent/calls/${encodeURIComponent(key)}/versions/1`), 413, 'body_too_large'],
    ];
    for (const [name, run, status, code] of cases) {
      const r = await run();
      assert.equal(r.status, status, name);
      const err = await errorOf(r);
      assert.equal(err.code, code, `${name}: ${err.message}`);
      assert.ok(err.requestId, `${name}: requestId`);
    }
    assert.deepEqual(await counts(), before);
    assert.equal((await fetch(`${centre.url}/api/v1/health`)).status, 200, 'still serving');
  });

  test('bad recording uploads get a 4xx with a code and store nothing', async () => {
    // A call whose one declared recording has not been sent yet.
    const bytes = randomBytes(200_000);
    const big = randomBytes(1024 * 1024 + 10);
    const key = 'main-pbx:1795458000.1';
    const declared = { name: 'in-0501234567-0312345678-20261123-180640-1795458000.1.wav', role: 'mixed' as const, format: 'wav', sampleRate: 8000, channels: 1, durationS: 12.5, size: bytes.length, sha256: sha256(bytes) };
    const bigDecl = { ...declared, name: 'big.wav', size: big.length, sha256: sha256(big) };
    const r = await agent.putVersion(key, 1, fixturePayload({ linkedId: '1795458000.1', legs: [], recordings: [declared, bigDecl] }));
    assert.equal(r.status, 201);
    const before = await counts();

    const tampered = Buffer.from(bytes);
    tampered[1000] = tampered[1000]! ^ 0xff;
    const cases: [string, () => Promise<Response>, number, string][] = [
      ['tampered bytes', () => agent.putRecording(key, declared.name, tampered, { sha256: declared.sha256 }), 400, 'hash_mismatch'],
      ['header hash is not the declared one', () => agent.putRecording(key, declared.name, tampered), 400, 'hash_mismatch'],
      ['header size is not the declared one', () => agent.putRecording(key, declared.name, bytes, { size: bytes.length + 1 }), 400, 'size_mismatch'],
      ['body shorter than declared', () => agent.putRecording(key, declared.name, bytes.subarray(0, 1000), { sha256: declared.sha256, size: declared.size }), 400, 'size_mismatch'],
      ['undeclared recording', () => agent.putRecording(key, 'other.wav', bytes), 404, 'recording_not_declared'],
      ['unknown call', () => agent.putRecording('main-pbx:42.0', declared.name, bytes), 404, 'call_not_found'],
      ["another site's agent", () => other.putRecording(key, declared.name, bytes), 404, 'call_not_found'],
      ['unsupported content type', () => agent.putRecording(key, declared.name, bytes, { contentType: 'text/html' }), 400, 'unsupported_media_type'],
      ['malformed hash header', () => agent.putRecording(key, declared.name, bytes, { sha256: 'zz' }), 400, 'invalid_request'],
      ['no credential', () => agent.putRecording(key, declared.name, bytes, { credential: null }), 401, 'agent_credential_missing'],
      ['bigger than MAX_RECORDING_BYTES', () => oversized(`/api/v1/agent/calls/${encodeURIComponent(key)}/recordings/big.wav`, { 'content-type': 'audio/wav', 'content-length': String(big.length), 'x-recording-size': String(big.length), 'x-recording-sha256': sha256(big) }), 413, 'recording_too_large'],
    ];
    for (const [name, run, status, code] of cases) {
      const res = await run();
      assert.equal(res.status, status, name);
      const err = await errorOf(res);
      assert.equal(err.code, code, `${name}: ${err.message}`);
    }
    assert.deepEqual(await counts(), before);
    const rows = await centre.db.selectFrom('recording').select(['objectKey', 'deriveStatus']).where('name', '=', declared.name).execute();
    assert.deepEqual(rows, [{ objectKey: null, deriveStatus: 'awaiting_original' }]);

    // The genuine bytes are still accepted afterwards.
    const ok = await agent.putRecording(key, declared.name, bytes);
    assert.equal(ok.status, 201);
    assert.equal(await centre.objectCount('calls/'), before.objects + 1);
  });

  test("an agent acts only for its own site: the same call key elsewhere is another site's call", async () => {
    const ours = await centre.db.selectFrom('call').select(['id', 'currentVersion']).where('siteId', '=', siteId).where('callKey', '=', FIXTURE_CALL_KEY).executeTakeFirstOrThrow();
    const oursVersions = await count('callVersion');
    const r = await other.putVersion(FIXTURE_CALL_KEY, 1, fixturePayload({ disposition: 'busy' }));
    assert.equal(r.status, 201);
    const theirs = (await r.json()) as { callId: string };
    assert.notEqual(theirs.callId, ours.id);
    const t = await centre.db.selectFrom('call').select(['siteId', 'disposition']).where('id', '=', theirs.callId).executeTakeFirstOrThrow();
    assert.deepEqual(t, { siteId: otherSiteId, disposition: 'busy' });
    const o = await centre.db.selectFrom('call').select(['disposition', 'currentVersion']).where('id', '=', ours.id).executeTakeFirstOrThrow();
    assert.deepEqual(o, { disposition: 'answered', currentVersion: ours.currentVersion });
    assert.equal(await count('callVersion'), oursVersions + 1);
    // Its agent cannot upload into our call's recordings either: its own call has none stored and ours is invisible.
    const f = FIXTURE_FILES[0]!;
    const rec = await other.putRecording(FIXTURE_CALL_KEY, f.name, f.bytes);
    assert.equal(rec.status, 201, 'stored for its own call, which declared the same file');
    const oursRecs = await centre.db.selectFrom('recording').select('id').where('callId', '=', ours.id).execute();
    assert.equal(oursRecs.length, 3);
  });

  test('the OpenAPI document describes the call routes', async () => {
    const r = await fetch(`${centre.url}/api/v1/openapi.json`);
    assert.equal(r.status, 200);
    const doc = (await r.json()) as { paths: Record<string, Record<string, unknown>> };
    for (const [p, m] of [
      ['/api/v1/agent/calls/{callKey}/versions/{version}', 'put'],
      ['/api/v1/agent/calls/{callKey}/recordings/{name}', 'put'],
      ['/api/v1/calls', 'get'],
      ['/api/v1/calls/{id}', 'get'],
      ['/api/v1/media/recordings/{id}/{kind}', 'get'],
      ['/api/v1/jobs/{id}', 'get'],
    ] as const) {
      assert.ok(doc.paths[p]?.[m], `${m.toUpperCase()} ${p}`);
    }
  });
});
