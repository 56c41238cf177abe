/**
 * Runs a TypeScript script in a fresh network namespace (`unshare -n`) whose only interface is a multicast-enabled
 * loopback with a route for 224.0.0.0/4. Multicast tests (WS-Discovery) must run there: on this machine's host network
 * a probe or an IGMP join would leave by eth0. Needs root (CI is root) and util-linux + iproute2.
 *
 * Scripts run this way should call `assertIsolatedNetwork()` before touching the network.
 */
import { spawn, spawnSync } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

const SETUP = 'set -e; ip link set lo up; ip link set lo multicast on; ip route add 224.0.0.0/4 dev lo; exec node --import tsx "$0" "$@"';

/** Why a network namespace cannot be made here, or null when it can. */
export function netnsUnavailableReason(): string | null {
  for (const [cmd, pkg] of [
    ['unshare', 'util-linux'],
    ['ip', 'iproute2'],
  ] as const) {
    if (spawnSync('sh', ['-c', `command -v ${cmd}`]).status !== 0) return `'${cmd}' is missing: apt-get install ${pkg}`;
  }
  if (process.getuid?.() !== 0) return 'creating a network namespace needs root';
  return null;
}

export type NetnsResult = { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; ms: number };

/** Runs `node --import tsx <script> [...args]` inside a new network namespace; kills it after `timeoutMs`. */
export function runInNetns(script: string, args: string[] = [], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<NetnsResult> {
  const why = netnsUnavailableReason();
  if (why) return Promise.reject(new Error(`cannot run ${script} in a network namespace: ${why}`));
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('unshare', ['-n', 'sh', '-c', SETUP, script, ...args], {
      cwd: REPO_ROOT,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** Exits the process (code 3) unless the only network interface is loopback: a guard for scripts run by runInNetns. */
export function assertIsolatedNetwork(): void {
  const names = Object.keys(networkInterfaces());
  if (names.length !== 1 || names[0] !== 'lo') {
    console.error(`refusing to run: not in an isolated network namespace (interfaces: ${names.join(', ')})`);
    process.exit(3);
  }
}
