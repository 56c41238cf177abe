import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { fixedClock } from '../src/adapters/clock.ts';
import { buildAccessServices } from '../src/app.ts';
import { loadAuthSettings } from '../src/config.ts';
import { createDb, type Db } from '../src/db/connect.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { canonicalJson, eventHash, GENESIS_HASH } from '../src/domain/audit-chain.ts';
import { NO_ORIGIN, type SystemPrincipal } from '../src/domain/principal.ts';
import { createTestDatabase } from '../../test-support/src/env.ts';

const system: SystemPrincipal = { kind: 'system', name: 'test', origin: NO_ORIGIN };

type Chain = { db: Db; url: string; services: ReturnType<typeof buildAccessServices>; close(): Promise<void> };

/** A database of its own holding `n` varied events. */
async function freshChain(n: number, poolSize = 4): Promise<Chain> {
  const database = await createTestDatabase('audit');
  const db = createDb(database.url, poolSize);
  await migrateToLatest(db);
  const clock = fixedClock(new Date('2026-11-24T00:00:00.000Z'));
  const services = buildAccessServices({ db, clock, auth: loadAuthSettings({}) });
  for (let i = 1; i <= n; i++) {
    clock.advance(1234);
    await services.audit.record(
      { kind: 'user', userId: '00000000-0000-4000-8000-000000000001', login: 'sato', role: 'security', siteIds: [], sessionId: 's', origin: { ip: '192.0.2.7', userAgent: 'Mozilla/5.0', requestId: `req-${i}`, purpose: i % 3 === 0 ? '事案 #42 の確認' : null } },
      {
        action: i % 2 ? 'footage.playlist' : 'camera.list',
        targetType: 'camera',
        targetId: `cam-${i}`,
        siteId: '00000000-0000-4000-8000-0000000000aa',
        details: { i, nested: { z: [1, 2.5, 'レジ1'], a: true, none: null }, text: 'tab\there "quoted" \\ back' },
      },
    );
  }
  return {
    db,
    url: database.url,
    services,
    async close() {
      await db.destroy();
      await database.drop();
    },
  };
}

/** Tampering as someone with the table owner's rights: the append-only trigger is switched off first. */
async function tamper(db: Db, statements: ReturnType<typeof sql>[]) {
  await db.transaction().execute(async (trx) => {
    await sql`ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_update`.execute(trx);
    for (const s of statements) await s.execute(trx);
    await sql`ALTER TABLE audit_event ENABLE TRIGGER audit_event_no_update`.execute(trx);
  });
}

const verify = (c: Chain, anchors: { id: string; hash: string }[] = []) => c.services.audit.verify(system, anchors);

describe('audit hash chain', () => {
  test('canonical JSON sorts keys at every level and ignores insertion order', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [3, { y: 1, x: 2 }], c: null } }), '{"a":{"c":null,"d":[3,{"x":2,"y":1}]},"b":1}');
    assert.equal(canonicalJson({ x: 1, y: 2 }), canonicalJson({ y: 2, x: 1 }));
    assert.throws(() => canonicalJson({ n: Number.NaN }), /finite/);
    const e = { id: '1', occurredAt: new Date(0), actorType: 'system' as const, actorId: 'x', actorLabel: null, actorRole: null, action: 'a.b', targetType: null, targetId: null, siteId: null, ip: null, userAgent: null, purpose: null, requestId: null, outcome: 'success' as const, details: { b: 1, a: 2 } };
    assert.equal(eventHash(e, GENESIS_HASH), eventHash({ ...e, details: { a: 2, b: 1 } }, GENESIS_HASH));
    assert.notEqual(eventHash(e, GENESIS_HASH), eventHash({ ...e, action: 'a.c' }, GENESIS_HASH));
    assert.notEqual(eventHash(e, GENESIS_HASH), eventHash(e, '1'.repeat(64)));
  });

  describe('an intact chain', () => {
    let c: Chain;
    before(async () => {
      c = await freshChain(12);
    });
    after(() => c.close());

    test('verifies, with gapless ids, each linked to the previous hash, and the head on the last event', async () => {
      const r = await verify(c);
      assert.equal(r.ok, true, JSON.stringify(r.firstBroken));
      assert.equal(r.checked, 12);
      const rows = await c.db.selectFrom('auditEvent').select(['id', 'prevHash', 'hash']).orderBy('id').execute();
      assert.deepEqual(rows.slice(0, 12).map((x) => x.id), Array.from({ length: 12 }, (_, i) => String(i + 1)));
      assert.equal(rows[0]!.prevHash.toString('hex'), GENESIS_HASH);
      for (let i = 1; i < 12; i++) assert.deepEqual(rows[i]!.prevHash, rows[i - 1]!.hash);
      // The verification itself was recorded as event 13 and chains on.
      const last = rows[rows.length - 1]!;
      assert.equal(last.id, '13');
      assert.equal((await verify(c)).ok, true);
    });

    test('text PostgreSQL cannot store (NUL, lone surrogates) is replaced before hashing, so the stored row still verifies', async () => {
      await c.services.audit.record(system, { action: 'test.odd', targetId: 'a\u0000b', details: { s: 'x\uD800y', ['k\u0000']: 'v' } });
      const r = await verify(c);
      assert.equal(r.ok, true, JSON.stringify(r.firstBroken));
    });

    test('the database refuses UPDATE, DELETE and TRUNCATE of audit events in normal operation', async () => {
      await assert.rejects(sql`UPDATE audit_event SET action = 'x' WHERE id = 1`.execute(c.db), /append-only/);
      await assert.rejects(sql`DELETE FROM audit_event WHERE id = 1`.execute(c.db), /append-only/);
      await assert.rejects(sql`TRUNCATE audit_event`.execute(c.db), /append-only/);
    });
  });

  describe('tampering directly in PostgreSQL is found at the right event', () => {
    let c: Chain;
    before(async () => {
      c = await freshChain(10);
    });
    after(() => c.close());

    // Each case tampers, verifies, then restores the original rows and checks the chain is whole again.
    async function withTamper(statements: ReturnType<typeof sql>[], check: (r: Awaited<ReturnType<typeof verify>>) => void) {
      const headBefore = await c.db.selectFrom('auditChainHead').selectAll().executeTakeFirstOrThrow();
      const original = await c.db.selectFrom('auditEvent').selectAll().orderBy('id').execute();
      await tamper(c.db, statements);
      const r = await c.services.audit.verify(system); // (appends its own audit.verify event after the walk)
      check(r);
      await tamper(c.db, [sql`DELETE FROM audit_event`]);
      for (const row of original) await c.db.insertInto('auditEvent').values({ ...row, details: JSON.stringify(row.details) }).execute();
      await c.db.updateTable('auditChainHead').set({ lastId: headBefore.lastId, lastHash: headBefore.lastHash }).execute();
      const again = await c.services.audit.verify(system);
      assert.equal(again.ok, true, `restored chain verifies: ${JSON.stringify(again.firstBroken)}`);
      // Drop the two verification events just appended so every case starts from the same chain.
      await tamper(c.db, [sql`DELETE FROM audit_event WHERE id > ${headBefore.lastId}`]);
      await c.db.updateTable('auditChainHead').set({ lastId: headBefore.lastId, lastHash: headBefore.lastHash }).execute();
    }

    test('an edited field (the action of event 5)', async () => {
      await withTamper([sql`UPDATE audit_event SET action = 'camera.list' WHERE id = 5 AND action <> 'camera.list'`, sql`UPDATE audit_event SET target_id = 'cam-x' WHERE id = 5`], (r) => {
        assert.equal(r.ok, false);
        assert.equal(r.firstBroken?.id, '5');
        assert.equal(r.firstBroken?.reason, 'hash_mismatch');
        assert.equal(r.lastGood.id, '4');
      });
    });

    test('an edited time (event 3 moved one second)', async () => {
      await withTamper([sql`UPDATE audit_event SET occurred_at = occurred_at + interval '1 second' WHERE id = 3`], (r) => {
        assert.equal(r.firstBroken?.id, '3');
        assert.equal(r.firstBroken?.reason, 'hash_mismatch');
      });
    });

    test('an edited detail inside the JSON (event 8)', async () => {
      await withTamper([sql`UPDATE audit_event SET details = jsonb_set(details, '{nested,a}', 'false') WHERE id = 8`], (r) => {
        assert.equal(r.firstBroken?.id, '8');
        assert.equal(r.firstBroken?.reason, 'hash_mismatch');
      });
    });

    test('an edited event whose own hash was recomputed breaks the next link (event 6 → found at 7)', async () => {
      const row = await c.db.selectFrom('auditEvent').selectAll().where('id', '=', '6').executeTakeFirstOrThrow();
      const forged = {
        id: '6',
        occurredAt: row.occurredAt,
        actorType: row.actorType,
        actorId: 'someone-else',
        actorLabel: row.actorLabel,
        actorRole: row.actorRole,
        action: row.action,
        targetType: row.targetType,
        targetId: row.targetId,
        siteId: row.siteId,
        ip: row.ip,
        userAgent: row.userAgent,
        purpose: row.purpose,
        requestId: row.requestId,
        outcome: row.outcome,
        details: row.details,
      };
      const h = Buffer.from(eventHash(forged, row.prevHash.toString('hex')), 'hex');
      await withTamper([sql`UPDATE audit_event SET actor_id = 'someone-else', hash = ${h} WHERE id = 6`], (r) => {
        assert.equal(r.firstBroken?.id, '7');
        assert.equal(r.firstBroken?.reason, 'prev_hash_mismatch');
        assert.equal(r.lastGood.id, '6');
      });
    });

    test('a deleted event (event 4 → the link of 5 is broken, 4 is missing)', async () => {
      await withTamper([sql`DELETE FROM audit_event WHERE id = 4`], (r) => {
        assert.equal(r.firstBroken?.id, '5');
        assert.equal(r.firstBroken?.reason, 'missing_event');
        assert.equal(r.firstBroken?.expectedId, '4');
        assert.equal(r.lastGood.id, '3');
      });
    });

    test('the first event deleted', async () => {
      await withTamper([sql`DELETE FROM audit_event WHERE id = 1`], (r) => {
        assert.equal(r.firstBroken?.id, '2');
        assert.equal(r.firstBroken?.expectedId, '1');
      });
    });

    test('the last event deleted (a cut tail is caught by the chain head)', async () => {
      await withTamper([sql`DELETE FROM audit_event WHERE id = 10`], (r) => {
        assert.equal(r.firstBroken?.id, '10');
        assert.equal(r.firstBroken?.reason, 'head_mismatch');
        assert.equal(r.lastGood.id, '9');
      });
    });

    test('two events swapped by id (3 and 7 reordered)', async () => {
      await withTamper(
        [sql`UPDATE audit_event SET id = -3 WHERE id = 3`, sql`UPDATE audit_event SET id = 3 WHERE id = 7`, sql`UPDATE audit_event SET id = 7 WHERE id = -3`],
        (r) => {
          assert.equal(r.firstBroken?.id, '3');
          assert.equal(r.firstBroken?.reason, 'prev_hash_mismatch');
          assert.equal(r.lastGood.id, '2');
        },
      );
    });

    test('two events swapped in content, ids kept (4 and 5 exchange every column)', async () => {
      const cols = sql.raw(
        ['occurred_at', 'actor_type', 'actor_id', 'actor_label', 'actor_role', 'action', 'target_type', 'target_id', 'site_id', 'ip', 'user_agent', 'purpose', 'request_id', 'outcome', 'details', 'prev_hash', 'hash']
          .map((col) => `${col} = o.${col}`)
          .join(', '),
      );
      await withTamper([sql`UPDATE audit_event e SET ${cols} FROM (SELECT * FROM audit_event WHERE id IN (4, 5)) o WHERE e.id IN (4, 5) AND o.id <> e.id`], (r) => {
        assert.equal(r.firstBroken?.id, '4');
        assert.equal(r.lastGood.id, '3');
      });
    });

    test('a chain rewritten from event 6 with every hash and the head recomputed passes on its own but fails an anchor taken before', async () => {
      const anchor = await c.db.selectFrom('auditEvent').select(['id', 'hash']).where('id', '=', '8').executeTakeFirstOrThrow();
      const rows = await c.db.selectFrom('auditEvent').selectAll().where('id', '>=', '6').where('id', '<=', '10').orderBy('id').execute();
      let prev = rows[0]!.prevHash.toString('hex');
      const statements = [];
      for (const row of rows) {
        const f = {
          id: String(row.id),
          occurredAt: row.occurredAt,
          actorType: row.actorType,
          actorId: row.actorId,
          actorLabel: row.actorLabel,
          actorRole: row.actorRole,
          action: row.id === '6' ? 'rewritten.history' : row.action,
          targetType: row.targetType,
          targetId: row.targetId,
          siteId: row.siteId,
          ip: row.ip,
          userAgent: row.userAgent,
          purpose: row.purpose,
          requestId: row.requestId,
          outcome: row.outcome,
          details: row.details,
        };
        const h = eventHash(f, prev);
        statements.push(sql`UPDATE audit_event SET action = ${f.action}, prev_hash = ${Buffer.from(prev, 'hex')}, hash = ${Buffer.from(h, 'hex')} WHERE id = ${f.id}`);
        prev = h;
      }
      statements.push(sql`UPDATE audit_chain_head SET last_hash = ${Buffer.from(prev, 'hex')}`);
      const anchors = [{ id: String(anchor.id), hash: anchor.hash.toString('hex') }];
      await tamper(c.db, statements);
      const alone = await verify(c);
      assert.equal(alone.ok, true, 'a full rewrite is self-consistent: anchors outside the database are what catch it');
      const anchored = await verify(c, anchors);
      assert.equal(anchored.ok, false);
      assert.equal(anchored.firstBroken?.id, '8');
      assert.equal(anchored.firstBroken?.reason, 'anchor_mismatch');
    });
  });

  test('concurrent appends from two connection pools (two replicas) keep one valid chain', async () => {
    const c = await freshChain(0, 8);
    const other = createDb(c.url, 8); // a second process's pool on the same database
    const replica2 = buildAccessServices({ db: other, clock: fixedClock(new Date('2026-11-24T01:00:00Z')), auth: loadAuthSettings({}) });
    try {
      const writes = Array.from({ length: 80 }, (_, i) => (i % 2 ? replica2 : c.services).audit.record(system, { action: 'test.concurrent', targetId: String(i), details: { i } }));
      const results = await Promise.all(writes);
      const ids = results.map((e) => Number(e.id)).sort((a, b) => a - b);
      assert.deepEqual(ids, Array.from({ length: 80 }, (_, i) => i + 1), 'every append got its own position, no gaps, no duplicates');
      const r = await verify(c);
      assert.equal(r.ok, true, JSON.stringify(r.firstBroken));
      assert.equal(r.checked, 80);
    } finally {
      await other.destroy();
      await c.close();
    }
  });
});
