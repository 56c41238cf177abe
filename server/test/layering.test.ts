/**
 * Dependencies point one way: routes → services → repositories/adapters, with domain/ underneath everything. The
 * HTTP layer (http/, routes/, app.ts) may import from the layers below; nothing below imports from it. A service
 * error is a DomainError (domain/errors.ts); http/errors.ts alone gives it a status.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src');

/** Relative imports of every .ts file under `dir`, resolved to paths inside src/. */
function importsUnder(dir: string): { file: string; target: string }[] {
  const out: { file: string; target: string }[] = [];
  for (const e of readdirSync(path.join(SRC, dir), { withFileTypes: true, recursive: true })) {
    if (!e.isFile() || !e.name.endsWith('.ts')) continue;
    const abs = path.join(e.parentPath, e.name);
    const text = readFileSync(abs, 'utf8');
    for (const m of text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'(\.[^']+)'/gm)) {
      out.push({ file: path.relative(SRC, abs), target: path.relative(SRC, path.resolve(path.dirname(abs), m[1]!)) });
    }
  }
  return out;
}

const httpLayer = (target: string) => target === 'app.ts' || target.startsWith('http/') || target.startsWith('routes/');

for (const layer of ['domain', 'services', 'repositories', 'adapters', 'jobs', 'db']) {
  test(`${layer}/ imports nothing from the HTTP layer`, () => {
    assert.ok(readdirSync(path.join(SRC, layer)).some((f) => f.endsWith('.ts')), `no files under ${layer}/`);
    assert.deepEqual(importsUnder(layer).filter((i) => httpLayer(i.target)), []);
  });
}

test('the scan sees the imports that are there', () => {
  assert.ok(importsUnder('routes').some((i) => i.target.startsWith('http/')), 'routes import http/');
  assert.ok(importsUnder('services').some((i) => i.target === 'domain/errors.ts'), 'services import domain/errors.ts');
  assert.ok(importsUnder('http').some((i) => i.target === 'domain/errors.ts'), 'http/ imports domain/errors.ts');
});
