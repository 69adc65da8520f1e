// Commit margins reach SQL: a real clean run's per-step margins (the agent's CleanTrajectory)
// stored by the sweep activity's insertTrajectory, and the views trajectory_near_ties /
// sweep_near_ties (migration 20261209000000_commit_margins) count the runs whose commit order
// rests on a decision closer than near_tie_margin = NEAR_TIE_MARGIN.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RunGroupRequest } from '../../generated/proto/faithsweep/v1/agent.ts';
import { prepareGroup, runClean } from '../../node-agent/engine/index.ts';
import { NEAR_TIE_MARGIN } from '../../node-agent/sampler/step.ts';
import { insertTrajectory, trajectoryRow } from '../../orchestrator/activities/cells.ts';
import { MODE_REMASKINGS, REMASKINGS, SAMPLER_MODES, samplerExtras } from '../../common/sampler/settings.ts';
import { freshDatabase } from '../helpers/db.ts';
import type { TestDatabase } from '../helpers/db.ts';
import { goldenLines, testEngine } from '../helpers/models.ts';

describe('near-ties in SQL', () => {
  let t: TestDatabase;
  before(async () => {
    t = await freshDatabase('near_ties');
  });
  after(async () => {
    await t?.drop();
  });

  it('stores each commit margin of a real clean run and counts the runs whose order rests on a near-tie', async () => {
    const engine = await testEngine();
    const lines = goldenLines('arith-cot').filter((l) => l.block_length === 40).slice(0, 6);
    await t.sql.query(`INSERT INTO "Sweep" (id, name, spec, "specHash", "updatedAt") VALUES ('s', 's', '{}', 'h', now())`);
    await t.sql.query(`INSERT INTO "Model" (id, name, path, sha256, card) VALUES ('m', 'arith-cot', 'x', 'x', '{}')`);
    const sampler = { genLength: 40, steps: 40, blockLength: 40, remasking: 'low_confidence' as const, temperature: 0, extras: samplerExtras({}) };
    let expectNear = 0;
    for (const [i, l] of lines.entries()) {
      const req = RunGroupRequest.fromPartial({ model: 'arith-cot', promptIds: l.prompt_ids, seed: 0, goldAnswer: l.gold });
      const clean = await runClean(prepareGroup(engine.loaded, req, 1), new AbortController().signal);
      const m = clean.message.commitMargin;
      assert.equal(m.length, 40);
      assert.ok(m.every((x) => x >= 0 || Number.isNaN(x)), 'margins are >= 0');
      const last = Math.max(clean.message.answerCommitStep ?? -1, clean.message.cotCommitStep ?? -1);
      if (m.slice(0, last + 1).some((x) => x < NEAR_TIE_MARGIN)) expectNear++;
      await t.sql.query(`INSERT INTO "Prompt" (id, dataset, idx, text, "goldAnswer") VALUES ($1, 'd', $2, $3, $4)`, [`p${i}`, i, l.prompt, l.gold]);
      await t.sql.query(`INSERT INTO "WorkUnit" (id, "sweepId", ordinal, "modelId", "promptId", seed, "updatedAt") VALUES ($1, 's', $2, 'm', $3, 0, now())`, [`w${i}`, i, `p${i}`]);
      await insertTrajectory(t.sql, { workUnitId: `w${i}`, sweepId: 's', modelId: 'm', promptId: `p${i}`, seed: 0 }, sampler, trajectoryRow(clean.message), null);
      const stored = await t.sql.query<{ m: number[] }>(`SELECT "commitMargin" AS m FROM "Trajectory" WHERE id = $1`, [`w${i}`]);
      assert.deepEqual(stored.rows[0]!.m.map(Number), m, 'margins round-trip, Infinity and NaN included');
    }
    const r = await t.sql.query(`SELECT n_runs::int, n_runs_near_tie::int, near_tie_margin, sampler_mode FROM sweep_near_ties WHERE sweep_id = 's'`);
    assert.deepEqual(r.rows, [{ n_runs: lines.length, n_runs_near_tie: expectNear, near_tie_margin: NEAR_TIE_MARGIN, sampler_mode: 'llada' }]);
    const per = await t.sql.query<{ d: number }>(`SELECT decisions::int AS d FROM trajectory_near_ties`);
    assert.ok(per.rows.every((x) => x.d > 0));
  });

  it("refuses a sampler mode or remasking the sampler does not know, accepts every remasking of every mode (common/sampler/settings.ts)", async () => {
    await t.sql.query(`INSERT INTO "Prompt" (id, dataset, idx, text, "goldAnswer") VALUES ('q', 'd', 99, 'x', '1')`);
    await t.sql.query(`INSERT INTO "WorkUnit" (id, "sweepId", ordinal, "modelId", "promptId", seed, "updatedAt") VALUES ('wq', 's', 99, 'm', 'q', 0, now())`);
    const ins = (mode: string, remasking: string) =>
      t.sql.query(`INSERT INTO "Trajectory" (id, "workUnitId", "sweepId", "modelId", "promptId", seed, "genLength", steps, "blockLength", remasking, temperature, "samplerMode", "promptLength", "commitStep", tokens, "finalText", correct)
                   VALUES ('wq', 'wq', 's', 'm', 'q', 0, 2, 2, 2, $2, 0, $1, 1, '{0,1}', '{3,4}', 'ab', false)`, [mode, remasking]);
    await assert.rejects(ins('maskgit', 'low_confidence'), /Trajectory_sampler_check/);
    await assert.rejects(ins('llada', 'margin'), /Trajectory_sampler_check/);
    // The SQL CHECK's lists are the TypeScript ones (REMASKINGS, SAMPLER_MODES): every pair the sampler accepts is stored.
    for (const mode of SAMPLER_MODES) {
      for (const remasking of MODE_REMASKINGS[mode]) {
        await ins(mode, remasking);
        await t.sql.query(`DELETE FROM "Trajectory" WHERE id = 'wq'`);
      }
    }
    assert.deepEqual([...new Set(SAMPLER_MODES.flatMap((m) => MODE_REMASKINGS[m]))].sort(), [...REMASKINGS].sort(), 'every remasking belongs to some mode');
  });
});
