/**
 * The PBX part of `agent status`: what the configured PBX adapter's source last said about itself (today the freepbx
 * adapter's database connection: `<stateDir>/pbx/<id>/source-status.json`). Read-only; safe while the agent runs.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentConfig } from '../config.ts';

export async function pbxStatus(config: AgentConfig) {
  if (!config.pbx) return null;
  const text = await readFile(join(config.stateDir, 'pbx', config.pbx.id, 'source-status.json'), 'utf8').catch(() => null);
  let source: unknown = null;
  try {
    source = text === null ? null : JSON.parse(text);
  } catch {
    source = { unreadable: true };
  }
  return { id: config.pbx.id, adapter: config.pbx.adapter, source };
}
