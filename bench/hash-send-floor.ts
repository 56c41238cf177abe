/**
 * The least work any agent must do besides ffmpeg: read each segment's bytes, SHA-256 them and send them to the
 * centre over TCP. This process does only that, paced at a given byte rate, with one reused 1 MiB buffer (read once,
 * hashed and sent from the same buffer: less than a real agent, which hashes at close and sends later). bench/cameras.ts
 * runs it at the byte rate the cameras produce and measures its CPU like the agent's, as a lower bound.
 *
 *   node bench/hash-send-floor.ts FILE BYTES_PER_SECOND SECONDS PORT   (plain node: no tsx needed)
 *   node bench/hash-send-floor.ts FILE BYTES_PER_SECOND SECONDS none SEGMENT_SECONDS
 *
 * The second form is the floor of recording only: nothing is sent; at every clock-aligned multiple of
 * SEGMENT_SECONDS (when the recorders' segments close) it reads and SHA-256s what the cameras produced since, in one
 * burst, as an agent hashing its closed segments does.
 */
import { createHash } from 'node:crypto';
import { openSync, readSync, fstatSync } from 'node:fs';
import { connect } from 'node:net';

const [file, rateArg, secondsArg, portArg] = process.argv.slice(2);
const rate = Number(rateArg);
const seconds = Number(secondsArg);
const segmentBytes = 30 * 1024 * 1024; // one hash per "segment" (60 s of a 4 Mb/s camera)
const fd = openSync(file!, 'r');
const size = fstatSync(fd).size;
const buf = Buffer.allocUnsafe(1024 * 1024);
if (portArg === 'none') {
  const periodMs = Number(process.argv[6]) * 1000;
  const t0 = performance.now();
  let hashed = 0;
  let offset = 0;
  while (performance.now() - t0 < seconds * 1000) {
    await new Promise((r) => setTimeout(r, periodMs - (Date.now() % periodMs)));
    const hash = createHash('sha256');
    for (let left = Math.round((rate * periodMs) / 1000); left > 0; ) {
      if (offset + buf.length > size) offset = 0;
      const n = readSync(fd, buf, 0, Math.min(buf.length, left), offset);
      offset += n;
      left -= n;
      hash.update(buf.subarray(0, n));
      hashed += n;
    }
    hash.digest('hex');
  }
  console.log(JSON.stringify({ hashedBytes: hashed, seconds: (performance.now() - t0) / 1000 }));
  process.exit(0);
}
const sock = connect(Number(portArg), '127.0.0.1');
await new Promise<void>((r) => sock.once('connect', () => r()));
const t0 = performance.now();
let sent = 0;
let offset = 0;
let hash = createHash('sha256');
let inSegment = 0;
while (performance.now() - t0 < seconds * 1000) {
  if (sent >= ((performance.now() - t0) / 1000) * rate) {
    await new Promise((r) => setTimeout(r, 50));
    continue;
  }
  if (offset + buf.length > size) offset = 0;
  const n = readSync(fd, buf, 0, buf.length, offset);
  offset += n;
  hash.update(buf.subarray(0, n));
  inSegment += n;
  if (inSegment >= segmentBytes) {
    hash.digest('hex');
    hash = createHash('sha256');
    inSegment = 0;
  }
  await new Promise<void>((r, j) => sock.write(buf.subarray(0, n), (e) => (e ? j(e) : r())));
  sent += n;
}
sock.end();
console.log(JSON.stringify({ sentBytes: sent, seconds: (performance.now() - t0) / 1000 }));
