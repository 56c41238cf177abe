/** `enroll`: exchanges a one-time enrollment token for the agent credential and stores it (0600, atomically). */
import { agentPaths, type EnrollBody, type EnrollResponse } from '@mamoru/contract';
import { hostname } from 'node:os';
import { loadCredential, saveCredential } from '../state/credential-store.ts';
import { createCentreClient } from '../uploader/centre-client.ts';
import { AGENT_VERSION } from './version.ts';

export type EnrollResult = { ok: true; path: string; agentId: string; siteCode: string } | { ok: false; message: string };

export async function enroll(opts: { serverUrl: string; token: string; stateDir: string; force?: boolean; hostname?: string }): Promise<EnrollResult> {
  const existing = await loadCredential(opts.stateDir).catch(() => null);
  if (existing && !opts.force) {
    return { ok: false, message: `already enrolled as agent ${existing.agentId} of site ${existing.siteCode} with ${existing.serverUrl}; pass --force to replace the credential` };
  }
  const serverUrl = opts.serverUrl.replace(/\/+$/, '');
  const client = createCentreClient({ baseUrl: serverUrl, idleTimeoutMs: 30_000, userAgent: `mamoru-agent/${AGENT_VERSION}` });
  try {
    const body: EnrollBody = { token: opts.token, hostname: opts.hostname ?? hostname(), version: AGENT_VERSION };
    const res = await client.request({ method: 'POST', path: agentPaths.enroll(), json: body, auth: false });
    if (res.status !== 201) return { ok: false, message: `the centre refused enrollment: ${res.status} ${res.errorCode ?? ''} ${res.errorMessage ?? ''}`.trim() };
    const b = res.body as EnrollResponse;
    const path = await saveCredential(opts.stateDir, { serverUrl, agentId: b.agentId, siteId: b.siteId, siteCode: b.siteCode, timezone: b.timezone, credential: b.credential, enrolledAt: new Date().toISOString() });
    return { ok: true, path, agentId: b.agentId, siteCode: b.siteCode };
  } catch (e) {
    return { ok: false, message: `could not reach the centre at ${serverUrl}: ${(e as Error).message}` };
  } finally {
    client.close();
  }
}
