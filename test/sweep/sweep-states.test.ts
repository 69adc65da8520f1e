// Sweep states a researcher can act on (migration 20261203000001_sweep_states): the database's
// sweep_state() and the sweep_summary view, `faithsweep status`, `watch` and `list` agree on
// completed; completed with failures (why, and whether resume can help: bad input cannot be
// helped by resume, an absent model can); waiting for agents (for which model); partial.
// The work units are written as the worker writes them (errors as `TYPE: message`), so the
// states follow from the real rows, not from a fixture of the states themselves.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../../common/config/paths.ts';
import { errorLine } from '../../orchestrator/activities/sweep.ts';
import { FaithsweepError, ErrorCode } from '../../common/errors.ts';
import { freshDatabase } from '../helpers/db.ts';
import type { TestDatabase } from '../helpers/db.ts';
import { ensureTestStack } from '../helpers/stack.ts';
import { contextFromEnv } from '../../common/cli/context.ts';
import { watchSweep } from '../../orchestrator/cli/commands/sweep.ts';

interface Unit { status: 'done' | 'failed' | 'pending' | 'running'; error?: string; model?: string }

describe('sweep states', () => {
  let t: TestDatabase;
  let natsUrl: string;
  before(async () => {
    t = await freshDatabase('sweep_states');
    natsUrl = (await ensureTestStack()).natsUrl;
    await t.sql.query(`INSERT INTO "Model" (id, name, path, sha256, card) VALUES ('ma', 'arith-cot', 'models/arith-cot', 'a', '{}'), ('mb', 'arith-cot-decoupled', 'models/arith-cot-decoupled', 'b', '{}')`);
    await t.sql.query(`INSERT INTO "Prompt" (id, dataset, idx, text, "goldAnswer") SELECT 'p' || i, 'd', i, '1+1=', '2' FROM generate_series(0, 9) i`);
  });
  after(async () => {
    await t?.drop();
  });

  async function sweep(name: string, status: string, units: Unit[]): Promise<void> {
    await t.sql.query(`INSERT INTO "Sweep" (id, name, spec, "specHash", status, "updatedAt") VALUES ($1, $1, '{"format": 1}', 'h', $2, now())`, [name, status]);
    for (const [i, u] of units.entries()) {
      await t.sql.query(`INSERT INTO "WorkUnit" (id, "sweepId", ordinal, "modelId", "promptId", seed, status, error, "updatedAt") VALUES ($1, $2, $3, $4, $5, 0, $6, $7, now())`,
        [`${name}-${i}`, name, i, u.model ?? 'ma', `p${i}`, u.status, u.error ?? null]);
    }
  }

  function faithsweep(...args: string[]): { code: number | null; stdout: string; stderr: string } {
    const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'faithsweep.js'), ...args], {
      encoding: 'utf8', cwd: REPO_ROOT, env: { ...process.env, DATABASE_URL: t.url, NATS_URL: natsUrl, TEMPORAL_ADDRESS: '127.0.0.1:1', FAITHSWEEP_DEBUG: '' },
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  async function summary(name: string): Promise<Record<string, unknown>> {
    const r = await t.sql.query(`SELECT state, state_detail, resume_helps, waiting_models, failed_bad_input, failed_other, work_units_left, work_units::int AS work_units, work_units_failed::int AS work_units_failed FROM sweep_summary WHERE sweep_id = $1`, [name]);
    return r.rows[0] as Record<string, unknown>;
  }

  // The errors the worker writes, built by the worker's own function.
  const badInput = errorLine(new FaithsweepError(ErrorCode.BAD_INTERVENTION, 'agent a1 rejected the work unit: position 99 is outside gen_length 40'));
  const badSpec = `BAD_SPEC: agent a1 rejected the work unit: steps 0 is not allowed`;
  const noModel = `MODEL_NOT_FOUND: no agent has model arith-cot-decoupled (sha256 b…)`;
  const noAgent = errorLine(new FaithsweepError(ErrorCode.AGENT_UNAVAILABLE, 'no live agent has model bbbbbbbbbbbb…'));
  const busy = errorLine(new FaithsweepError(ErrorCode.AGENT_UNAVAILABLE, 'every agent with model aaaaaaaaaaaa… stayed busy for 60 s'));

  it('writes errors as TYPE: message', () => {
    assert.match(badInput, /^BAD_INTERVENTION: /);
    assert.match(noAgent, /^AGENT_UNAVAILABLE: no live agent has model /);
    assert.equal(errorLine(new Error('socket hang up')), 'Error: socket hang up');
  });

  it('completed: every work unit done', async () => {
    await sweep('all-done', 'completed', [{ status: 'done' }, { status: 'done' }]);
    assert.deepEqual(await summary('all-done'), {
      state: 'completed', state_detail: 'every work unit done', resume_helps: false, waiting_models: [],
      failed_bad_input: 0, failed_other: 0, work_units_left: 0, work_units: 2, work_units_failed: 0,
    });
    const s = faithsweep('status', 'all-done');
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stdout, /^sweep all-done: completed$/m);
    assert.doesNotMatch(s.stdout, /resume/);
  });

  it('completed with failures on bad input: resume cannot help, and status says so', async () => {
    await sweep('bad-input', 'completed', [{ status: 'failed', error: badInput }, { status: 'failed', error: badSpec }]);
    const v = await summary('bad-input');
    assert.deepEqual([v['state'], v['resume_helps'], v['failed_bad_input'], v['failed_other']], ['completed_with_failures', false, 2, 0]);
    assert.match(String(v['state_detail']), /2 work unit\(s\) failed on bad input: resume cannot help/);
    const s = faithsweep('status', 'bad-input');
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stdout, /^sweep bad-input: completed with failures \(2 bad input\)$/m);
    assert.match(s.stdout, /resume cannot help: the failures are bad input/);
    assert.doesNotMatch(s.stdout, /resume with:/, 'status must not suggest a resume that cannot help');
    const j = JSON.parse(faithsweep('status', 'bad-input', '--json').stdout) as { state: { name: string; resumeHelps: boolean; failedBadInput: number } };
    assert.deepEqual([j.state.name, j.state.resumeHelps, j.state.failedBadInput], ['completed_with_failures', false, 2]);
  });

  it('completed with failures that resume can retry (a model no agent had)', async () => {
    await sweep('mixed-failures', 'completed', [{ status: 'done' }, { status: 'failed', error: badInput }, { status: 'failed', error: noModel }]);
    const v = await summary('mixed-failures');
    assert.deepEqual([v['state'], v['resume_helps'], v['failed_bad_input'], v['failed_other']], ['completed_with_failures', true, 1, 1]);
    const s = faithsweep('status', 'mixed-failures');
    assert.match(s.stdout, /completed with failures \(1 bad input, 1 retryable\)/);
    assert.match(s.stdout, /resume with: npx faithsweep resume mixed-failures/);
  });

  it('waiting for agents: names the model without an agent, and watch shows it', async () => {
    await sweep('no-agents', 'running', [
      { status: 'done' },
      { status: 'pending', error: noAgent, model: 'mb' },
      { status: 'pending', error: noAgent, model: 'mb' },
      { status: 'pending', error: busy },
      { status: 'running' },
    ]);
    const v = await summary('no-agents');
    assert.deepEqual([v['state'], v['waiting_models'], v['work_units_left']], ['waiting_for_agents', ['arith-cot-decoupled'], 4]);
    assert.match(String(v['state_detail']), /^2 work unit\(s\) wait for an agent serving arith-cot-decoupled/);
    const s = faithsweep('status', 'no-agents');
    assert.match(s.stdout, /^sweep no-agents: waiting for agents \(arith-cot-decoupled\)$/m);
    const w = faithsweep('watch', 'no-agents', '--no-wait', '--json');
    assert.equal(w.code, 0, w.stderr);
    const line = JSON.parse(w.stdout.trim().split('\n').pop()!) as { state: { name: string; waitingModels: string[] } };
    assert.deepEqual([line.state.name, line.state.waitingModels], ['waiting_for_agents', ['arith-cot-decoupled']]);
    assert.ok(w.stdout.endsWith('}\n'), `--json output ends its last line: ${JSON.stringify(w.stdout.slice(-20))}`);
    const text = faithsweep('watch', 'no-agents', '--no-wait');
    assert.match(text.stderr, /ETA \? \(waiting for agents\) {2}waiting for agents: arith-cot-decoupled/);
    assert.ok(text.stderr.endsWith('arith-cot-decoupled\n'), `the last line ends with a newline: ${JSON.stringify(text.stderr.slice(-20))}`);
    // On a terminal the bar is redrawn in place; --no-wait still ends its line (the prompt starts on a new one).
    const written: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array) => written.push(String(chunk)) > 0) as typeof process.stderr.write;
    try {
      const ctx = { ...contextFromEnv(process.env), out: (l: string) => written.push(l + '\n'), err: (l: string) => written.push(l + '\n') };
      assert.equal(await watchSweep(ctx, { databaseUrl: t.url, natsUrl }, 'no-agents', { once: true, isTTY: true }), 0);
    } finally {
      process.stderr.write = write;
    }
    const tty = written.join('');
    assert.ok(tty.startsWith('\r\x1b[2K[') && tty.endsWith('waiting for agents: arith-cot-decoupled\n') && tty.split('\n').length === 2, JSON.stringify(tty));
  });

  it('a running sweep whose agents are only busy is running, not waiting', async () => {
    await sweep('busy', 'running', [{ status: 'pending', error: busy }, { status: 'running' }]);
    assert.equal((await summary('busy'))['state'], 'running');
  });

  it('partial: the sweep ended with work units left; resume runs them', async () => {
    await sweep('left-over', 'partial', [{ status: 'done' }, { status: 'pending' }, { status: 'failed', error: badInput }]);
    const v = await summary('left-over');
    assert.deepEqual([v['state'], v['resume_helps'], v['work_units_left'], v['failed_bad_input']], ['partial', true, 1, 1]);
    assert.match(String(v['state_detail']), /^1 work unit\(s\) not run: resume runs them; 1 failed on bad input/);
  });

  it('list shows each state', async () => {
    const j = JSON.parse(faithsweep('list', '--json').stdout) as { sweep: string; state: { name: string } }[];
    const by = Object.fromEntries(j.map((r) => [r.sweep, r.state.name]));
    assert.deepEqual(by, {
      'all-done': 'completed', 'bad-input': 'completed_with_failures', 'mixed-failures': 'completed_with_failures',
      'no-agents': 'waiting_for_agents', busy: 'running', 'left-over': 'partial',
    });
    const text = faithsweep('list').stdout;
    assert.match(text, /^no-agents\s+waiting for agents \(arith-cot-decoupled\)\s+1\/5/m);
    assert.match(text, /^bad-input\s+completed with failures \(2 bad input\)\s+0\/2 \(2✗\)/m);
  });

  it('paused, never started and half-registered sweeps: status and watch say what to do next (after the list test, which counts the sweeps)', async () => {
    const cases: [string, string, RegExp][] = [
      ['on-hold', 'paused', /paused: 'npx faithsweep resume on-hold' un-pauses it/],
      ['not-started', 'planned', /registered, no workflow started: 'npx faithsweep resume not-started' starts it/],
      ['half-registered', 'registering', /a launch stopped before all its work units were written: 'npx faithsweep launch SPEC' with its spec finishes it, 'npx faithsweep cancel half-registered' removes it/],
    ];
    for (const [name, status, next] of cases) {
      await sweep(name, status, [{ status: 'done' }, { status: 'pending' }]);
      const s = faithsweep('status', name);
      assert.equal(s.code, 0, s.stderr);
      assert.match(s.stdout, new RegExp(`^  next {8}${next.source}$`, 'm'), `${status}: ${s.stdout}`);
      const w = faithsweep('watch', name, '--no-wait');
      assert.equal(w.code, 0, w.stderr);
      assert.match(w.stderr, new RegExp(`ETA \\? \\(${status}\\)  ${next.source}`), `${status}: ${w.stderr}`);
    }
  });

  it('watch exits with SERVICE_UNAVAILABLE when NATS cannot be reached (it does not hang on the open database connection)', () => {
    const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'faithsweep.js'), 'watch', 'all-done', '--no-wait'], {
      encoding: 'utf8', cwd: REPO_ROOT, timeout: 60_000, env: { ...process.env, DATABASE_URL: t.url, NATS_URL: 'nats://127.0.0.1:1', TEMPORAL_ADDRESS: '127.0.0.1:1', FAITHSWEEP_DEBUG: '' },
    });
    assert.equal(r.signal, null, `watch was still running after 60 s; stderr: ${r.stderr}`);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /^error\[SERVICE_UNAVAILABLE\]: .*NATS/m);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });
});
