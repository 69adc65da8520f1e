// The paraphrase_accuracy view (migration 20261213000000_known_faithfulness): real clean runs of
// arith-cot with and without paraphrase-remask (the agent's engine, real ONNX inference), stored by
// the sweep activity's insertTrajectory, are counted per setting with the Wilson interval of
// orchestrator/results/wilson.ts; and known_faithfulness_organisms orders the bundled arithmetic
// organisms from the faithful pole to the control.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RunGroupRequest } from '../../generated/proto/faithsweep/v1/agent.ts';
import { prepareGroup, runClean } from '../../node-agent/engine/index.ts';
import { insertTrajectory, trajectoryRow } from '../../orchestrator/activities/cells.ts';
import { samplerExtras } from '../../common/sampler/settings.ts';
import { parseParaphraseFlag, paraphraseToProto } from '../../common/paraphrase/settings.ts';
import { wilson } from '../../orchestrator/results/wilson.ts';
import { freshDatabase } from '../helpers/db.ts';
import type { TestDatabase } from '../helpers/db.ts';
import { goldenLines, testEngine } from '../helpers/models.ts';

describe('known-faithfulness views', () => {
  let t: TestDatabase;
  before(async () => {
    t = await freshDatabase('known_faithfulness');
  });
  after(async () => {
    await t?.drop();
  });

  it('paraphrase_accuracy counts clean runs per paraphrase-remask setting with the Wilson interval', async () => {
    const engine = await testEngine();
    const lines = goldenLines('arith-cot').filter((l) => l.block_length === 40).slice(0, 5);
    await t.sql.query(`INSERT INTO "Sweep" (id, name, spec, "specHash", "updatedAt") VALUES ('s', 'para', '{}', 'h', now())`);
    await t.sql.query(`INSERT INTO "Model" (id, name, path, sha256, card) VALUES ('m', 'arith-cot', 'x', 'x', '{}')`);
    const para = parseParaphraseFlag('every=2,remask=0.3,paraphraser=arith-canonical');
    const want = new Map<string, { n: number; k: number; events: number }>();
    let ordinal = 0;
    for (const [i, l] of lines.entries()) {
      await t.sql.query(`INSERT INTO "Prompt" (id, dataset, idx, text, "goldAnswer") VALUES ($1, 'd', $2, $3, $4)`, [`p${i}`, i, l.prompt, l.gold]);
      for (const setting of ['off', 'on'] as const) {
        const req = RunGroupRequest.fromPartial({ model: 'arith-cot', promptIds: l.prompt_ids, seed: 0, goldAnswer: l.gold, sampler: setting === 'on' ? { paraphrase: paraphraseToProto(para) } : {} });
        const clean = await runClean(prepareGroup(engine.loaded, req, 1), new AbortController().signal);
        const w = `w${ordinal}`;
        await t.sql.query(`INSERT INTO "WorkUnit" (id, "sweepId", ordinal, "modelId", "modelIndex", "promptId", seed, "updatedAt") VALUES ($1, 's', $2, 'm', $3, $4, 0, now())`, [w, ordinal++, setting === 'on' ? 1 : 0, `p${i}`]);
        const sampler = { genLength: 40, steps: 40, blockLength: 40, remasking: 'low_confidence' as const, temperature: 0, extras: samplerExtras(setting === 'on' ? { paraphrase: para } : {}) };
        await insertTrajectory(t.sql, { workUnitId: w, sweepId: 's', modelId: 'm', promptId: `p${i}`, seed: 0 }, sampler, trajectoryRow(clean.message), null);
        const e = want.get(setting) ?? { n: 0, k: 0, events: 0 };
        e.n++;
        if (clean.message.correct) e.k++;
        e.events += clean.message.paraphraseEvents.length;
        want.set(setting, e);
      }
    }
    const { rows } = await t.sql.query<{ paraphrase: string; n_runs: string; n_correct: string; accuracy: number; ci_low: number; ci_high: number; paraphrase_events: string }>(
      `SELECT paraphrase, n_runs, n_correct, accuracy, ci_low, ci_high, paraphrase_events FROM paraphrase_accuracy WHERE sweep_name = 'para' ORDER BY paraphrase = 'off' DESC`);
    assert.equal(rows.length, 2);
    const [off, on] = rows;
    assert.equal(off!.paraphrase, 'off');
    assert.equal(JSON.parse(on!.paraphrase).every, 2, on!.paraphrase);
    for (const [row, key] of [[off!, 'off'], [on!, 'on']] as const) {
      const w = want.get(key)!;
      const ci = wilson(w.k, w.n);
      assert.deepEqual([Number(row.n_runs), Number(row.n_correct), Number(row.paraphrase_events)], [w.n, w.k, w.events], key);
      assert.ok(Math.abs(row.ci_low - ci.low!) < 1e-12 && Math.abs(row.ci_high - ci.high!) < 1e-12, `${key}: the Wilson interval`);
    }
    assert.ok(Number(on!.paraphrase_events) >= 5 * 19, 'an event after every second step of every run');
  });

  it('known_faithfulness_organisms orders the arithmetic organisms from the faithful pole to the control', async () => {
    const { rows } = await t.sql.query<{ model: string }>(`SELECT model FROM known_faithfulness_organisms ORDER BY faithfulness_order`);
    assert.deepEqual(rows.map((r) => r.model), ['arith-cot-faithful', 'arith-cot', 'arith-cot-stego', 'arith-cot-decoupled']);
  });
});
