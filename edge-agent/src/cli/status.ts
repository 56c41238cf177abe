/**
 * `status`: a read-only look at the spool (pending items, bytes, quarantine). Safe while the agent runs: it reads
 * files and changes nothing.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isBuffered, OutboxItemSchema, pendingBytes } from '../outbox/items.ts';
import type { QuarantineRecord } from '../outbox/outbox.ts';
import { TEMP_PREFIX } from '../state/atomic-file.ts';

export async function spoolStatus(spoolDir: string) {
  const root = join(spoolDir, 'outbox');
  const byKind: Record<string, number> = {};
  let count = 0;
  let bytes = 0;
  let oldest: string | null = null;
  let unreadable = 0;
  // On-demand segments whose metadata the centre has: kept for the rolling buffer, not waiting to be sent.
  const buffered = { count: 0, bytes: 0 };
  for (const name of await readdir(join(root, 'items')).catch(() => [] as string[])) {
    if (!name.endsWith('.json') || name.startsWith(TEMP_PREFIX)) continue;
    const text = await readFile(join(root, 'items', name), 'utf8').catch(() => null);
    if (text === null) continue; // acknowledged meanwhile
    const parsed = OutboxItemSchema.safeParse((() => { try { return JSON.parse(text); } catch { return null; } })());
    if (!parsed.success) {
      unreadable++;
      continue;
    }
    if (isBuffered(parsed.data)) {
      buffered.count++;
      buffered.bytes += pendingBytes(parsed.data);
      continue;
    }
    count++;
    bytes += pendingBytes(parsed.data);
    byKind[parsed.data.kind] = (byKind[parsed.data.kind] ?? 0) + 1;
    if (oldest === null || parsed.data.at < oldest) oldest = parsed.data.at;
  }
  const quarantine: { id: string; reason: string; at: string; detail: string | null }[] = [];
  for (const name of await readdir(join(root, 'quarantine')).catch(() => [] as string[])) {
    if (!name.endsWith('.json') || name.startsWith(TEMP_PREFIX)) continue;
    try {
      const r = JSON.parse(await readFile(join(root, 'quarantine', name), 'utf8')) as QuarantineRecord;
      quarantine.push({ id: r.id, reason: r.reason, at: r.quarantinedAt, detail: r.detail });
    } catch {
      unreadable++;
    }
  }
  const commands: { id: string; kind: string; result: string | null; ack: string }[] = [];
  for (const name of await readdir(join(spoolDir, 'commands')).catch(() => [] as string[])) {
    if (!name.endsWith('.json') || name.startsWith(TEMP_PREFIX)) continue;
    try {
      const r = JSON.parse(await readFile(join(spoolDir, 'commands', name), 'utf8')) as { id: string; kind: string; result: { status: string } | null; ack: { state: string } };
      commands.push({ id: r.id, kind: r.kind, result: r.result?.status ?? null, ack: r.ack.state });
    } catch {
      unreadable++;
    }
  }
  return { pending: { count, bytes, byKind, oldestCapture: oldest }, buffered, commands, quarantine, unreadable };
}
