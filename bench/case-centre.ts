/**
 * The centre of bench/case-page.ts in a process of its own, as in a deployment (the browser's client does not share
 * an event loop with the server): the case fixture of e2e/case-fixture.ts (its centre serving a web build, with its
 * worker, which has derived the call's audio and is idle from then on), then one JSON line on stdout with what the
 * bench needs; it serves until its stdin closes, then drops its database and bucket.
 *
 *   node --import tsx bench/case-centre.ts --cameras 4 --web web/build
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { browserCookie, caseFixture } from '../e2e/case-fixture.ts';

export type CaseCentreInfo = { url: string; caseId: string; cameraIds: string[]; cookie: Awaited<ReturnType<typeof browserCookie>> };

const { values } = parseArgs({ options: { cameras: { type: 'string', default: '4' }, web: { type: 'string' } } });
const dir = await mkdtemp(join(os.tmpdir(), 'bench-case-'));
const fx = await caseFixture({ webRoot: values.web!, dir, cameras: Number(values.cameras) });
const info: CaseCentreInfo = { url: fx.centre.url, caseId: fx.caseId, cameraIds: fx.cameraIds, cookie: await browserCookie(fx.centre, fx.user.id) };
process.stdout.write(`${JSON.stringify(info)}\n`);
process.stdin.resume();
await new Promise<void>((resolve) => process.stdin.once('close', resolve).once('end', resolve));
await fx.centre.close();
await rm(dir, { recursive: true, force: true });
process.exit(0);
