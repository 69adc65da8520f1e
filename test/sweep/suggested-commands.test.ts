// What the product suggests must be right: on a real finished sweep (a small copy of the demo,
// named demo, on real agents, worker, Temporal, PostgreSQL and NATS), every command that
// `launch` prints and the demo's "Next:" list suggests, every `npx faithsweep` command of
// README.md and docs/*.md, and every SQL statement of their sql blocks runs and succeeds; the
// suggested queries return ordered rows without pooled `all` rows mixed in, and `status` of the
// finished sweep shows no current rate.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { REPO_ROOT } from '../../common/config/paths.ts';
import type { Cluster } from './cluster.ts';
import { requirePrerequisites } from '../helpers/prerequisites.ts';
import { testTools } from '../helpers/stack.ts';
import { startCluster, sweepState, unfinishedUnits, until } from './cluster.ts';
import { demoNextSteps } from '../../orchestrator/cli/commands/next-steps.ts';
import { dispatch } from '../../common/cli/command.ts';
import { contextFromEnv } from '../../common/cli/context.ts';
import { formatError } from '../../common/errors.ts';
import { treeFor } from '../../bin/tree.ts';
import { documentedCommands, documentedSql, shellWords } from '../helpers/suggested-commands.ts';

/**
 * Commands the docs suggest that this suite does not run as written, and why. Their flags are
 * still checked (with --help, which parses them first), and each is exercised elsewhere: the
 * suite itself starts agents and a worker and launches the sweep, and sweep-e2e cancels and resumes.
 */
/** Runs the CLI's dispatch on `argv` with a context built from `env`, collecting its output as main.ts would print it. */
async function inProcess(env: Record<string, string>, argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const ctx = { ...contextFromEnv({ ...process.env, ...env }), out: (l: string) => void out.push(l), err: (l: string) => void err.push(l) };
  let code: number;
  try {
    code = await dispatch(await treeFor(argv), argv, ctx);
  } catch (e) {
    err.push(formatError(e));
    code = 1;
  }
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

/** Whether `rows` are in ascending order of `fields` (compared field by field). */
function ordered(rows: readonly Record<string, unknown>[], fields: readonly string[]): boolean {
  const cmp = (a: Record<string, unknown>, b: Record<string, unknown>) => {
    for (const f of fields) {
      const x = String(a[f]);
      const y = String(b[f]);
      if (x !== y) return x < y ? -1 : 1;
    }
    return 0;
  };
  return rows.every((r, i) => i === 0 || cmp(rows[i - 1]!, r) <= 0);
}

const NOT_RUN: Record<string, string> = {
  dev: "manages the developer's own local stack (test/dev-stack.test.ts runs up, status and down on a stack of its own)",
  worker: 'a long-running process (this suite runs one with its own task queue)',
  agent: 'a long-running process (this suite runs two)',
  launch: 'this suite launched the sweep',
  cancel: 'would cancel the finished sweep (sweep-e2e cancels and resumes)',
  resume: 'would start its workflow again (sweep-e2e cancels and resumes)',
  demo: 'runs whole sweeps of its own',
};


describe('the commands the product suggests', { timeout: 1_200_000 }, () => {
  let c: Cluster;
  let launchOut = '';

  before(async () => {
    requirePrerequisites('the suggested-commands suite', ['arith-cot', 'arith-cot-decoupled']);
    c = await startCluster('suggested');
    await Promise.all([c.startAgent('agent-a'), c.startAgent('agent-b'), c.startWorker()]);
    // examples/demo.yaml with 3 prompts instead of 12: the same sweep name, models, grid and kinds.
    const demo = readFileSync(join(REPO_ROOT, 'examples', 'demo.yaml'), 'utf8');
    assert.match(demo, /count: 12\n/);
    const r = await c.cli(['launch', c.writeSpec('demo-small', demo.replace(/count: 12\n/, 'count: 3\n')), '--task-queue', c.taskQueue]);
    assert.equal(r.code, 0, r.stderr);
    launchOut = r.stdout;
    try {
      await until('the sweep to complete', async () => (await sweepState(c, 'demo')).status === 'completed', 900_000, 1000);
    } catch (err) {
      throw new Error(`${(err as Error).message}\nstate ${JSON.stringify(await sweepState(c, 'demo'))}\n${await unfinishedUnits(c, 'demo')}\nworker:\n${c.workerLog().slice(-3000)}`, { cause: err });
    }
  });
  after(async () => {
    await c?.close();
  });

  it('runs every command that launch, the demo and the docs suggest, and every documented query, on this finished sweep', async () => {
    const out = join(c.home, 'suggested');
    mkdirSync(out, { recursive: true });
    /**
     * Runs `words` (after `npx faithsweep`) through the CLI's own dispatch, in this process (a
     * spawned CLI costs seconds of start-up each, and these are dozens), with the suite's
     * environment; output files go to `out`, a SPEC placeholder is the demo spec.
     */
    const run = async (words: string[], where: string) => {
      const args = words.map((w, i) => (words[i - 1] === '--out' ? join(out, basename(w)) : w === 'SPEC' ? join(REPO_ROOT, 'examples', 'demo.yaml') : w === 'examples/demo.yaml' ? join(REPO_ROOT, w) : w));
      const r = await inProcess(c.env, args);
      assert.equal(r.code, 0, `${where}: npx faithsweep ${words.join(' ')}\n${r.stderr}`);
      assert.doesNotMatch(r.stderr, /error\[/, where);
      return r;
    };
    const rows = async (sql: string, where: string) => JSON.parse((await run(['query', '--json', sql], where)).stdout) as Record<string, unknown>[];

    // What launch printed, as printed.
    const launched = launchOut.split('\n').map((l) => /npx faithsweep (.*)$/.exec(l)?.[1]).filter((x): x is string => Boolean(x));
    assert.deepEqual(launched.map((l) => shellWords(l)[0]), ['watch', 'status', 'query', 'resume'], launchOut);
    for (const l of launched) {
      const words = shellWords(l);
      if (words[0] === 'resume') continue; // NOT_RUN.resume
      const r = await run(words, 'launch');
      if (words[0] === 'query') {
        const got = await rows(words[1]!, 'launch query');
        const keys = got.map((x) => `${String(x['model_name'])}/${String(x['kind'])}/${String(x['span'])}`);
        assert.ok(ordered(got, ['model_name', 'kind', 'span']), `ordered: ${keys.join(', ')}`);
        assert.ok(got.every((x) => x['kind'] !== 'all' && x['span'] !== 'all'), 'no pooled rows mixed with their parts');
        assert.equal(new Set(keys).size, keys.length, 'one row per model, kind and span');
        assert.ok(got.length >= 2, r.stdout);
      }
      if (words[0] === 'status') {
        assert.match(r.stdout, /^sweep demo: completed/m, r.stdout);
        assert.match(r.stdout, /^ {2}rate {8}- \(completed\)$/m, 'a finished sweep has no current rate');
        assert.doesNotMatch(r.stdout, /cells\/s over the last minute/);
      }
    }

    // The demo's "Next:" list for this sweep.
    const steps = demoNextSteps('demo', c.env['DATABASE_URL']!, c.temporal.endpoints.temporalUiUrl);
    for (const s of steps) {
      const words = shellWords(s.command);
      if (words[0] === 'npx') {
        if (NOT_RUN[words[2]!]) continue;
        await run(words.slice(2), `demo Next: ${s.label}`);
        if (words[2] === 'query') {
          const got = await rows(words[3]!, 'demo Next query');
          const keys = got.map((x) => `${String(x['model_name'])}/${String(x['phase'])}`);
          assert.ok(ordered(got, ['model_name', 'phase']), `ordered: ${keys.join(', ')}`);
          assert.ok(got.every((x) => x['phase'] === 'pre_commit' || x['phase'] === 'post_commit'), 'no pooled rows mixed with their parts');
          assert.ok(keys.includes('arith-cot/pre_commit') && keys.includes('arith-cot-decoupled/pre_commit') && keys.length <= 4, keys.join(', '));
        }
      } else if (words[0] === 'psql') {
        const r = spawnSync(join(testTools().pgBinDir ?? '/usr/bin', 'psql'), [words[1]!, '-Atc', "SELECT count(*) FROM \"Cell\" WHERE \"sweepId\" = 'demo'"], { encoding: 'utf8' });
        assert.equal(r.status, 0, `psql: ${r.stderr}`);
        assert.ok(Number(r.stdout.trim()) >= 100, r.stdout);
      } else {
        const res = await fetch(s.command);
        assert.equal(res.status, 200, `${s.label} ${s.command}`);
      }
    }

    // README.md and docs/*.md: every `npx faithsweep` command that reads or plans, and every SQL statement.
    const documented = documentedCommands();
    assert.ok(documented.length >= 20, `${documented.length} documented commands`);
    const ran: string[] = [];
    for (const d of documented) {
      const words = shellWords(d.text).slice(2);
      if (NOT_RUN[words[0]!]) {
        // Not run as written (NOT_RUN says why); its flags must still be the command's own: --help parses them first.
        const r = await inProcess(c.env, [...words, '--help']);
        assert.equal(r.code, 0, `${d.where}: npx faithsweep ${words.join(' ')} --help\n${r.stderr}`);
        continue;
      }
      await run(words, d.where);
      ran.push(words[0]!);
    }
    for (const cmd of ['plan', 'query', 'export', 'report', 'status', 'watch', 'list', 'sample', 'db']) assert.ok(ran.includes(cmd), `a documented '${cmd}' ran`);
    const statements = documentedSql();
    assert.ok(statements.length >= 20, `${statements.length} documented SQL statements`);
    for (const q of statements) {
      const got = await rows(q.text.replace(/\s+/g, ' '), q.where);
      process.stderr.write(`${q.where}: ${got.length} row(s)\n`);
      // A statement about this sweep that names a view and no rare event returns rows.
      if (/sweep_name = 'demo'/.test(q.text) && !/post_commit' AND flipped/.test(q.text)) assert.ok(got.length > 0, `${q.where}: no rows for the demo sweep:\n${q.text}`);
    }
  });

});
