/**
 * Edge agent command line: `npm run agent -- <command> [options]` (docs/agent.md).
 *
 *   enroll --server URL --token TOKEN [--config FILE | --state-dir DIR] [--force]
 *   run [--config FILE]
 *   check-config [--config FILE]
 *   status [--config FILE]
 *   discover [--timeout ms] [--host h[:port]]... [--username u] [--password p] [--json]   (docs/onvif.md)
 *
 * The config file is --config, else $MAMORU_AGENT_CONFIG, else ./agent.yaml. Exit codes: 0 ok, 1 failure,
 * 2 bad usage or invalid configuration.
 */
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { AGENT_NODE_FLAGS } from './lib/node-flags.ts';
import { loadConfig, redactConfig, type AgentConfig } from './config.ts';
import { DISCOVER_USAGE, DiscoverUsageError, parseDiscoverArgs, runDiscover } from './cli/discover.ts';
import { enroll } from './cli/enroll.ts';
import { agentDeps, NotEnrolledError, runAgent } from './agent.ts';
import { spoolStatus } from './cli/status.ts';
import { readAmiStatus } from './pbx/ami.ts';
import { pbxStatus } from './cli/pbx-status.ts';
import { createLogger, type Logger } from './lib/logger.ts';

const USAGE = `usage: agent <command> [options]
  enroll --server URL --token TOKEN [--config FILE | --state-dir DIR] [--force]
  run [--config FILE]
  check-config [--config FILE]
  status [--config FILE]
config file: --config, else $MAMORU_AGENT_CONFIG, else ./agent.yaml`;

type Io = { out: (s: string) => void; err: (s: string) => void; env: NodeJS.ProcessEnv };

async function readConfig(path: string, io: Io): Promise<AgentConfig | null> {
  const r = await loadConfig(path, io.env);
  if (!r.ok) {
    io.err(`invalid configuration (${path}):`);
    for (const e of r.errors) io.err(`  - ${e}`);
    return null;
  }
  return r.config;
}

export async function main(argv: string[], io: Io = { out: (s) => console.log(s), err: (s) => console.error(s), env: process.env }): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'discover') {
    // ONVIF discovery has its own options (edge-agent/src/cli/discover.ts, docs/onvif.md) and needs no config.
    try {
      const opts = parseDiscoverArgs(rest, io.env);
      const reports = await runDiscover(opts, { write: (s: string) => io.out(s.replace(/\n$/, '')) });
      // Checking given addresses is a test the installer can script: it fails when any address failed.
      return opts.hosts && reports.some((r) => r.error) ? 1 : 0;
    } catch (e) {
      if (e instanceof DiscoverUsageError) {
        io.err(`${e.message}\n${DISCOVER_USAGE}`);
        return 2;
      }
      io.err(`discovery failed: ${(e as Error).message}`);
      return 1;
    }
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: rest,
      options: { config: { type: 'string' }, server: { type: 'string' }, token: { type: 'string' }, 'state-dir': { type: 'string' }, force: { type: 'boolean' }, help: { type: 'boolean' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    io.err(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (!command || command === 'help' || command === '--help' || values.help) {
    io.out(USAGE);
    return command ? 0 : 2;
  }
  const configPath = (values.config as string | undefined) ?? io.env.MAMORU_AGENT_CONFIG ?? 'agent.yaml';

  switch (command) {
    case 'check-config': {
      const config = await readConfig(configPath, io);
      if (!config) return 2;
      io.out(JSON.stringify(redactConfig(config), null, 2));
      return 0;
    }

    case 'enroll': {
      const server = values.server as string | undefined;
      const token = values.token as string | undefined;
      if (!token) {
        io.err(`enroll needs --token\n${USAGE}`);
        return 2;
      }
      let stateDir = (values['state-dir'] as string | undefined) ?? io.env.MAMORU_AGENT_STATE_DIR;
      let serverUrl = server ?? io.env.MAMORU_AGENT_SERVER_URL;
      if (values.config || io.env.MAMORU_AGENT_CONFIG || !stateDir) {
        const config = await readConfig(configPath, io);
        if (!config) return 2;
        stateDir = (values['state-dir'] as string | undefined) ?? config.stateDir;
        serverUrl = server ?? config.server.url;
      }
      if (!serverUrl || !/^https?:\/\//.test(serverUrl)) {
        io.err(`enroll needs --server URL (http:// or https://)\n${USAGE}`);
        return 2;
      }
      const r = await enroll({ serverUrl, token, stateDir: stateDir!, force: Boolean(values.force) });
      if (!r.ok) {
        io.err(r.message);
        return 1;
      }
      io.out(JSON.stringify({ enrolled: true, agentId: r.agentId, site: r.siteCode, credential: r.path }));
      return 0;
    }

    case 'status': {
      const config = await readConfig(configPath, io);
      if (!config) return 2;
      // The PBX's state, and its live (AMI) connection: state, since when, and why it is not connected (e.g. a refused login).
      io.out(JSON.stringify({ ...(await spoolStatus(config.spoolDir)), pbx: await pbxStatus(config), ami: await readAmiStatus(config.stateDir) }, null, 2));
      return 0;
    }

    case 'run': {
      const config = await readConfig(configPath, io);
      if (!config) return 2;
      // Node's flags for the agent (lib/node-flags.ts) belong on its command line (`npm run agent` gives them); for a
      // start without them, what can still be set now is (the memory reducer then runs once more, ~30 s in).
      for (const f of AGENT_NODE_FLAGS) if (!process.execArgv.includes(f)) setFlagsFromString(f);
      const log: Logger = createLogger({ level: config.logLevel });
      let agent;
      try {
        agent = await runAgent(config, agentDeps(config, log));
      } catch (e) {
        if (e instanceof NotEnrolledError) {
          io.err(e.message);
          return 1;
        }
        log.error('agent failed to start', { error: e as Error });
        return 1;
      }
      const running = agent;
      return await new Promise<number>((resolve) => {
        let signals = 0;
        const onSignal = (sig: NodeJS.Signals) => {
          signals++;
          if (signals > 1) {
            log.warn('second signal: exiting without waiting', { signal: sig });
            return resolve(1);
          }
          log.info('signal received; shutting down', { signal: sig });
          running.stop().then(
            () => resolve(0),
            (e: unknown) => {
              log.error('shutdown failed', { error: e as Error });
              resolve(1);
            },
          );
        };
        process.on('SIGTERM', onSignal);
        process.on('SIGINT', onSignal);
      });
    }

    default:
      io.err(`unknown command '${command}'\n${USAGE}`);
      return 2;
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('edge-agent/src/main.ts')) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(e);
      process.exit(1);
    },
  );
}
