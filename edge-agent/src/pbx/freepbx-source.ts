/**
 * The `freepbx` adapter: FreePBX keeps its CDR and CEL in MariaDB (`asteriskcdrdb.cdr`, `asteriskcdrdb.cel`) instead
 * of CSV files. This adapter reads those tables through a read-only account and turns each row into exactly the record
 * the CSV parsers produce (CdrRow, CustomRec for the `recordingfile` column, CelRec), then lets the asterisk-files
 * adapter it extends do everything else: recordings from the monitor folder, correlation (correlate.ts), sealing, the
 * ledger. Only where rows come from differs.
 *
 * Incremental reading:
 * - cdr has no id and Asterisk inserts a row when its leg ENDS while `calldate` is its START: reading by calldate
 *   alone would miss a long call inserted after shorter, later calls. Each poll therefore reads the rows whose end
 *   (calldate + duration) is at most `cdrOverlapMinutes` before the latest end already read, paged in the stable order
 *   (calldate, uniqueid, sequence), restricted by the calldate index to `maxCallHours`; a row already read is skipped
 *   by its key `u:<uniqueid>#<sequence>` (the key the CSV parser gives the same row).
 * - cel has an auto-increment `id`: rows with id above the highest read, re-reading a small overlap (an id can become
 *   visible just after a higher one committed), skipped by id when already read.
 * The cursor (latest end, keys and ids inside the overlap) is saved in the adapter's state.json together with the
 * pending rows, in one atomic write: after a kill, rows are neither lost nor read twice.
 *
 * The password comes from a file or an environment variable, is registered with the log masker and is never logged.
 * Connection and permission problems are logged once per distinct problem and written to `source-status.json` in the
 * adapter's state folder (shown by `agent status`); the recordings side keeps working meanwhile.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { writeFileAtomic } from '../state/atomic-file.ts';
import { readJsonFile } from './atomic.ts';
import { AsteriskFilesAdapter } from './asterisk-files.ts';
import { type CdrRow, type CelRec, type CustomRec, hashText } from './cdr.ts';
import { asteriskFilesConfigSchema, type FreepbxConfig } from './config.ts';
import type { AdapterDeps } from './index.ts';
import { naiveAsUtcMs, parseNaive, uniqueidEpoch, zonedToUtcMs } from './time.ts';

/** The cursor saved in state.json (`source`). Naive times are the PBX's own (`YYYY-MM-DD HH:MM:SS`). */
type DbPosition = {
  v: 1;
  /** Latest end (calldate + duration) among the CDR rows read; null before the first row. */
  cdrMaxEnd: string | null;
  /** Key → end of the CDR rows read whose end is inside the overlap. */
  cdrSeen: Record<string, string>;
  /** Highest CEL id read (0 before the first). */
  celMaxId: number;
  /** CEL ids read inside the overlap below celMaxId. */
  celSeen: number[];
};

export type SourceStatus = {
  source: 'freepbx-db';
  ok: boolean;
  /** What is wrong, in words a store's IT person can act on (never the password). */
  error: { code: string; message: string; since: string } | null;
  lastOkAt: string | null;
  cdrMaxEnd: string | null;
  celMaxId: number;
};

const CEL_OVERLAP_IDS = 200;
const AMAFLAGS: Record<string, string> = { '1': 'OMIT', '2': 'BILLING', '3': 'DOCUMENTATION' };
const CDR_COLUMNS = ['calldate', 'clid', 'src', 'dst', 'dcontext', 'channel', 'dstchannel', 'lastapp', 'lastdata', 'duration', 'billsec', 'disposition', 'amaflags', 'accountcode', 'uniqueid', 'userfield', 'did', 'recordingfile', 'cnum', 'cnam', 'linkedid', 'peeraccount', 'sequence'] as const;
/** Columns FreePBX added over the years: selected as constants when a table predates them. */
const CDR_OPTIONAL: Record<string, string> = { did: "''", recordingfile: "''", cnum: "''", cnam: "''", linkedid: "''", peeraccount: "''", sequence: 'NULL' };
const CEL_COLUMNS = ['id', 'eventtype', 'eventtime', 'cid_name', 'cid_num', 'cid_ani', 'cid_rdnis', 'cid_dnid', 'exten', 'context', 'channame', 'appname', 'appdata', 'amaflags', 'accountcode', 'uniqueid', 'linkedid', 'peer', 'userdeftype', 'extra'] as const;
/** FreePBX's older cel tables call `extra` `eventextra`. */
const CEL_OPTIONAL: Record<string, string> = { extra: "''", cid_ani: "''", cid_rdnis: "''", cid_dnid: "''" };

type DbRow = Record<string, string | number | null>;

const str = (v: unknown) => (v === null || v === undefined ? '' : String(v));
const pad = (n: number) => String(n).padStart(2, '0');
/** Naive time arithmetic (no zone involved): `YYYY-MM-DD HH:MM:SS` + seconds. */
export function addNaiveSeconds(naive: string, seconds: number): string {
  const t = parseNaive(naive);
  if (!t) return '';
  const d = new Date(naiveAsUtcMs(t) + seconds * 1000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}
const quoteId = (s: string) => `\`${s.replace(/`/g, '``')}\``;

/**
 * A FreePBX cdr row → the CdrRow the cdr_csv parser makes of the same CDR. FreePBX stores the start (calldate),
 * duration and billsec; end = start + duration and answer = end − billsec, as FreePBX's own reports compute them.
 */
export function cdrRowFromDb(r: DbRow, loc: { file: string; seenAt: number }): CdrRow {
  const calldate = str(r.calldate);
  const duration = Number(r.duration ?? 0);
  const billsec = Number(r.billsec ?? 0);
  const disposition = str(r.disposition);
  const uniqueid = str(r.uniqueid) || null;
  const sequence = r.sequence === null || r.sequence === undefined || r.sequence === '' ? null : Number(r.sequence);
  const raw = JSON.stringify(Object.fromEntries(CDR_COLUMNS.map((c) => [c, r[c] ?? null])));
  const answered = disposition.toUpperCase() === 'ANSWERED' || billsec > 0;
  return {
    key: uniqueid && sequence !== null ? `u:${uniqueid}#${sequence}` : `h:${hashText(raw)}`,
    file: loc.file,
    offset: sequence ?? 0,
    raw,
    encoding: 'utf-8',
    columns: CDR_COLUMNS.length,
    layout: 'freepbx-db',
    truncated: false,
    accountcode: str(r.accountcode),
    src: str(r.src),
    dst: str(r.dst),
    dcontext: str(r.dcontext),
    clid: str(r.clid),
    channel: str(r.channel),
    dstchannel: str(r.dstchannel),
    lastapp: str(r.lastapp),
    lastdata: str(r.lastdata),
    start: calldate,
    answer: answered ? addNaiveSeconds(calldate, duration - billsec) : '',
    end: addNaiveSeconds(calldate, duration),
    duration,
    billsec,
    disposition,
    amaflags: AMAFLAGS[str(r.amaflags)] ?? str(r.amaflags),
    uniqueid,
    userfield: str(r.userfield),
    peeraccount: str(r.peeraccount),
    linkedid: str(r.linkedid) || null,
    sequence,
    seenAt: loc.seenAt,
  };
}

/** FreePBX's `recordingfile` column as the cdr_custom record the correlator claims recordings with. */
export function customFromDb(row: CdrRow): CustomRec | null {
  const o = JSON.parse(row.raw) as DbRow;
  const recordingfile = str(o.recordingfile);
  if (!recordingfile) return null;
  return {
    key: row.uniqueid && row.sequence !== null ? `j:${row.uniqueid}#${row.sequence}` : `jh:${hashText(row.raw)}`,
    file: row.file,
    offset: row.offset,
    raw: row.raw,
    uniqueid: row.uniqueid,
    linkedid: row.linkedid,
    sequence: row.sequence,
    recordingfile,
    notice: null,
    startUtcMs: null,
    seenAt: row.seenAt,
  };
}

/**
 * The UTC instant of a CEL `eventtime` (a naive DATETIME in the PBX's zone): of the candidate zones, the one that puts
 * the event closest after its channel's creation (the uniqueid's epoch); without a usable uniqueid, the first zone.
 */
export function celEventUtcS(eventtime: string, uniqueid: string, zones: string[]): number | null {
  const t = parseNaive(eventtime);
  if (!t) return null;
  const epoch = uniqueidEpoch(uniqueid);
  let best: number | null = null;
  for (const z of zones) {
    const s = zonedToUtcMs(t, z) / 1000;
    if (epoch === null) return s;
    if (s < epoch - 2) continue; // before its channel existed: not this zone
    if (best === null || s - epoch < best - epoch) best = s;
  }
  return best ?? zonedToUtcMs(t, zones[0]!) / 1000;
}

export function celFromDb(r: DbRow, loc: { file: string; seenAt: number; zones: string[] }): CelRec {
  const raw = JSON.stringify(Object.fromEntries(CEL_COLUMNS.map((c) => [c, r[c] ?? null])));
  return {
    key: `c:db:${str(r.id)}`,
    file: loc.file,
    offset: Number(r.id),
    raw,
    eventtype: str(r.eventtype),
    eventtimeS: celEventUtcS(str(r.eventtime), str(r.uniqueid), loc.zones),
    appname: str(r.appname),
    appdata: str(r.appdata),
    uniqueid: str(r.uniqueid),
    linkedid: str(r.linkedid),
    peer: str(r.peer),
    userdeftype: str(r.userdeftype),
    extra: str(r.extra),
    seenAt: loc.seenAt,
  };
}

class SourceProblem extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A mysql2 / file error → a problem a person can act on. */
function describe(e: unknown, cfg: FreepbxConfig['database']): SourceProblem {
  if (e instanceof SourceProblem) return e;
  const err = e as { code?: string; errno?: number; message?: string };
  const where = cfg.socketPath ? `socket ${cfg.socketPath}` : `${cfg.host}:${cfg.port}`;
  switch (err.code) {
    case 'ER_ACCESS_DENIED_ERROR':
    case 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR':
      return new SourceProblem('access_denied', `the FreePBX database at ${where} refused user '${cfg.user}': wrong password, or the account is not allowed from this host`);
    case 'ER_DBACCESS_DENIED_ERROR':
      return new SourceProblem('no_grant', `user '${cfg.user}' may not read database '${cfg.database}' (GRANT SELECT ON ${cfg.database}.* TO it)`);
    case 'ER_TABLEACCESS_DENIED_ERROR':
    case 'ER_COLUMNACCESS_DENIED_ERROR':
      return new SourceProblem('no_grant', `user '${cfg.user}' may not read a table it needs: ${err.message}`);
    case 'ER_BAD_DB_ERROR':
      return new SourceProblem('no_database', `database '${cfg.database}' does not exist at ${where}`);
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EHOSTUNREACH':
    case 'ETIMEDOUT':
    case 'ECONNRESET':
    case 'PROTOCOL_CONNECTION_LOST':
      return new SourceProblem('unreachable', `cannot reach the FreePBX database at ${where} (${err.code})`);
    default:
      return new SourceProblem(err.code ? err.code.toLowerCase() : 'error', `FreePBX database: ${err.message ?? String(e)}`);
  }
}

export class FreepbxAdapter extends AsteriskFilesAdapter {
  private conn: mysql.Connection | null = null;
  private cdrSelect: string | null = null;
  private celSelect: string | null = null;
  private password: string | null = null;
  private status: SourceStatus = { source: 'freepbx-db', ok: false, error: null, lastOkAt: null, cdrMaxEnd: null, celMaxId: 0 };
  private statusWritten = '';
  private readonly cdrFile: string;
  private readonly celFile: string;
  /** First start: the calldate bound of backfillHours, logged once with what it skipped. */
  private historySkipLogged = false;

  constructor(
    private readonly fcfg: FreepbxConfig,
    deps: AdapterDeps,
  ) {
    // The correlation settings are the asterisk-files ones; the file fields are never used (ingest is overridden).
    const filesCfg = asteriskFilesConfigSchema.parse({
      adapter: 'asterisk-files',
      id: fcfg.id,
      timezone: fcfg.timezone,
      zoneCandidates: fcfg.zoneCandidates,
      countryCode: fcfg.countryCode,
      quietSeconds: fcfg.quietSeconds,
      pollSeconds: fcfg.pollSeconds,
      recordingWaitSeconds: fcfg.recordingWaitSeconds,
      cdrWaitSeconds: fcfg.cdrWaitSeconds,
      staleRecordingSeconds: fcfg.staleRecordingSeconds,
      lateChangeWindowHours: fcfg.lateChangeWindowHours,
      ledgerRetentionDays: fcfg.ledgerRetentionDays,
      backfillHours: fcfg.backfillHours,
      operators: fcfg.operators,
      noticeAssumed: fcfg.noticeAssumed,
      monitorDir: fcfg.monitorDir,
      cdrCsv: `mariadb:${fcfg.database.database}.${fcfg.database.cdrTable}`,
      noticeSound: fcfg.noticeSound,
      noticeVariable: fcfg.noticeVariable,
      inboundContexts: fcfg.inboundContexts,
      trunkEndpoints: fcfg.trunkEndpoints,
      extensionPattern: fcfg.extensionPattern,
      fullScanSeconds: fcfg.fullScanSeconds,
    });
    // Calls leave this adapter named as what they came from.
    const sink = deps.sink;
    super(filesCfg, { ...deps, sink: { callSealed: (c) => sink.callSealed({ ...c, adapter: 'freepbx' }) } });
    this.cdrFile = `mariadb:${fcfg.database.database}.${fcfg.database.cdrTable}`;
    this.celFile = `mariadb:${fcfg.database.database}.${fcfg.database.celTable ?? 'cel'}`;
  }

  private get pos(): DbPosition {
    const s = this.state.source as DbPosition | undefined;
    if (s?.v === 1) return s;
    const fresh: DbPosition = { v: 1, cdrMaxEnd: null, cdrSeen: {}, celMaxId: 0, celSeen: [] };
    this.state.source = fresh;
    return fresh;
  }

  protected override async openSource(): Promise<void> {
    const saved = await readJsonFile<SourceStatus>(join(this.dir, 'source-status.json'));
    if (saved?.source === 'freepbx-db') this.status = { ...saved };
  }

  protected override async closeSource(): Promise<void> {
    await this.disconnect();
  }

  protected override savePosition(): void {
    this.status.cdrMaxEnd = this.pos.cdrMaxEnd;
    this.status.celMaxId = this.pos.celMaxId;
  }

  private async disconnect(): Promise<void> {
    const c = this.conn;
    this.conn = null;
    if (c) await c.end().catch(() => c.destroy());
  }

  private async readPassword(): Promise<string> {
    const d = this.fcfg.database;
    if (d.passwordFile) {
      try {
        return (await readFile(d.passwordFile, 'utf8')).split(/\r?\n/)[0]!;
      } catch (e) {
        throw new SourceProblem('password_file', `cannot read database.passwordFile ${d.passwordFile} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
    }
    const v = process.env[d.passwordEnv!];
    if (v === undefined) throw new SourceProblem('password_env', `environment variable ${d.passwordEnv} (database.passwordEnv) is not set`);
    return v;
  }

  private async connect(): Promise<mysql.Connection> {
    if (this.conn) return this.conn;
    const d = this.fcfg.database;
    this.password ??= await this.readPassword();
    this.log.addSecrets(this.password);
    const conn = await mysql.createConnection({
      ...(d.socketPath ? { socketPath: d.socketPath } : { host: d.host, port: d.port }),
      user: d.user,
      password: this.password,
      database: d.database,
      connectTimeout: d.connectTimeoutMs,
      dateStrings: true,
      charset: 'utf8mb4',
      supportBigNumbers: true,
    });
    conn.on('error', () => {
      // A dropped connection: the next query fails, and the next pass reconnects.
      if (this.conn === conn) this.conn = null;
    });
    try {
      // Belt and braces: even an account with more rights cannot change anything through this session.
      await conn.query('SET SESSION TRANSACTION READ ONLY');
      const cols = async (table: string) => {
        const [rows] = await conn.query('SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [d.database, table]);
        return new Set((rows as { c: string }[]).map((r) => r.c.toLowerCase()));
      };
      const cdrCols = await cols(d.cdrTable);
      if (cdrCols.size === 0) throw new SourceProblem('no_table', `table ${d.database}.${d.cdrTable} does not exist or user '${d.user}' may not read it`);
      for (const c of ['calldate', 'uniqueid', 'duration', 'billsec', 'disposition']) {
        if (!cdrCols.has(c)) throw new SourceProblem('schema', `table ${d.database}.${d.cdrTable} has no column ${c}: not a FreePBX/Asterisk cdr table`);
      }
      const sel = (all: readonly string[], have: Set<string>, optional: Record<string, string>, rename: Record<string, string> = {}) =>
        all.map((c) => (have.has(c) ? quoteId(c) : rename[c] && have.has(rename[c]) ? `${quoteId(rename[c])} AS ${quoteId(c)}` : `${optional[c] ?? "''"} AS ${quoteId(c)}`)).join(', ');
      this.cdrSelect = sel(CDR_COLUMNS, cdrCols, CDR_OPTIONAL);
      this.celSelect = null;
      if (d.celTable) {
        const celCols = await cols(d.celTable);
        if (celCols.size === 0) this.log.warn('FreePBX CEL table missing or not readable; reading CDR only', { pbx: this.fcfg.id, table: `${d.database}.${d.celTable}` });
        else this.celSelect = sel(CEL_COLUMNS, celCols, CEL_OPTIONAL, { extra: 'eventextra' });
      }
    } catch (e) {
      await conn.end().catch(() => conn.destroy());
      throw e;
    }
    this.conn = conn;
    return conn;
  }

  protected override async ingest(now: number): Promise<void> {
    try {
      const conn = await this.connect();
      await this.readCdr(conn, now);
      if (this.celSelect) await this.readCel(conn, now);
      await this.setStatus(null, now);
    } catch (e) {
      const p = describe(e, this.fcfg.database);
      // A refused login or an unreadable password: read the password again next time (the store may fix the file).
      if (['access_denied', 'password_file', 'password_env'].includes(p.code)) this.password = null;
      await this.disconnect();
      await this.setStatus(p, now);
    }
  }

  private async setStatus(p: SourceProblem | null, now: number): Promise<void> {
    const prev = this.status.error;
    if (p === null) {
      if (prev) this.log.info('FreePBX database readable again', { pbx: this.fcfg.id, after: prev.code });
      this.status = { ...this.status, ok: true, error: null, lastOkAt: new Date(now).toISOString() };
    } else {
      if (!prev || prev.code !== p.code || prev.message !== p.message) {
        this.log.error(`FreePBX database: ${p.message}`, { pbx: this.fcfg.id, code: p.code, user: this.fcfg.database.user });
      }
      const since = prev && prev.code === p.code ? prev.since : new Date(now).toISOString();
      this.status = { ...this.status, ok: false, error: { code: p.code, message: p.message, since } };
    }
    // Written when the state of things changes, not on every poll.
    const sig = JSON.stringify({ ok: this.status.ok, error: this.status.error });
    if (sig !== this.statusWritten) {
      await writeFileAtomic(join(this.dir, 'source-status.json'), JSON.stringify(this.status, null, 2));
      this.statusWritten = sig;
    }
  }

  private knownKeys(): Set<string> {
    const keys = this.sealedRowKeys();
    for (const r of [...this.state.rows, ...this.state.customs, ...this.state.cels]) keys.add(r.key);
    return keys;
  }

  private async readCdr(conn: mysql.Connection, now: number): Promise<void> {
    const d = this.fcfg.database;
    const pos = this.pos;
    const table = `${quoteId(d.database)}.${quoteId(d.cdrTable)}`;
    const known = this.knownKeys();
    let endFloor: string | null = null;
    let startFloor: string | null = null;
    if (pos.cdrMaxEnd !== null) {
      endFloor = addNaiveSeconds(pos.cdrMaxEnd, -this.fcfg.cdrOverlapMinutes * 60);
      startFloor = addNaiveSeconds(endFloor, -this.fcfg.maxCallHours * 3600);
    } else if (this.state.ignoreBeforeMs !== null) {
      // First start with backfillHours: rows that ended before it are history. Rough on purpose (the PBX's zone is
      // not decided yet): 14 h of slack covers any zone, as for Master.csv.
      const d0 = new Date(this.state.ignoreBeforeMs - 14 * 3600e3);
      endFloor = `${d0.getUTCFullYear()}-${pad(d0.getUTCMonth() + 1)}-${pad(d0.getUTCDate())} ${pad(d0.getUTCHours())}:${pad(d0.getUTCMinutes())}:${pad(d0.getUTCSeconds())}`;
      startFloor = addNaiveSeconds(endFloor, -this.fcfg.maxCallHours * 3600);
      if (!this.historySkipLogged) {
        const [rows] = await conn.query(`SELECT COUNT(*) AS n, MIN(calldate) AS oldest, MAX(calldate) AS newest FROM ${table} WHERE calldate + INTERVAL duration SECOND < ?`, [endFloor]);
        const r = (rows as { n: number; oldest: string | null; newest: string | null }[])[0]!;
        if (Number(r.n) > 0) {
          this.log.info('FreePBX CDR history older than backfillHours skipped', { pbx: this.fcfg.id, rows: Number(r.n), oldest: r.oldest, newest: r.newest, endedBefore: endFloor, backfillHours: this.fcfg.backfillHours });
        }
        this.historySkipLogged = true;
      }
    }
    let after: [string, string, number] = [startFloor ?? '0000-00-00 00:00:00', '', -2147483648];
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (startFloor !== null) where.push('calldate >= ?'), params.push(startFloor);
    if (endFloor !== null) where.push('calldate + INTERVAL duration SECOND >= ?'), params.push(endFloor);
    const seqExpr = this.cdrSelect!.includes('NULL AS `sequence`') ? '0' : 'COALESCE(`sequence`, 0)';
    for (;;) {
      const sql = `SELECT ${this.cdrSelect} FROM ${table} WHERE ${[...where, `(calldate > ? OR (calldate = ? AND (uniqueid > ? OR (uniqueid = ? AND ${seqExpr} > ?))))`].join(' AND ')} ORDER BY calldate, uniqueid, ${seqExpr} LIMIT ?`;
      const [rows] = await conn.query(sql, [...params, after[0], after[0], after[1], after[1], after[2], this.fcfg.batchRows]);
      const list = rows as DbRow[];
      for (const r of list) {
        const row = cdrRowFromDb(r, { file: this.cdrFile, seenAt: now });
        if (row.end && (pos.cdrMaxEnd === null || row.end > pos.cdrMaxEnd)) pos.cdrMaxEnd = row.end;
        if (pos.cdrSeen[row.key] !== undefined || known.has(row.key)) {
          pos.cdrSeen[row.key] = row.end;
          continue;
        }
        pos.cdrSeen[row.key] = row.end;
        known.add(row.key);
        this.state.rows.push(row);
        const custom = customFromDb(row);
        if (custom && !known.has(custom.key)) {
          known.add(custom.key);
          this.state.customs.push(custom);
        }
      }
      if (list.length < this.fcfg.batchRows) break;
      const last = list[list.length - 1]!;
      after = [str(last.calldate), str(last.uniqueid), Number(last.sequence ?? 0)];
    }
    // Forget keys that left the overlap: no later poll reads those rows again.
    if (pos.cdrMaxEnd !== null) {
      const floor = addNaiveSeconds(pos.cdrMaxEnd, -this.fcfg.cdrOverlapMinutes * 60);
      for (const [k, end] of Object.entries(pos.cdrSeen)) if (end < floor) delete pos.cdrSeen[k];
    }
  }

  private async readCel(conn: mysql.Connection, now: number): Promise<void> {
    const d = this.fcfg.database;
    const pos = this.pos;
    const table = `${quoteId(d.database)}.${quoteId(d.celTable!)}`;
    const zones = [...new Set([this.state.learnedZone ?? this.fcfg.timezone, this.fcfg.timezone, 'UTC', ...this.fcfg.zoneCandidates])];
    const seen = new Set(pos.celSeen);
    const known = this.knownKeys();
    let from = Math.max(0, pos.celMaxId - CEL_OVERLAP_IDS);
    let floorTime: string | null = null;
    if (pos.celMaxId === 0 && this.state.ignoreBeforeMs !== null) {
      const d0 = new Date(this.state.ignoreBeforeMs - 14 * 3600e3);
      floorTime = `${d0.getUTCFullYear()}-${pad(d0.getUTCMonth() + 1)}-${pad(d0.getUTCDate())} ${pad(d0.getUTCHours())}:${pad(d0.getUTCMinutes())}:${pad(d0.getUTCSeconds())}`;
    }
    for (;;) {
      const [rows] = await conn.query(`SELECT ${this.celSelect} FROM ${table} WHERE id > ?${floorTime ? ' AND eventtime >= ?' : ''} ORDER BY id LIMIT ?`, floorTime ? [from, floorTime, this.fcfg.batchRows] : [from, this.fcfg.batchRows]);
      const list = rows as DbRow[];
      for (const r of list) {
        const id = Number(r.id);
        if (id > pos.celMaxId) pos.celMaxId = id;
        if (seen.has(id)) continue;
        seen.add(id);
        const rec = celFromDb(r, { file: this.celFile, seenAt: now, zones });
        if (!this.celUseful(rec) || known.has(rec.key)) continue;
        known.add(rec.key);
        this.state.cels.push(rec);
      }
      if (list.length < this.fcfg.batchRows) break;
      from = Number(list[list.length - 1]!.id);
    }
    pos.celSeen = [...seen].filter((id) => id > pos.celMaxId - CEL_OVERLAP_IDS).sort((a, b) => a - b);
  }
}
