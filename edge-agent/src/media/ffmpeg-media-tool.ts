/**
 * MediaTool over the ffmpeg 5.1 binaries.
 *
 * - The segmenter is spawned directly (child_process): it must run with env TZ=UTC (strftime file names and
 *   `-segment_atclocktime` use local time), and fluent-ffmpeg can neither pass an environment nor a graceful stop
 *   signal through its public API (its `ffmpegProc` is internal).
 * - The segmenter runs under a launcher (`ffmpeg-launcher.sh`, POSIX sh, one thread) that forwards exactly one stop
 *   signal to ffmpeg, so that a SIGKILLed agent stops ffmpeg gracefully (docs/recorder.md, "How ffmpeg is run and
 *   stopped").
 * - ffprobe goes through fluent-ffmpeg (archived upstream, so it stays behind this file).
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ffmpeg from 'fluent-ffmpeg';
import {
  buildSegmenterArgs,
  segmenterInputList,
  parseOpeningLine,
  parseStreamFacts,
  parseStreamLine,
  type InputStreamInfo,
  type MediaTool,
  type ProbeResult,
  type ProbeStream,
  type SegmenterEvents,
  type SegmenterExit,
  type SegmenterOptions,
  type SegmenterProcess,
} from './media-tool.ts';

export type FfmpegMediaToolOptions = {
  ffmpegPath?: string;
  ffprobePath?: string;
  /** Wall clock used to stamp ffmpeg's reports (tests may move it). */
  now?: () => number;
  /** Lines of stderr kept for exit reports. */
  stderrTailLines?: number;
  /**
   * Arm `setpriv --pdeathsig TERM` (util-linux) on the launcher and on ffmpeg when setpriv exists, so that ffmpeg
   * finishes its segment and exits if the agent dies hard. Without it an orphaned ffmpeg keeps recording into the
   * spool with nobody hashing (measured: it ignores the closed pipes). Default: true when /usr/bin/setpriv exists.
   */
  parentDeathSignal?: boolean;
  /**
   * Start each launcher in its own session (and process group), so that a terminal's Ctrl-C or hang-up reaches only
   * the agent. Default: only when the agent has a controlling terminal (an interactive `agent run`). Without one (a
   * service) no terminal signal can come, and a session per recorder costs CPU: the kernel's autogroup scheduling
   * (on by default) makes each session its own scheduling group, and each ffmpeg then wakes for every packet instead
   * of taking them in batches (docs/recorder.md, "How ffmpeg is run and stopped").
   */
  ownSession?: boolean;
};

/** Whether this process has a controlling terminal (opening /dev/tty fails with ENXIO when it has none). */
export function hasControllingTerminal(): boolean {
  try {
    closeSync(openSync('/dev/tty', 'r'));
    return true;
  } catch {
    return false;
  }
}

/** The launcher between the agent and each recorder's ffmpeg (see the script's header). */
export const FFMPEG_LAUNCHER = fileURLToPath(new URL('./ffmpeg-launcher.sh', import.meta.url));
/** The launcher's one line on stderr: ffmpeg's pid. */
const LAUNCHER_PID_LINE = /^mamoru-launcher: pid (\d+)$/;

/**
 * The segmenter's command: `[setpriv --pdeathsig TERM --] /bin/sh LAUNCHER AGENT_PID [setpriv --pdeathsig TERM --]
 * ffmpeg ARGS`. The launcher dies with the agent (its pdeathsig, possibly delivered once per dying agent thread) and
 * forwards one SIGTERM; ffmpeg dies with the launcher (one thread: one signal) if the launcher itself is killed.
 */
export function segmenterCommand(o: { ffmpegPath: string; ffmpegArgs: string[]; setpriv: string | null; agentPid: number }): [string, string[]] {
  const pdeath = (cmd: string[]) => (o.setpriv ? [o.setpriv, '--pdeathsig', 'TERM', '--', ...cmd] : cmd);
  const [cmd, ...args] = pdeath(['/bin/sh', FFMPEG_LAUNCHER, String(o.agentPid), ...pdeath([o.ffmpegPath, ...o.ffmpegArgs])]);
  return [cmd!, args];
}

export function createFfmpegMediaTool(o: FfmpegMediaToolOptions = {}): MediaTool {
  const now = o.now ?? Date.now;
  const tailMax = o.stderrTailLines ?? 40;
  const setpriv = (o.parentDeathSignal ?? true) && existsSync('/usr/bin/setpriv') ? '/usr/bin/setpriv' : null;
  const ownSession = o.ownSession ?? hasControllingTerminal();
  return {
    startSegmenter(opts: SegmenterOptions, ev: SegmenterEvents): SegmenterProcess {
      const ffmpegArgs = buildSegmenterArgs(opts);
      const inputList = segmenterInputList(opts);
      const [cmd, args] = segmenterCommand({ ffmpegPath: o.ffmpegPath ?? 'ffmpeg', ffmpegArgs, setpriv, agentPid: process.pid });
      // Only what ffmpeg needs from the environment (TZ=UTC for its strftime file names), nothing of the agent's.
      const env: NodeJS.ProcessEnv = { TZ: 'UTC', PATH: process.env.PATH ?? '/usr/bin:/bin' };
      if (process.env.LD_LIBRARY_PATH) env.LD_LIBRARY_PATH = process.env.LD_LIBRARY_PATH;
      // With a controlling terminal, detached: the launcher leads its own session and process group, so that the
      // terminal's Ctrl-C or hang-up reaches only the agent (ffmpeg must see one signal). Without one, no terminal
      // signal can come, and the recorders stay in the agent's session: one scheduling group for all of them (ownSession).
      const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe', 'pipe'], detached: ownSession });
      let ffmpegPid: number | undefined;
      // The camera URL goes through a pipe (never the argv every local user can read); ffmpeg reads it at start.
      const input = child.stdio[3] as NodeJS.WritableStream & { on(e: 'error', f: (e: Error) => void): void };
      input.on('error', () => undefined); // ffmpeg died before reading it: its exit reports why
      input.end(inputList);
      const tail: string[] = [];
      // ffmpeg prints its `Input #0` and `Output #0` sections once per run; indented lines belong to the section.
      let section: 'input' | 'output' | null = null;
      let inputStreams: InputStreamInfo[] = [];
      let outputStreams: ProbeStream[] = [];
      let inputReported = false;
      let outputReported = false;
      const reportInput = () => {
        if (inputReported || inputStreams.length === 0) return;
        inputReported = true;
        ev.onInputStreams?.(inputStreams);
      };
      const reportOutput = () => {
        if (outputReported || outputStreams.length === 0) return;
        outputReported = true;
        ev.onOutputStreams?.(outputStreams);
      };
      const endSection = () => {
        if (section === 'input') reportInput();
        if (section === 'output') reportOutput();
        section = null;
      };
      const onStderrLine = (line: string) => {
        if (!line.trim()) return;
        const launched = ffmpegPid === undefined ? LAUNCHER_PID_LINE.exec(line) : null;
        if (launched) {
          ffmpegPid = Number(launched[1]);
          ev.onStarted?.(ffmpegPid);
          return;
        }
        tail.push(line);
        if (tail.length > tailMax) tail.shift();
        ev.onStderrLine?.(line);
        if (section && /^\s/.test(line)) {
          if (section === 'input') {
            const s = parseStreamLine(line);
            if (s) inputStreams.push(s);
          } else {
            const s = parseStreamFacts(line);
            if (s) outputStreams.push(s);
          }
          return;
        }
        endSection();
        if (/^Input #0/.test(line)) {
          section = 'input';
          inputStreams = [];
          return;
        }
        if (/^Output #0/.test(line)) {
          reportInput();
          section = 'output';
          outputStreams = [];
          return;
        }
        const opened = parseOpeningLine(line);
        if (opened && opened !== opts.listPath) {
          reportInput();
          ev.onSegmentOpened?.(opened, now());
        }
      };
      let progressOutUs: number | null = null;
      let progressWall = 0;
      const onStdoutLine = (line: string) => {
        const eq = line.indexOf('=');
        if (eq < 0) return;
        const key = line.slice(0, eq);
        const value = line.slice(eq + 1).trim();
        if (key === 'out_time_us') {
          const v = Number(value);
          progressOutUs = Number.isFinite(v) ? v : null;
          progressWall = now();
        } else if (key === 'progress') {
          if (progressOutUs !== null) ev.onProgress?.(progressOutUs, progressWall);
          progressOutUs = null;
        }
      };
      lineSplitter(child.stderr!, onStderrLine);
      lineSplitter(child.stdout!, onStdoutLine);

      const exited = new Promise<SegmenterExit>((resolve) => {
        let done = false;
        const finish = (code: number | null, signal: NodeJS.Signals | null) => {
          if (done) return;
          done = true;
          resolve({ code, signal, stderrTail: [...tail] });
        };
        // 'close' fires after stdio is drained, so every Opening/progress line has been seen by then.
        child.once('close', (code, signal) => {
          endSection();
          finish(code, signal);
        });
        child.once('error', (err) => {
          tail.push(`spawn error: ${err.message}`);
          finish(null, null);
        });
      });
      const alive = () => child.exitCode === null && child.signalCode === null;
      /**
       * SIGKILL for the launcher and ffmpeg together: their process group when the launcher leads one, else ffmpeg
       * first (so that it does not take the launcher's death as its graceful pdeathsig), then the launcher.
       */
      const killGroup = () => {
        if (!alive() || child.pid === undefined) return;
        if (ownSession) {
          try {
            process.kill(-child.pid, 'SIGKILL');
            return;
          } catch {
            // no such group (any more): kill each below
          }
        }
        if (ffmpegPid !== undefined && parentOf(ffmpegPid) === child.pid) {
          try {
            process.kill(ffmpegPid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
        child.kill('SIGKILL');
      };
      return {
        get pid() {
          return ffmpegPid;
        },
        exited,
        async stop(graceMs = 8000) {
          // To the launcher, which forwards one SIGTERM to ffmpeg (however many stop signals it gets).
          if (alive()) child.kill('SIGINT');
          const timer = setTimeout(killGroup, graceMs);
          try {
            return await exited;
          } finally {
            clearTimeout(timer);
          }
        },
        kill() {
          killGroup();
        },
      };
    },

    probe(file: string): Promise<ProbeResult> {
      return new Promise((resolve, reject) => {
        const cmd = ffmpeg(file);
        if (o.ffprobePath) cmd.setFfprobePath(o.ffprobePath);
        cmd.ffprobe((err: unknown, data: ffmpeg.FfprobeData) => {
          if (err) return reject(err instanceof Error ? err : new Error(String(err)));
          resolve({
            formatName: String(data.format.format_name ?? ''),
            startTimeS: num(data.format.start_time),
            durationS: num(data.format.duration),
            streams: data.streams.map(toProbeStream),
          });
        });
      });
    },
  };
}

function toProbeStream(s: ffmpeg.FfprobeStream): ProbeStream {
  const type = s.codec_type;
  // The typings say number; ffprobe prints a name ("Constrained Baseline", "LC").
  const profile: unknown = s.profile;
  return {
    index: s.index,
    kind: type === 'video' ? 'video' : type === 'audio' ? 'audio' : type === 'data' ? 'data' : 'other',
    codec: s.codec_name ? String(s.codec_name) : null,
    profile: profile !== undefined && profile !== 'unknown' ? String(profile) : null,
    width: num(s.width),
    height: num(s.height),
    fps: rate(s.avg_frame_rate) ?? rate(s.r_frame_rate),
    // 0 means ffprobe saw no audio frame (e.g. a very short segment before the encoder's first packet).
    sampleRate: num(s.sample_rate) || null,
    channels: num(s.channels) || null,
  };
}

/** A process's parent pid, or null when it is gone (so that a pid reused after ffmpeg was reaped is never killed). */
function parentOf(pid: number): number | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}

function num(v: unknown): number | null {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : null;
}

function rate(v: unknown): number | null {
  if (typeof v !== 'string') return null;
  const [a, b] = v.split('/').map(Number);
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0 || a === 0) return null;
  return Math.round((a / b) * 1000) / 1000;
}

/** Calls `onLine` for each line ('\n' or '\r' terminated) of a child's output. */
function lineSplitter(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let buf = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buf += chunk;
    let i: number;
    while ((i = buf.search(/[\r\n]/)) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line) onLine(line);
    }
    if (buf.length > 64 * 1024) buf = buf.slice(-4096);
  });
  stream.on('end', () => {
    if (buf) onLine(buf);
    buf = '';
  });
}
