/** The real Asterisk 22 fixture call as FreePBX would have stored it in asteriskcdrdb.cdr / .cel. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CdrInsert, CelInsert } from '../../test-support/src/mariadb.ts';
import { parseCsvLine } from '../src/pbx/csv.ts';
import { FIXTURE } from './pbx-helpers.ts';

const AMA: Record<string, number> = { OMIT: 1, BILLING: 2, DOCUMENTATION: 3 };

/** `YYYY-MM-DD HH:MM:SS` of a UTC epoch (the fixture's PBX ran in UTC), truncated to the DATETIME's second. */
export const naiveUtc = (epochS: number) => new Date(Math.floor(epochS) * 1000).toISOString().slice(0, 19).replace('T', ' ');

/**
 * Master.csv rows → cdr rows (calldate = start; FreePBX keeps no answer/end columns), `recordingfile` from the
 * cdr_custom JSON of the same CDR (FreePBX sets CDR(recordingfile)); cel-custom rows → cel rows.
 */
export function fixtureRows(): { cdr: CdrInsert[]; cel: CelInsert[] } {
  const customs = readFileSync(join(FIXTURE, 'cdr-custom', 'cdr_master.json'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  const cdr: CdrInsert[] = [];
  for (const line of readFileSync(join(FIXTURE, 'cdr-csv', 'Master.csv'), 'utf8').split('\n').filter(Boolean)) {
    const f = parseCsvLine(line).fields;
    const [accountcode, src, dst, dcontext, clid, channel, dstchannel, lastapp, lastdata, start, , , duration, billsec, disposition, amaflags, uniqueid, userfield, peeraccount, linkedid, sequence] = f as string[];
    const custom = customs.find((c) => c.uniqueid === uniqueid && String(c.sequence) === sequence);
    cdr.push({
      calldate: start!,
      clid: clid!,
      src: src!,
      dst: dst!,
      dcontext: dcontext!,
      channel: channel!,
      dstchannel: dstchannel!,
      lastapp: lastapp!,
      lastdata: lastdata!,
      duration: Number(duration),
      billsec: Number(billsec),
      disposition: disposition!,
      amaflags: AMA[amaflags!] ?? 3,
      accountcode: accountcode!,
      uniqueid: uniqueid!,
      userfield: userfield!,
      did: dcontext === 'from-trunk' ? dst! : '',
      recordingfile: String(custom?.recordingfile ?? ''),
      linkedid: linkedid!,
      peeraccount: peeraccount!,
      sequence: Number(sequence),
    });
  }
  const cel: CelInsert[] = [];
  for (const line of readFileSync(join(FIXTURE, 'cel-custom', 'Master.csv'), 'utf8').split('\n').filter(Boolean)) {
    const f = parseCsvLine(line).fields;
    cel.push({
      eventtype: f[0]!,
      eventtime: naiveUtc(Number(f[1])),
      cid_name: f[2]!,
      cid_num: f[3]!,
      cid_ani: f[4]!,
      cid_rdnis: f[5]!,
      cid_dnid: f[6]!,
      exten: f[7]!,
      context: f[8]!,
      channame: f[9]!,
      appname: f[10]!,
      appdata: f[11]!,
      amaflags: Number(f[12] || 3),
      accountcode: f[13]!,
      uniqueid: f[14]!,
      linkedid: f[15]!,
      peer: f[16]!,
      userdeftype: f[18]!,
      extra: f[19]!,
    });
  }
  return { cdr, cel };
}
