/**
 * ffmpeg and ffprobe, for call audio. Our own small adapter over child processes: the rest of the code never builds
 * an ffmpeg command line. Every run uses TZ=UTC, one thread and a time limit.
 */
import { spawn } from 'node:child_process';
import { runTool } from './run-tool.ts';

export type AudioProbe = {
  formatName: string;
  durationS: number | null;
  audio: { codec: string; sampleRate: number; channels: number; durationS: number | null } | null;
};

export type PlayableSpec = { mediaType: string; codec: string; extension: string };

export interface AudioTools {
  probe(file: string): Promise<AudioProbe>;
  /** Writes a browser-playable copy (AAC-LC in an .m4a/MP4 container, moov first) of the first audio stream. */
  encodePlayable(input: string, output: string, source: { sampleRate: number; channels: number }): Promise<PlayableSpec>;
  /** Decodes the first audio stream to signed 16-bit little-endian PCM, interleaved. */
  decodePcm(input: string, o: { sampleRate: number; channels: number }): AsyncIterable<Buffer>;
}

export class AudioToolError extends Error {
  override name = 'AudioToolError';
}

const num = (v: unknown): number | null => {
  const n = typeof v === 'string' ? Number(v) : typeof v === 'number' ? v : NaN;
  return Number.isFinite(n) ? n : null;
};

export function ffmpegAudioTools(o: { ffmpegPath?: string; ffprobePath?: string; timeoutMs?: number } = {}): AudioTools {
  const ffmpeg = o.ffmpegPath ?? 'ffmpeg';
  const ffprobe = o.ffprobePath ?? 'ffprobe';
  const timeoutMs = o.timeoutMs ?? 10 * 60_000;
  const env = { ...process.env, TZ: 'UTC' };

  const run = (cmd: string, args: string[]): Promise<Buffer> => runTool(cmd, args, { timeoutMs, fail: (message) => new AudioToolError(message) });

  return {
    async probe(file) {
      const out = await run(ffprobe, ['-v', 'error', '-show_entries', 'format=format_name,duration:stream=codec_type,codec_name,sample_rate,channels,duration', '-of', 'json', file]);
      const j = JSON.parse(out.toString()) as { format?: { format_name?: string; duration?: string }; streams?: { codec_type?: string; codec_name?: string; sample_rate?: string; channels?: number; duration?: string }[] };
      const a = (j.streams ?? []).find((s) => s.codec_type === 'audio');
      const sampleRate = num(a?.sample_rate);
      const channels = num(a?.channels);
      return {
        formatName: j.format?.format_name ?? 'unknown',
        durationS: num(j.format?.duration),
        audio: a && sampleRate && channels ? { codec: a.codec_name ?? 'unknown', sampleRate, channels, durationS: num(a.duration) } : null,
      };
    },

    async encodePlayable(input, output, source) {
      // Telephone audio is 8 kHz; AAC and every browser handle 16-48 kHz without surprises.
      const rate = Math.min(48_000, Math.max(16_000, source.sampleRate));
      const channels = Math.min(2, source.channels);
      await run(ffmpeg, [
        '-nostdin', '-hide_banner', '-v', 'error', '-y', '-threads', '1',
        '-i', input,
        '-map', '0:a:0', '-vn', '-sn', '-dn', '-map_metadata', '-1',
        '-c:a', 'aac', '-b:a', `${32 * channels}k`, '-ar', String(rate), '-ac', String(channels),
        '-movflags', '+faststart', '-f', 'ipod', output,
      ]);
      return { mediaType: 'audio/mp4', codec: 'aac', extension: 'm4a' };
    },

    async *decodePcm(input, d) {
      const p = spawn(ffmpeg, ['-nostdin', '-hide_banner', '-v', 'error', '-threads', '1', '-i', input, '-map', '0:a:0', '-f', 's16le', '-acodec', 'pcm_s16le', '-ar', String(d.sampleRate), '-ac', String(d.channels), 'pipe:1'], {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let err = '';
      p.stderr.on('data', (c: Buffer) => {
        err = (err + c.toString()).slice(-4000);
      });
      const exited = new Promise<number | null>((resolve, reject) => {
        p.on('error', (e) => reject(new AudioToolError(`${ffmpeg}: ${e.message}`)));
        p.on('close', (code) => resolve(code));
      });
      const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
      try {
        for await (const chunk of p.stdout) yield chunk as Buffer;
        const code = await exited;
        if (code !== 0) throw new AudioToolError(`${ffmpeg} exited ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`);
      } finally {
        clearTimeout(timer);
        if (p.exitCode === null) p.kill('SIGKILL');
      }
    },
  };
}
