// Child process of vocab-memory.test.ts and bench/agent.ts: loads one model directory into the
// agent's engine under a memory budget, runs one work unit (replace:random cells at every
// generated position of `steps` of the 16 steps; gen_length 16) and prints one JSON line with the outcome and the
// process's peak resident set size. Its own process, so the peak RSS is this model's alone.
//   node --import tsx test/agent/vocab-memory-child.ts DIR BUDGET_MIB STEPS [MAX_BATCH]
import { InterventionKind, ReplaceVariant, RunGroupRequest } from '../../generated/proto/faithsweep/v1/agent.ts';
import { createOnnxEngine } from '../../node-agent/engine/index.ts';
import { isAgentError } from '../../common/agent-errors.ts';
import { silentLogger } from '../../common/log.ts';

const [dir, budgetMiB, stepsArg, maxBatchArg] = process.argv.slice(2);
const rssMiB = () => process.resourceUsage().maxRSS / 1024;
try {
  const engine = await createOnnxEngine({ modelsDir: dir!, intraOpThreads: 1, memoryBudgetBytes: Number(budgetMiB) * 2 ** 20, log: silentLogger, ...(maxBatchArg ? { maxBatch: Number(maxBatchArg) } : {}) });
  const model = [...engine.loaded.values()][0]!;
  // A short generation (16 positions, 16 steps) keeps the test quick; the memory per row is V-wide either way.
  const T = 16;
  const G = 16;
  const interventions = [];
  const nSteps = Number(stepsArg);
  for (let k = 0; k < nSteps; k++) {
    const step = Math.floor((k * T) / nSteps);
    for (let p = 0; p < G; p++) interventions.push({ key: `${step}.${p}`, kind: InterventionKind.REPLACE, variant: ReplaceVariant.RANDOM_TOKEN, step, position: p });
  }
  const req = RunGroupRequest.fromPartial({ model: model.card.name, prompt: '0123+0456=', goldAnswer: '579', seed: 7, sampler: { genLength: G, steps: T, blockLength: G }, interventions, disableSkip: true });
  let cells = 0;
  let cleanTokens: number[] = [];
  const t0 = performance.now();
  const done = await engine.runGroup(req, {
    signal: new AbortController().signal,
    emit: (e) => {
      if (e.event?.$case === 'result') cells++;
      if (e.event?.$case === 'trajectory') cleanTokens = e.event.value.tokens;
    },
  });
  const seconds = (performance.now() - t0) / 1000;
  const seqLen = 10 + G;
  console.log(JSON.stringify({ ok: true, cells, requested: interventions.length, forwardPasses: done.forwardPasses, seconds, batch: engine.batchFor(model, seqLen), fusedTopK: model.fusedTopK, width: model.outputWidth, cleanTokens, maxRssMiB: rssMiB() }));
} catch (err) {
  console.log(JSON.stringify({ ok: false, code: isAgentError(err) ? err.code : 'INTERNAL', message: (err as Error).message, maxRssMiB: rssMiB() }));
}
