// Bad input stopped with a coded error that names it, never INTERNAL: the sweep commands on a
// database that was never migrated say SCHEMA_OUTDATED (as `launch` does), and a directory
// given where a file is expected (the spec, a JSONL dataset, --token-file, tokenize --file) is
// named as such instead of surfacing EISDIR.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../common/config/paths.ts';
import { emptyDatabase } from '../helpers/db.ts';
import { ensureTestStack } from '../helpers/stack.ts';

function faithsweep(env: Record<string, string>, ...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'faithsweep.js'), ...args], { encoding: 'utf8', cwd: REPO_ROOT, env: { ...process.env, FAITHSWEEP_DEBUG: '', ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('coded errors for bad input', () => {
  let db: Awaited<ReturnType<typeof emptyDatabase>>;
  let env: Record<string, string>;
  let dir: string;
  before(async () => {
    db = await emptyDatabase('unmigrated');
    env = { DATABASE_URL: db.url, NATS_URL: (await ensureTestStack()).natsUrl, TEMPORAL_ADDRESS: '127.0.0.1:1' };
    dir = mkdtempSync(join(tmpdir(), 'fs-input-errors-'));
  });
  after(async () => {
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('names a database URL that is not a postgresql:// URL (BAD_CONFIG) instead of a DNS error', () => {
    for (const [extra, args, variable] of [
      [{ DATABASE_URL: 'not-a-url' }, ['status', 'demo'], 'DATABASE_URL'],
      [{ DATABASE_URL: 'mysql://x@h/db' }, ['list'], 'DATABASE_URL'],
      [{ FAITHSWEEP_QUERY_DATABASE_URL: 'nope' }, ['query', 'SELECT 1'], 'FAITHSWEEP_QUERY_DATABASE_URL'],
    ] as [Record<string, string>, string[], string][]) {
      const r = faithsweep({ ...env, ...extra }, ...args);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`^error\\[BAD_CONFIG\\]: ${variable} must be a postgresql:// URL \\(got '`), args.join(' '));
      assert.doesNotMatch(r.stderr, /ENOTFOUND|\n\s+at /);
    }
  });

  it('says SCHEMA_OUTDATED (run db migrate) for list, status and watch before the database is migrated', () => {
    for (const args of [['list'], ['status', 'demo'], ['watch', 'demo', '--no-wait'], ['list', '--json']]) {
      const r = faithsweep(env, ...args);
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^error\[SCHEMA_OUTDATED\]: the database schema is not up to date: \d+ migration\(s\) pending/, args.join(' '));
      assert.match(r.stderr, /hint: run 'npx faithsweep db migrate'/);
      assert.doesNotMatch(r.stderr, /INTERNAL/);
    }
  });

  it('refuses FAITHSWEEP_AGENT_TOKEN in the demo before starting anything', () => {
    const home = join(dir, 'demo-home');
    const r = faithsweep({ ...env, FAITHSWEEP_HOME: home, FAITHSWEEP_AGENT_TOKEN: 'x'.repeat(32) }, 'demo');
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^error\[BAD_CONFIG\]: the demo starts its agents with the local token file; unset FAITHSWEEP_AGENT_TOKEN/);
    assert.doesNotMatch(r.stderr, /starting the local stack/, 'no set-up step may run');
    assert.equal(existsSync(home), false, 'nothing written under FAITHSWEEP_HOME');
  });

  it('names a directory given as the spec file', () => {
    const r = faithsweep(env, 'plan', 'examples');
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^error\[BAD_ARGS\]: spec file examples is a directory, not a YAML file/);
    assert.doesNotMatch(r.stderr, /EISDIR|INTERNAL/);
  });

  it('names a directory given as the JSONL dataset, at its spec line', () => {
    mkdirSync(join(dir, 'data.jsonl'));
    const spec = join(dir, 'dir-dataset.yaml');
    writeFileSync(spec, 'name: dir-dataset\nmodels: [arith-cot]\ndataset: {jsonl: data.jsonl}\ngrid: {positions: [0], steps: [0], kinds: [probe]}\n');
    const r = faithsweep(env, 'plan', spec);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^error\[BAD_SPEC\]: .*dir-dataset\.yaml:3:\d+: dataset\.jsonl: .*data\.jsonl is a directory, not a JSONL file/);
    assert.doesNotMatch(r.stderr, /EISDIR|INTERNAL/);
  });

  it('names a directory given as --token-file or as tokenize --file', () => {
    const token = faithsweep(env, 'worker', '--token-file', dir);
    assert.equal(token.code, 2, token.stderr);
    assert.match(token.stderr, /^error\[BAD_ARGS\]: --token-file .* is a directory, not a file/);
    const tok = faithsweep(env, 'tokenize', '--model', 'arith-cot', '--file', dir);
    assert.equal(tok.code, 2, tok.stderr);
    assert.match(tok.stderr, /^error\[BAD_ARGS\]: file .* is a directory, not a file of texts/);
  });
  it('checks an output file before any work: a directory, an empty name, a missing directory, a format that is not the extension\'s', () => {
    const cases: [string[], RegExp][] = [
      [['report', 'demo', '--out', dir], /^error\[BAD_ARGS\]: --out .* is a directory/],
      [['report', 'demo', '--out', ''], /^error\[BAD_ARGS\]: --out is empty/],
      [['report', 'demo', '--out', join(dir, 'no-such-dir', 'r.html')], /^error\[BAD_ARGS\]: --out .*: the directory .*no-such-dir does not exist/],
      [['export', 'demo', '--out', join(dir, 'x.txt')], /^error\[BAD_ARGS\]: cannot tell the format from --out .*x\.txt/],
      [['export', 'demo', '--format', 'parquet', '--out', join(dir, 'x.csv')], /^error\[BAD_ARGS\]: --format parquet does not match --out/],
    ];
    for (const [args, want] of cases) {
      const r = faithsweep(env, ...args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, want, args.join(' '));
      assert.doesNotMatch(r.stderr, /EISDIR|INTERNAL|SCHEMA_OUTDATED/, 'refused before the database is read');
    }
  });

  it('takes SQL that opens with a -- comment as the query, and names an unknown option plainly', () => {
    const r = faithsweep(env, 'query', '-- a comment\nSELECT 1 AS one');
    assert.doesNotMatch(r.stderr, /BAD_ARGS|Unknown option/, r.stderr);
    const u = faithsweep(env, 'list', '--frob');
    assert.equal(u.code, 2);
    assert.match(u.stderr, /^error\[BAD_ARGS\]: unknown option '--frob'\n\s+hint: run 'faithsweep list --help'/);
  });
});
