/**
 * PBX side of the edge agent. The agent's run command wires it:
 *
 *   const pbx = createPbxAdapter(config.pbx, { stateDir, sink: outbox, log });
 *   await pbx.start();  …  await pbx.stop();   // on SIGTERM
 */
import { AsteriskFilesAdapter, type AdapterDeps, type PbxAdapter } from './asterisk-files.ts';
import { pbxConfigSchema, type PbxConfig, type PbxConfigInput } from './config.ts';
import { DropFolderAdapter } from './drop-folder.ts';

export { pbxConfigSchema, asteriskFilesConfigSchema, dropFolderConfigSchema } from './config.ts';
export type { PbxConfig, PbxConfigInput, AsteriskFilesConfig, DropFolderConfig } from './config.ts';
export type { CallPayload, SealedCall, CallSink, PbxLogger, Clock } from './payload.ts';
export type { PbxAdapter, AdapterDeps } from './asterisk-files.ts';

/** Builds the configured adapter. `config` may be the raw config section (it is validated here). */
export function createPbxAdapter(config: PbxConfig | PbxConfigInput, deps: AdapterDeps): PbxAdapter {
  const cfg = pbxConfigSchema.parse(config);
  return cfg.adapter === 'asterisk-files' ? new AsteriskFilesAdapter(cfg, deps) : new DropFolderAdapter(cfg, deps);
}
