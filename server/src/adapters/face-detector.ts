/**
 * Face detection for disclosure masking ("blur every face but the requester's"), behind an adapter so the detector can
 * change. The implementation here uses OpenCV's Haar cascade `haarcascade_frontalface_default.xml` from Debian's
 * `opencv-data`, run by Debian's `python3-opencv` (nothing is downloaded at run time). ffmpeg (TZ=UTC) samples frames
 * as grey bytes into the detector's standard input. Where python3, cv2 or the cascade is missing, `detectFaceDetector`
 * answers with the "no detector" implementation, which says so (`available: false`, `reason`) and detects nothing:
 * callers must then ask for regions by hand, and the manifest says that no faces were detected automatically.
 *
 * Haar cascades find frontal faces only (not profiles, not small or dark faces); a person checks the result.
 */
import { spawn } from 'node:child_process';
import { access } from 'node:fs/promises';

/** One face in one sampled frame: time in seconds from the start, box as fractions of the frame. */
export type FaceDetection = { t: number; x: number; y: number; w: number; h: number };

export interface FaceDetector {
  readonly name: string;
  readonly available: boolean;
  /** Why no detector is available (when `available` is false). */
  readonly reason: string | null;
  /** Faces in frames sampled every `everyS` seconds. */
  detect(videoFile: string, o: { everyS: number }): Promise<FaceDetection[]>;
}

export class FaceDetectorError extends Error {
  override name = 'FaceDetectorError';
}

export function noFaceDetector(reason: string): FaceDetector {
  return {
    name: 'none',
    available: false,
    reason,
    async detect() {
      return [];
    },
  };
}

export const DEFAULT_CASCADE = '/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml';

// Reads raw grey frames (w*h bytes each) from stdin; prints one JSON line per frame: [index, [[x,y,w,h], ...]].
const DETECT_PY = `
import sys, json
import numpy as np, cv2
w, h, cascade = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
c = cv2.CascadeClassifier(cascade)
if c.empty():
    sys.stderr.write('cascade not loaded\\n'); sys.exit(3)
n = w * h
i = 0
inp = sys.stdin.buffer
out = sys.stdout
while True:
    b = inp.read(n)
    if len(b) < n: break
    g = cv2.equalizeHist(np.frombuffer(b, np.uint8).reshape(h, w))
    faces = c.detectMultiScale(g, scaleFactor=1.1, minNeighbors=4, minSize=(max(24, h // 30), max(24, h // 30)))
    out.write(json.dumps([i, [[int(v) for v in f] for f in faces]]) + '\\n')
    i += 1
out.flush()
`;

export function opencvFaceDetector(o: { pythonPath?: string; ffmpegPath?: string; ffprobePath?: string; cascade?: string; timeoutMs?: number } = {}): FaceDetector {
  const python = o.pythonPath ?? '/usr/bin/python3';
  const ffmpeg = o.ffmpegPath ?? 'ffmpeg';
  const ffprobe = o.ffprobePath ?? 'ffprobe';
  const cascade = o.cascade ?? DEFAULT_CASCADE;
  const timeoutMs = o.timeoutMs ?? 30 * 60_000;
  const env = { ...process.env, TZ: 'UTC' };

  function collect(cmd: string, args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      const p = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      p.stdout.on('data', (c: Buffer) => (out += c.toString()));
      p.stderr.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-2000)));
      p.on('error', (e) => reject(new FaceDetectorError(`${cmd}: ${e.message}`)));
      p.on('close', (code) => (code === 0 ? resolve(out) : reject(new FaceDetectorError(`${cmd} exited ${code}: ${err.trim()}`))));
    });
  }

  return {
    name: 'opencv-haar-frontalface',
    available: true,
    reason: null,
    async detect(videoFile, { everyS }) {
      if (!(everyS > 0)) throw new FaceDetectorError('everyS must be positive');
      const probe = JSON.parse(await collect(ffprobe, ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'json', videoFile])) as { streams?: { width?: number; height?: number }[] };
      const sw = probe.streams?.[0]?.width ?? 0;
      const sh = probe.streams?.[0]?.height ?? 0;
      if (sw < 2 || sh < 2) throw new FaceDetectorError('no video stream');
      // Detect on at most 960 pixels wide (faster; boxes come back as fractions anyway).
      const w = Math.min(sw, 960) - (Math.min(sw, 960) % 2);
      const h = Math.max(2, Math.round((sh * w) / sw / 2) * 2);
      const ff = spawn(ffmpeg, ['-nostdin', '-hide_banner', '-v', 'error', '-threads', '1', '-i', videoFile, '-map', '0:v:0', '-vf', `fps=${1 / everyS},scale=${w}:${h},format=gray`, '-f', 'rawvideo', 'pipe:1'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      const py = spawn(python, ['-c', DETECT_PY, String(w), String(h), cascade], { env, stdio: ['pipe', 'pipe', 'pipe'] });
      ff.stdout.pipe(py.stdin);
      py.stdin.on('error', () => undefined); // python gone early: its exit code says why
      let out = '';
      let err = '';
      py.stdout.on('data', (c: Buffer) => (out += c.toString()));
      py.stderr.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-2000)));
      ff.stderr.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-2000)));
      const timer = setTimeout(() => {
        ff.kill('SIGKILL');
        py.kill('SIGKILL');
      }, timeoutMs);
      const exit = (p: ReturnType<typeof spawn>, name: string) =>
        new Promise<void>((resolve, reject) => {
          p.on('error', (e) => reject(new FaceDetectorError(`${name}: ${e.message}`)));
          p.on('close', (code) => (code === 0 ? resolve() : reject(new FaceDetectorError(`${name} exited ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`))));
        });
      try {
        await Promise.all([exit(ff, ffmpeg), exit(py, python)]);
      } finally {
        clearTimeout(timer);
      }
      const found: FaceDetection[] = [];
      for (const line of out.split('\n')) {
        if (!line.trim()) continue;
        const [i, boxes] = JSON.parse(line) as [number, [number, number, number, number][]];
        for (const [x, y, bw, bh] of boxes) found.push({ t: i * everyS, x: x / w, y: y / h, w: bw / w, h: bh / h });
      }
      return found;
    },
  };
}

/** The OpenCV detector when python3, cv2 and the cascade are present; otherwise the "no detector" one, saying why. */
export async function detectFaceDetector(o: { pythonPath?: string; cascade?: string; ffmpegPath?: string; ffprobePath?: string } = {}): Promise<FaceDetector> {
  const python = o.pythonPath ?? '/usr/bin/python3';
  const cascade = o.cascade ?? DEFAULT_CASCADE;
  try {
    await access(cascade);
  } catch {
    return noFaceDetector(`no Haar cascade at ${cascade} (Debian package opencv-data)`);
  }
  const ok = await new Promise<string | null>((resolve) => {
    const p = spawn(python, ['-c', 'import cv2, numpy'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (c: Buffer) => (err += c.toString()));
    p.on('error', (e) => resolve(`${python}: ${e.message}`));
    p.on('close', (code) => resolve(code === 0 ? null : `${python} cannot import cv2 (Debian package python3-opencv): ${err.trim().split('\n').pop()}`));
  });
  return ok === null ? opencvFaceDetector(o) : noFaceDetector(ok);
}
