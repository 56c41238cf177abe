/** The agent config file's `pbx` section (validated with zod; the agent's config loader in edge-agent/src/config.ts applies env overrides). */
import { z } from 'zod';
import { isValidZone } from './time.ts';

const zone = z.string().refine(isValidZone, { message: 'not an IANA time zone known to this Node (e.g. Asia/Tokyo)' });
const encoding = z.enum(['auto', 'utf-8', 'shift_jis', 'cp932']);
const seconds = z.number().positive();

const common = {
  /** The PBX's name, unique within the site; the first half of every callKey (`<id>:<linkedid>`). */
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'letters, digits, . _ - (max 63)'),
  /** IANA zone the PBX writes naive times in (cross-checked against Asterisk uniqueids per call). */
  timezone: zone.default('Asia/Tokyo'),
  /** Zones to try, after UTC, when the uniqueid contradicts `timezone` (else a fixed Etc/GMT±N zone is used). */
  zoneCandidates: z.array(zone).default([]),
  /** Country calling code for the E.164 copy of national numbers (0X… → +<cc>X…). */
  countryCode: z.string().regex(/^[1-9][0-9]{0,2}$/).default('81'),
  /** Nothing changed for this long (rows, recording sizes) before a call is sealed. */
  quietSeconds: seconds.default(60),
  /** How often the adapter looks at its files. */
  pollSeconds: seconds.default(2),
  /** A call whose CDR is in but no recording matched waits this long, then is sealed with flag `no_recording`. */
  recordingWaitSeconds: seconds.default(300),
  /** A closed recording that no CDR claims waits this long, then is sealed alone with flag `no_cdr`. */
  cdrWaitSeconds: seconds.default(900),
  /** A recording whose WAV header never became final (PBX crashed) counts as closed after this long unchanged. */
  staleRecordingSeconds: seconds.default(600),
  /** Sealed calls are watched this long for late rows and appended recordings (each change → a new version). */
  lateChangeWindowHours: seconds.default(48),
  /** Sealed versions are remembered this long (a change after it would restart at version 1). */
  ledgerRetentionDays: seconds.default(400),
  /** First start only: ignore recordings (and CDR rows) older than this; null = take everything there is. */
  backfillHours: z.number().nonnegative().nullable().default(24),
  /** Extension → operator display name (CDR files do not carry the answering phone's name). */
  operators: z.record(z.string(), z.string()).default({}),
  /** What the site asserts about its recording notice when no PBX signal says (lowest-priority evidence). */
  noticeAssumed: z.enum(['yes', 'no']).nullable().default(null),
};

/**
 * Optional Asterisk Manager Interface connection beside the files: calls appear at the centre live (in progress,
 * ended) before any CDR row exists. The files stay the record; a sealed call replaces its live view.
 */
export const amiConfigSchema = z.strictObject({
  host: z.string().min(1).max(255),
  port: z.number().int().min(1).max(65535).default(5038),
  /** An AMI user from manager.conf (read = call,cdr,user is enough; no write permission needed). */
  username: z.string().min(1).max(100),
  secret: z.string().min(1).max(200),
  /** The Login `Events` mask: which event classes the PBX sends (VarSet/Newexten noise stays at the PBX). */
  events: z.array(z.enum(['call', 'cdr', 'user', 'agent', 'reporting', 'dialplan', 'system'])).min(1).default(['call', 'user', 'cdr']),
  /** Reconnect after a drop or a refused login: capped exponential backoff with full jitter. */
  reconnect: z.strictObject({ baseMs: z.number().int().positive().default(1000), capMs: z.number().int().positive().default(60_000) }).prefault({}),
  /** A connection that does not answer the login in this long is dropped and retried. */
  loginTimeoutMs: z.number().int().positive().default(10_000),
});
export type AmiConfig = z.infer<typeof amiConfigSchema>;

export const asteriskFilesConfigSchema = z.strictObject({
  adapter: z.literal('asterisk-files'),
  ...common,
  /** MixMonitor folder, e.g. /var/spool/asterisk/monitor (YYYY/MM/DD sub-folders or flat). */
  monitorDir: z.string().min(1),
  /** cdr_csv master file, e.g. /var/log/asterisk/cdr-csv/Master.csv. */
  cdrCsv: z.string().min(1),
  cdrEncoding: encoding.default('auto'),
  /** Optional cdr_custom JSON-lines file (recordingfile, notice variable, linkedid). */
  cdrCustom: z.string().min(1).nullable().default(null),
  /** Optional cel_custom CSV file (STREAM_BEGIN of the notice sound, user events, LINKEDID_END). */
  cel: z.string().min(1).nullable().default(null),
  /** Sound file name of the recording notice as CEL reports it, e.g. `custom/notice`. */
  noticeSound: z.string().min(1).nullable().default(null),
  /** CDR variable / userfield token / CEL user event carrying the notice result (`rec_notice=played`). */
  noticeVariable: z.string().min(1).default('rec_notice'),
  /** First start only: begin at the end of Master.csv instead of reading its history (backfillHours still applies). */
  startAtEnd: z.boolean().default(false),
  /** dcontext values that mean "came in from outside". */
  inboundContexts: z.array(z.string()).default(['from-trunk', 'from-pstn', 'from-did', 'ext-did', 'from-external', 'from-sip-external', 'incoming', 'inbound']),
  /** Channel endpoints that are trunks, never operators (e.g. `trunk`, `ntt-hikari`). */
  trunkEndpoints: z.array(z.string()).default([]),
  /** Endpoint names that are operator extensions (besides those listed in `operators`). */
  extensionPattern: z.string().default('^[0-9]{2,6}$'),
  /** The whole monitor tree is re-listed this often (the current days' folders every poll). */
  fullScanSeconds: seconds.default(300),
  /** Live calls over AMI (docs/pbx-ami.md); null = files only. */
  ami: amiConfigSchema.nullable().default(null),
});

const columnRef = z.union([z.string().min(1), z.number().int().nonnegative()]);

export const dropFolderConfigSchema = z.strictObject({
  adapter: z.literal('drop-folder'),
  ...common,
  /** Folder where another system drops `<name>.<audio>` + `<name>.json` pairs and/or CSV manifests. */
  dropDir: z.string().min(1),
  /** How long an audio file waits for its sidecar/manifest row, and a sidecar for its audio. */
  pairWaitSeconds: seconds.default(900),
  manifest: z
    .strictObject({
      /** File names (in dropDir) that are manifests: a glob with `*` and `?`. */
      pattern: z.string().min(1).default('*.csv'),
      encoding: encoding.default('auto'),
      delimiter: z.string().length(1).default(','),
      /** Does the first record name the columns? When false, columns are referenced by 0-based index. */
      header: z.boolean().default(true),
      /** Our field → the manifest's column (header name or 0-based index). `start` and one of `recording`/`callId` are required. */
      columns: z.strictObject({
        callId: columnRef.optional(),
        start: columnRef,
        answer: columnRef.optional(),
        end: columnRef.optional(),
        durationS: columnRef.optional(),
        talkS: columnRef.optional(),
        callerNumber: columnRef.optional(),
        callerName: columnRef.optional(),
        calledNumber: columnRef.optional(),
        operatorExtension: columnRef.optional(),
        operatorName: columnRef.optional(),
        direction: columnRef.optional(),
        disposition: columnRef.optional(),
        recording: columnRef.optional(),
        notice: columnRef.optional(),
      }),
    })
    .nullable()
    .default(null),
});

/**
 * The `freepbx` adapter (freepbx-source.ts, docs/pbx-freepbx.md): CDR and CEL rows from FreePBX's MariaDB
 * (`asteriskcdrdb.cdr`, `asteriskcdrdb.cel`) through a read-only account, recordings from its monitor folder, correlated
 * exactly as the asterisk-files adapter does.
 */
export const freepbxConfigSchema = z.strictObject({
  adapter: z.literal('freepbx'),
  ...common,
  /** FreePBX's MixMonitor folder (YYYY/MM/DD sub-folders). */
  monitorDir: z.string().min(1).default('/var/spool/asterisk/monitor'),
  database: z.strictObject({
    host: z.string().min(1).max(255).default('127.0.0.1'),
    port: z.number().int().min(1).max(65535).default(3306),
    /** A unix socket instead of host/port (e.g. /var/lib/mysql/mysql.sock when the agent runs on the PBX). */
    socketPath: z.string().min(1).nullable().default(null),
    /** The read-only account (GRANT SELECT ON asteriskcdrdb.* only). */
    user: z.string().min(1).max(80),
    /** File holding the password (first line; mode 0600). Give this or passwordEnv, never the password itself. */
    passwordFile: z.string().min(1).nullable().default(null),
    /** Environment variable holding the password. */
    passwordEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name').nullable().default(null),
    database: z.string().regex(/^[A-Za-z0-9_$]{1,64}$/, 'a MariaDB database name').default('asteriskcdrdb'),
    cdrTable: z.string().regex(/^[A-Za-z0-9_$]{1,64}$/, 'a MariaDB table name').default('cdr'),
    /** null: do not read CEL (the notice then comes from the userfield or noticeAssumed). */
    celTable: z.string().regex(/^[A-Za-z0-9_$]{1,64}$/, 'a MariaDB table name').nullable().default('cel'),
    connectTimeoutMs: z.number().int().positive().default(10_000),
  })
    .refine((d) => (d.passwordFile === null) !== (d.passwordEnv === null), { message: 'give exactly one of passwordFile or passwordEnv', path: ['passwordFile'] }),
  /**
   * CDR rows are written when a call leg ends but are ordered by `calldate` (its start): each poll re-reads the rows
   * that ended within this many minutes of the latest end already read (duplicates are skipped by uniqueid#sequence).
   */
  cdrOverlapMinutes: z.number().positive().max(24 * 60).default(15),
  /** A call longer than this could be missed (the index range scanned on `calldate` each poll). */
  maxCallHours: z.number().positive().max(72).default(12),
  /** Rows per query page. */
  batchRows: z.number().int().min(10).max(10_000).default(500),
  /** Sound file name of the recording notice as CEL reports it, e.g. `custom/notice`. */
  noticeSound: z.string().min(1).nullable().default(null),
  /** userfield token / CEL user event carrying the notice result (`rec_notice=played`). */
  noticeVariable: z.string().min(1).default('rec_notice'),
  /** dcontext values that mean "came in from outside" (FreePBX: from-trunk, from-pstn, from-did-direct, ext-did). */
  inboundContexts: z.array(z.string()).default(['from-trunk', 'from-pstn', 'from-did', 'from-did-direct', 'ext-did', 'from-external', 'from-sip-external']),
  /** Channel endpoints that are trunks, never operators. */
  trunkEndpoints: z.array(z.string()).default([]),
  /** Endpoint names that are operator extensions (besides those listed in `operators`). */
  extensionPattern: z.string().default('^[0-9]{2,6}$'),
  /** The whole monitor tree is re-listed this often (the current days' folders every poll). */
  fullScanSeconds: seconds.default(300),
});

export const pbxConfigSchema = z.discriminatedUnion('adapter', [asteriskFilesConfigSchema, dropFolderConfigSchema, freepbxConfigSchema]);

export type PbxConfig = z.infer<typeof pbxConfigSchema>;
export type PbxConfigInput = z.input<typeof pbxConfigSchema>;
export type AsteriskFilesConfig = z.infer<typeof asteriskFilesConfigSchema>;
export type DropFolderConfig = z.infer<typeof dropFolderConfigSchema>;
export type FreepbxConfig = z.infer<typeof freepbxConfigSchema>;
