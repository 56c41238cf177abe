/**
 * Commands from the centre (`AgentCommandSchema` of @mamoru/contract), as they arrive in the heartbeat answer: validated here
 * before anything acts on them. Unknown kinds are ignored with a log line (a newer centre may send kinds this
 * agent does not know); a known kind that fails validation is answered 'failed' when it carries a usable id.
 */
import { z } from 'zod';
import type { AgentCommand } from '@mamoru/contract';
import { CAMERA_KEY } from '../config.ts';

/** Command ids become file names in the spool: only these characters are accepted. */
export const COMMAND_ID = /^[A-Za-z0-9_-]{1,128}$/;
/** A case window longer than this is refused (the centre's playback limit is 7 days too). */
export const MAX_WINDOW_MS = 7 * 86_400_000;

const Iso = z.string().refine((s) => /^\d{4}-\d{2}-\d{2}T/.test(s) && !Number.isNaN(Date.parse(s)), 'an ISO 8601 date-time');

export const PreserveWindowSchema = z
  .object({
    id: z.string().regex(COMMAND_ID),
    kind: z.literal('preserve_window'),
    cameraKey: z.string().regex(CAMERA_KEY),
    from: Iso,
    to: Iso,
    incidentId: z.string().max(200).nullable().default(null),
  })
  .refine((c) => Date.parse(c.to) > Date.parse(c.from), { message: '`to` must be after `from`', path: ['to'] })
  .refine((c) => Date.parse(c.to) - Date.parse(c.from) <= MAX_WINDOW_MS, { message: 'a window of at most 7 days', path: ['to'] });

export type ParsedCommands = {
  commands: AgentCommand[];
  /** Known kind, invalid fields: answered 'failed' (when `id` is usable) so the centre learns why. */
  invalid: { id: string | null; kind: string; problem: string }[];
  /** Kinds this agent does not know: ignored (logged). */
  unknown: { id: string | null; kind: string }[];
};

const idOf = (c: unknown): string | null => {
  const id = (c as { id?: unknown } | null)?.id;
  return typeof id === 'string' && COMMAND_ID.test(id) ? id : null;
};

export function parseCommands(raw: readonly unknown[]): ParsedCommands {
  const out: ParsedCommands = { commands: [], invalid: [], unknown: [] };
  for (const c of raw) {
    const kind = (c as { kind?: unknown } | null)?.kind;
    if (kind !== 'preserve_window') {
      out.unknown.push({ id: idOf(c), kind: typeof kind === 'string' ? kind.slice(0, 64) : typeof kind });
      continue;
    }
    const r = PreserveWindowSchema.safeParse(c);
    if (r.success) out.commands.push(r.data);
    else out.invalid.push({ id: idOf(c), kind, problem: r.error.issues.map((i) => `${i.path.join('.') || '(command)'}: ${i.message}`).join('; ').slice(0, 500) });
  }
  return out;
}
