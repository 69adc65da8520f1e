// docs/sql.md "Reading the numbers": every query of the section runs on the fixture sweep
// (its name in place of 'demo') and returns rows, so the docs cannot drift from the views.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../common/config/paths.ts';
import { freshDatabase } from '../helpers/db.ts';
import type { TestDatabase } from '../helpers/db.ts';
import { FIXTURE_SWEEP, insertFixtureSweep } from './fixture.ts';

function sectionQueries(): string[] {
  const doc = readFileSync(join(REPO_ROOT, 'docs', 'sql.md'), 'utf8');
  const start = doc.indexOf('## Reading the numbers');
  const end = doc.indexOf('\n## ', start + 1);
  assert.ok(start >= 0, 'docs/sql.md has a section "Reading the numbers"');
  const section = doc.slice(start, end);
  return [...section.matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1]!.replace(/^\s+/gm, ' ').trim());
}

describe('docs/sql.md "Reading the numbers"', () => {
  let t: TestDatabase;
  before(async () => {
    t = await freshDatabase('reading_numbers');
    await insertFixtureSweep(t.sql);
  });
  after(async () => {
    await t?.drop();
  });

  it('has a query for every pitfall, and each runs and returns rows', async () => {
    const queries = sectionQueries();
    assert.ok(queries.length >= 7, `${queries.length} queries`);
    for (const q of queries) {
      const sql = q.replaceAll("'demo'", `'${FIXTURE_SWEEP.name}'`);
      const r = await t.sql.query(sql);
      assert.ok(r.rows.length > 0, `no rows from:\n${sql}`);
    }
  });
});
