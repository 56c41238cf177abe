/**
 * PBX side of the edge agent: an adapter reads what the store's PBX leaves on disk, correlates it into calls and
 * hands each sealed call to the sink (the agent's outbox). runAgent wires it:
 *
 *   const pbx = createPbxAdapter(config.pbx, { stateDir, sink: outbox, log });
 *   await pbx.start();  …  await pbx.stop();   // on SIGTERM
 *
 * Adapters: `asterisk-files` (asterisk-files.ts, docs/pbx-asterisk-files.md), `drop-folder` (drop-folder.ts,
 * docs/pbx-drop-folder.md) and `freepbx` (freepbx-source.ts, docs/pbx-freepbx.md: the same correlation, rows from
 * FreePBX's MariaDB). Each keeps its own state (ledger, offsets) in `<stateDir>/pbx/<id>/`.
 */
import type { Logger } from '../lib/logger.ts';
import { AsteriskFilesAdapter } from './asterisk-files.ts';
import { pbxConfigSchema, type PbxConfig, type PbxConfigInput } from './config.ts';
import { DropFolderAdapter } from './drop-folder.ts';
import { FreepbxAdapter } from './freepbx-source.ts';
import type { CallSink, Clock } from './payload.ts';

export { pbxConfigSchema, asteriskFilesConfigSchema, dropFolderConfigSchema, freepbxConfigSchema } from './config.ts';
export type { PbxConfig, PbxConfigInput, AsteriskFilesConfig, DropFolderConfig, FreepbxConfig } from './config.ts';
export type { CallPayload, SealedCall, CallSink, Clock } from './payload.ts';

export interface PbxAdapter {
  /** Opens state and starts polling every `pollSeconds`. */
  start(): Promise<void>;
  /** Stops polling after the current pass and closes files. */
  stop(): Promise<void>;
  /** One pass (tests drive this directly with a fake clock). Opens state on first use. */
  tick(): Promise<void>;
}

/** What an adapter is given. `clock`: the agent's wall clock (default Date.now). */
export type AdapterDeps = { stateDir: string; sink: CallSink; log: Logger; clock?: Clock };

/** Builds the configured adapter. `config` may be the raw config section (it is validated here). */
export function createPbxAdapter(config: PbxConfig | PbxConfigInput, deps: AdapterDeps): PbxAdapter {
  const cfg = pbxConfigSchema.parse(config);
  if (cfg.adapter === 'freepbx') return new FreepbxAdapter(cfg, deps);
  return cfg.adapter === 'asterisk-files' ? new AsteriskFilesAdapter(cfg, deps) : new DropFolderAdapter(cfg, deps);
}
