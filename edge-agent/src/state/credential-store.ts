/**
 * The agent credential the centre issued at enrollment, kept in `<stateDir>/credential.json` (mode 0600, written
 * atomically). It is the only thing in stateDir; the spool is elsewhere.
 */
import { chmod, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ensureDir, writeFileAtomic } from './atomic-file.ts';

export const StoredCredentialSchema = z.object({
  v: z.literal(1),
  serverUrl: z.string(),
  agentId: z.string(),
  siteId: z.string(),
  siteCode: z.string(),
  timezone: z.string(),
  credential: z.string().min(10),
  enrolledAt: z.string(),
});
export type StoredCredential = z.infer<typeof StoredCredentialSchema>;

export const credentialPath = (stateDir: string) => join(stateDir, 'credential.json');

export async function saveCredential(stateDir: string, cred: Omit<StoredCredential, 'v'>): Promise<string> {
  await ensureDir(stateDir, 0o700);
  await chmod(stateDir, 0o700);
  const path = credentialPath(stateDir);
  await writeFileAtomic(path, `${JSON.stringify({ v: 1, ...cred }, null, 2)}\n`, { mode: 0o600 });
  return path;
}

/** The stored credential, or null when the agent has not been enrolled. A damaged file is an error, not "absent". */
export async function loadCredential(stateDir: string): Promise<StoredCredential | null> {
  let text: string;
  try {
    text = await readFile(credentialPath(stateDir), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  const parsed = StoredCredentialSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`${credentialPath(stateDir)} is damaged: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}
