/**
 * Crash-safe file primitives: a file written with writeFileAtomic is either the old one or the complete new one,
 * never a torn mix, and it survives power loss once the call returns (temp + fsync + rename + fsync of the folder).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fchmodSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { copyFile, mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Prefix of temp files; loaders skip and sweep files that start with it. */
export const TEMP_PREFIX = '.tmp-';

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function ensureDir(dir: string, mode = 0o700): Promise<void> {
  await mkdir(dir, { recursive: true, mode });
}

export async function writeFileAtomic(path: string, data: string | Uint8Array, opts: { mode?: number } = {}): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `${TEMP_PREFIX}${basename(path)}-${randomBytes(6).toString('hex')}`);
  const mode = opts.mode ?? 0o600;
  const fh = await open(tmp, 'wx', mode);
  try {
    await fh.chmod(mode); // the umask may have narrowed or widened nothing, but be explicit
    await fh.writeFile(data);
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fh.close();
  await rename(tmp, path);
  await fsyncDir(dir);
}

/**
 * All-or-nothing replacement in one synchronous step (temp + rename, no fsync: after a power loss the file may be the
 * previous version): for a small mark rewritten every few seconds inside a timer the process already wakes for, whose
 * staleness only makes a reported span longer (the life mark), never for records evidence depends on. Five calls of tens of microseconds each, instead of five
 * round trips through libuv's thread pool, each of which wakes the event loop again (the agent's life mark).
 */
export function replaceFileSync(path: string, data: string, mode = 0o600): void {
  const tmp = join(dirname(path), `${TEMP_PREFIX}${basename(path)}-${randomBytes(6).toString('hex')}`);
  const fd = openSync(tmp, 'wx', mode);
  try {
    fchmodSync(fd, mode);
    const buf = Buffer.from(data);
    for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off);
  } catch (e) {
    closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
}

/** Removes a file; a missing file is not an error (removal is idempotent for crash recovery). */
export async function unlinkIfExists(path: string): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

/**
 * Moves a file durably. Across filesystems (EXDEV) it copies, fsyncs the copy, then removes the source, so a crash
 * leaves at least one complete copy. Returns false when the source does not exist (already moved).
 */
export async function moveFileDurable(from: string, to: string): Promise<boolean> {
  try {
    await rename(from, to);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return false;
    if (code !== 'EXDEV') throw e;
    const tmp = join(dirname(to), `${TEMP_PREFIX}${basename(to)}-${randomBytes(6).toString('hex')}`);
    await copyFile(from, tmp, constants.COPYFILE_EXCL);
    const fh = await open(tmp, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, to);
    await fsyncDir(dirname(to));
    await unlink(from);
    await fsyncDir(dirname(from));
    return true;
  }
  await fsyncDir(dirname(to));
  if (dirname(to) !== dirname(from)) await fsyncDir(dirname(from));
  return true;
}
