/**
 * The forked, batched path — the agent's performance core. The clean trajectory runs
 * once; every intervention becomes a branch starting from the clean state before its step;
 * at each step every live branch that has something to commit is advanced in one batched
 * forward pass (at most `maxBatch` rows per pass). Results stream out as branches finish.
 */
import type { GroupDone, InterventionResult } from '../../generated/proto/faithsweep/v1/agent.ts';
import { applyStep, candidates, quota } from '../sampler/step.ts';
import type { RunGroupOptions } from './engine.ts';
import { stepBoundary } from './abort.ts';
import type { Branch } from './branches.ts';
import { branchSettled, finishBranch, makeBranch } from './branches.ts';
import { anyMasked, eventGroup, runClean } from './clean-run.ts';
import { applyParaphraseEvent, isEventStep, lastEventStep } from '../paraphrase/remask.ts';
import type { PreparedGroup } from './prepare.ts';
import { forwardStep } from './guided.ts';

/** Runs a prepared group; emits the trajectory, then results as they finish. */
export async function runForked(g: PreparedGroup, opts: RunGroupOptions): Promise<GroupDone> {
  const t0 = performance.now();
  const clean = await runClean(g, opts.signal);
  opts.emit({ event: { $case: 'trajectory', value: clean.message } });

  let branchSteps = 0;
  const emitResult = (r: InterventionResult) => {
    branchSteps += r.computeSteps;
    opts.emit({ event: { $case: 'result', value: r } });
  };
  const branches: Branch[] = [];
  for (const iv of g.interventions) {
    const b = makeBranch(g, clean, iv);
    if ('state' in b) branches.push(b);
    else emitResult(b);
  }
  branches.sort((a, b) => a.start - b.start);

  const { ctx, cfg, model } = g;
  const L = ctx.seqLen;
  let forwardPasses = clean.forwardPasses;
  let next = 0;
  let live: Branch[] = [];
  const rows = new Int32Array(g.maxBatch * L);
  const eg = eventGroup(g);
  const lastEvent = lastEventStep(cfg.paraphrase, cfg.steps);
  for (let s = branches[0]?.start ?? cfg.steps; s < cfg.steps && (live.length > 0 || next < branches.length); s++) {
    while (next < branches.length && branches[next]!.start === s) live.push(branches[next++]!);
    await stepBoundary(opts.signal);
    const stepping = live.filter((b) => quota(ctx, s, candidates(b.state, ctx, s).length) > 0);
    for (let from = 0; from < stepping.length; from += g.maxBatch) {
      const chunk = stepping.slice(from, from + g.maxBatch);
      for (let j = 0; j < chunk.length; j++) rows.set(chunk[j]!.state.x, j * L);
      const scores = await forwardStep(model, ctx, rows, chunk.length);
      forwardPasses++;
      for (let j = 0; j < chunk.length; j++) {
        applyStep(chunk[j]!.state, ctx, s, scores, j);
        chunk[j]!.computeSteps++;
      }
    }
    // Paraphrase-remask: every live branch gets the event after step s, with the clean run's
    // seed and draws (remask.ts), so a branch equal to the clean state gets the clean event.
    if (eg && isEventStep(cfg.paraphrase, cfg.steps, s)) {
      for (const b of live) {
        const r = await applyParaphraseEvent(eg, b.state, s, opts.signal);
        b.computeSteps += r.passes;
        forwardPasses += r.passes;
      }
    }
    // A branch is done when nothing is masked, or (skipping on) once its outcome is settled
    // by the card's answer rule (text.ts outcomeSettled): committed tokens never change, so
    // its answer is then exactly the one running it to the end would give.
    const done = live.filter((b) => (!anyMasked(b.state) && s >= lastEvent) || (g.skipDetermined && branchSettled(g, clean, b)));
    if (done.length > 0) {
      for (const b of done) emitResult(finishBranch(g, clean, b));
      live = live.filter((b) => !done.includes(b));
    }
  }
  for (const b of live) emitResult(finishBranch(g, clean, b));
  return { forwardPasses, branchSteps, wallMs: performance.now() - t0 };
}
