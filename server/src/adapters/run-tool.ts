import { spawn } from 'node:child_process';

/**
 * Runs a media tool (ffmpeg, ffprobe) to completion with `TZ=UTC`: resolves its stdout, rejects with `fail(message)`
 * (the tail of stderr) on a non-zero exit, a spawn error or the timeout (SIGKILL). One runner for every media adapter.
 */
export function runTool(cmd: string, args: string[], o: { timeoutMs: number; fail: (message: string) => Error }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env: { ...process.env, TZ: 'UTC' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    const timer = setTimeout(() => p.kill('SIGKILL'), o.timeoutMs);
    p.stdout.on('data', (c: Buffer) => out.push(c));
    p.stderr.on('data', (c: Buffer) => {
      err = (err + c.toString()).slice(-4000);
    });
    p.on('error', (e) => {
      clearTimeout(timer);
      reject(o.fail(`${cmd}: ${e.message}`));
    });
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(Buffer.concat(out));
      else reject(o.fail(`${cmd} exited ${code ?? signal}: ${err.trim().split('\n').slice(-3).join(' | ')}`));
    });
  });
}
