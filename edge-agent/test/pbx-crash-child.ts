/** Child process for pbx-crash.test.ts: runs the asterisk-files adapter with a durable file sink until killed. */
import { open } from 'node:fs/promises';
import { createPbxAdapter, type CallSink, type SealedCall } from '../src/pbx/index.ts';
import { silentLogger } from '../src/lib/logger.ts';
import { contentHash } from '../src/pbx/ledger.ts';

const [configJson, stateDir, sinkFile] = process.argv.slice(2) as [string, string, string];
const fh = await open(sinkFile, 'a');
const sink: CallSink = {
  async callSealed(call: SealedCall) {
    const { callKey, version, files, ...payload } = call;
    await fh.write(`${JSON.stringify({ callKey, version, hash: contentHash(payload), files: Object.keys(files).length, flags: payload.flags, pid: process.pid })}\n`);
    await fh.datasync();
  },
};
const silent = { ...silentLogger, error: (m: string, f?: unknown) => console.error(m, f) };
const pbx = createPbxAdapter(JSON.parse(configJson), { stateDir, sink, log: silent });
await pbx.start();
process.on('SIGTERM', () => {
  void pbx.stop().then(() => process.exit(0));
});
process.stdout.write('ready\n');
