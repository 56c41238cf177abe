/**
 * A FreePBX-like CDR database in the private MariaDB that scripts/services.sh starts: per test, a database with
 * FreePBX's `cdr` and `cel` tables (as FreePBX 16/17 define them in asteriskcdrdb) and a read-only account that may
 * only SELECT from it, the way a store sets FreePBX up for the agent (docs/pbx-freepbx.md).
 */
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { uniqueName } from './env.ts';

export const MARIADB_URL = process.env.TEST_MARIADB_URL ?? 'mysql://mamoru:mamoru@127.0.0.1:3307';

/** asteriskcdrdb.cdr as FreePBX creates it (framework's cdr.sql plus the columns the cdr module and Asterisk 12+ add). */
export const FREEPBX_CDR_TABLE = `CREATE TABLE \`cdr\` (
  \`calldate\` datetime NOT NULL DEFAULT '1000-01-01 00:00:00',
  \`clid\` varchar(80) NOT NULL DEFAULT '',
  \`src\` varchar(80) NOT NULL DEFAULT '',
  \`dst\` varchar(80) NOT NULL DEFAULT '',
  \`dcontext\` varchar(80) NOT NULL DEFAULT '',
  \`channel\` varchar(80) NOT NULL DEFAULT '',
  \`dstchannel\` varchar(80) NOT NULL DEFAULT '',
  \`lastapp\` varchar(80) NOT NULL DEFAULT '',
  \`lastdata\` varchar(80) NOT NULL DEFAULT '',
  \`duration\` int(11) NOT NULL DEFAULT 0,
  \`billsec\` int(11) NOT NULL DEFAULT 0,
  \`disposition\` varchar(45) NOT NULL DEFAULT '',
  \`amaflags\` int(11) NOT NULL DEFAULT 0,
  \`accountcode\` varchar(20) NOT NULL DEFAULT '',
  \`uniqueid\` varchar(32) NOT NULL DEFAULT '',
  \`userfield\` varchar(255) NOT NULL DEFAULT '',
  \`did\` varchar(50) NOT NULL DEFAULT '',
  \`recordingfile\` varchar(255) NOT NULL DEFAULT '',
  \`cnum\` varchar(80) NOT NULL DEFAULT '',
  \`cnam\` varchar(80) NOT NULL DEFAULT '',
  \`outbound_cnum\` varchar(80) NOT NULL DEFAULT '',
  \`outbound_cnam\` varchar(80) NOT NULL DEFAULT '',
  \`dst_cnam\` varchar(80) NOT NULL DEFAULT '',
  \`linkedid\` varchar(32) NOT NULL DEFAULT '',
  \`peeraccount\` varchar(80) NOT NULL DEFAULT '',
  \`sequence\` int(11) NOT NULL DEFAULT 0,
  KEY \`calldate\` (\`calldate\`),
  KEY \`dst\` (\`dst\`),
  KEY \`accountcode\` (\`accountcode\`),
  KEY \`uniqueid\` (\`uniqueid\`),
  KEY \`did\` (\`did\`),
  KEY \`recordingfile\` (\`recordingfile\`(191))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`;

/** asteriskcdrdb.cel as FreePBX's cel module creates it (install.php). */
export const FREEPBX_CEL_TABLE = `CREATE TABLE \`cel\` (
  \`id\` int(11) NOT NULL AUTO_INCREMENT,
  \`eventtype\` varchar(30) NOT NULL,
  \`eventtime\` datetime NOT NULL,
  \`cid_name\` varchar(80) NOT NULL,
  \`cid_num\` varchar(80) NOT NULL,
  \`cid_ani\` varchar(80) NOT NULL,
  \`cid_rdnis\` varchar(80) NOT NULL,
  \`cid_dnid\` varchar(80) NOT NULL,
  \`exten\` varchar(80) NOT NULL,
  \`context\` varchar(80) NOT NULL,
  \`channame\` varchar(80) NOT NULL,
  \`appname\` varchar(80) NOT NULL,
  \`appdata\` varchar(255) NOT NULL,
  \`amaflags\` int(11) NOT NULL,
  \`accountcode\` varchar(20) NOT NULL,
  \`uniqueid\` varchar(32) NOT NULL,
  \`linkedid\` varchar(32) NOT NULL,
  \`peer\` varchar(80) NOT NULL,
  \`userdeftype\` varchar(255) NOT NULL,
  \`extra\` varchar(512) NOT NULL,
  PRIMARY KEY (\`id\`),
  KEY \`uniqueid_index\` (\`uniqueid\`),
  KEY \`linkedid_index\` (\`linkedid\`),
  KEY \`context_index\` (\`context\`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`;

export type CdrInsert = {
  calldate: string;
  clid: string;
  src: string;
  dst: string;
  dcontext: string;
  channel: string;
  dstchannel: string;
  lastapp: string;
  lastdata: string;
  duration: number;
  billsec: number;
  disposition: string;
  amaflags?: number;
  accountcode?: string;
  uniqueid: string;
  userfield?: string;
  did?: string;
  recordingfile?: string;
  cnum?: string;
  cnam?: string;
  linkedid: string;
  peeraccount?: string;
  sequence: number;
};

export type CelInsert = {
  eventtype: string;
  eventtime: string;
  cid_name?: string;
  cid_num?: string;
  cid_ani?: string;
  cid_rdnis?: string;
  cid_dnid?: string;
  exten?: string;
  context?: string;
  channame: string;
  appname?: string;
  appdata?: string;
  amaflags?: number;
  accountcode?: string;
  uniqueid: string;
  linkedid: string;
  peer?: string;
  userdeftype?: string;
  extra?: string;
};

export type CdrDatabase = {
  host: string;
  port: number;
  database: string;
  /** The read-only account (SELECT on this database only). */
  user: string;
  password: string;
  /** The admin connection (writes rows as Asterisk's cdr_adaptive_odbc / cel_odbc would). */
  admin: mysql.Connection;
  insertCdr(rows: CdrInsert[]): Promise<void>;
  insertCel(rows: CelInsert[]): Promise<void>;
  drop(): Promise<void>;
};

/** Creates a FreePBX-like asteriskcdrdb (unique name) and a read-only account for it. */
export async function createCdrDatabase(prefix = 'cdrdb'): Promise<CdrDatabase> {
  const url = new URL(MARIADB_URL);
  const host = url.hostname;
  const port = Number(url.port || 3306);
  const admin = await mysql.createConnection({ host, port, user: decodeURIComponent(url.username), password: decodeURIComponent(url.password), multipleStatements: false, dateStrings: true });
  const database = uniqueName(prefix).toLowerCase();
  const user = `ro_${randomBytes(5).toString('hex')}`;
  const password = randomBytes(12).toString('base64url');
  await admin.query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.query(`USE \`${database}\``);
  await admin.query(FREEPBX_CDR_TABLE);
  await admin.query(FREEPBX_CEL_TABLE);
  await admin.query(`CREATE USER '${user}'@'127.0.0.1' IDENTIFIED BY ?`, [password]);
  await admin.query(`GRANT SELECT ON \`${database}\`.* TO '${user}'@'127.0.0.1'`);
  const insert = async (table: string, rows: Record<string, unknown>[]) => {
    for (const r of rows) {
      const cols = Object.keys(r);
      await admin.query(`INSERT INTO \`${database}\`.\`${table}\` (${cols.map((c) => `\`${c}\``).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`, cols.map((c) => r[c]));
    }
  };
  const celDefaults = { cid_name: '', cid_num: '', cid_ani: '', cid_rdnis: '', cid_dnid: '', exten: '', context: '', appname: '', appdata: '', amaflags: 3, accountcode: '', peer: '', userdeftype: '', extra: '' };
  return {
    host,
    port,
    database,
    user,
    password,
    admin,
    insertCdr: (rows) => insert('cdr', rows.map((r) => ({ amaflags: 3, ...r }))),
    insertCel: (rows) => insert('cel', rows.map((r) => ({ ...celDefaults, ...r }))),
    async drop() {
      await admin.query(`DROP USER IF EXISTS '${user}'@'127.0.0.1'`).catch(() => undefined);
      await admin.query(`DROP DATABASE IF EXISTS \`${database}\``).catch(() => undefined);
      await admin.end().catch(() => undefined);
    },
  };
}
