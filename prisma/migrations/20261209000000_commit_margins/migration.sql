-- Sampler modes and commit margins (docs/sampler.md, docs/sql.md "Near-ties").
--
-- 1. Trajectory."samplerMode" (llada | dream | fast-dllm; rows before: llada) and
--    "samplerOptions" (the mode's resolved options as JSON: threshold, top_p, end_confidence, …).
-- 2. Trajectory."commitMargin": per step, the float64 confidence margin at the quota cut (last
--    committed minus best left masked; 'Infinity' when every candidate was committed, 'NaN' where
--    the step made no decision); NULL on rows written before.
-- 3. The sampler CHECK constraint also accepts Dream's alg name 'maskgit_plus' (the constraint is
--    dropped and re-added: the only way to widen a CHECK; its other conditions are unchanged).
-- 4. A new view, trajectory_near_ties, and its per-sweep roll-up, sweep_near_ties: how many clean
--    runs' commit order (the steps up to the later of the answer and chain-of-thought commit
--    steps) rests on a decision whose margin is below near_tie_margin = 1e-6 (NEAR_TIE_MARGIN in
--    node-agent/sampler/step.ts). No existing view is redefined.

ALTER TABLE "Trajectory"
    ADD COLUMN "samplerMode" TEXT NOT NULL DEFAULT 'llada',
    ADD COLUMN "samplerOptions" JSONB,
    ADD COLUMN "commitMargin" DOUBLE PRECISION[];

ALTER TABLE "Trajectory" DROP CONSTRAINT "Trajectory_sampler_check";
ALTER TABLE "Trajectory" ADD CONSTRAINT "Trajectory_sampler_check" CHECK (
    "genLength" > 0 AND "steps" > 0 AND "blockLength" > 0
    AND "genLength" % "blockLength" = 0
    AND "steps" % ("genLength" / "blockLength") = 0
    AND "remasking" IN ('low_confidence', 'random', 'entropy', 'topk_margin', 'maskgit_plus')
    AND "temperature" >= 0
    AND "samplerMode" IN ('llada', 'dream', 'fast-dllm'));

CREATE VIEW trajectory_near_ties AS
SELECT
    t."sweepId" AS sweep_id,
    m.name AS model,
    t."promptId" AS prompt_id,
    t.seed,
    t."samplerMode" AS sampler_mode,
    t."answerCommitStep" AS answer_commit_step,
    t."cotCommitStep" AS cot_commit_step,
    1e-6::float8 AS near_tie_margin,
    d.decisions,
    d.min_margin,
    d.near_ties,
    (d.near_ties > 0) AS order_rests_on_near_tie
FROM "Trajectory" t
JOIN "Model" m ON m.id = t."modelId"
CROSS JOIN LATERAL (
    SELECT count(*) FILTER (WHERE x <> 'NaN'::float8) AS decisions,
           min(x) FILTER (WHERE x <> 'NaN'::float8) AS min_margin,
           count(*) FILTER (WHERE x < 1e-6) AS near_ties
      FROM unnest(t."commitMargin") WITH ORDINALITY AS u(x, i)
     WHERE i - 1 <= greatest(coalesce(t."answerCommitStep", -1), coalesce(t."cotCommitStep", -1))
) d
WHERE t."commitMargin" IS NOT NULL;

CREATE VIEW sweep_near_ties AS
SELECT
    sweep_id,
    model,
    sampler_mode,
    1e-6::float8 AS near_tie_margin,
    count(*) AS n_runs,
    count(*) FILTER (WHERE order_rests_on_near_tie) AS n_runs_near_tie,
    (count(*) FILTER (WHERE order_rests_on_near_tie))::float8 / nullif(count(*), 0) AS near_tie_share,
    min(min_margin) AS min_margin
FROM trajectory_near_ties
GROUP BY sweep_id, model, sampler_mode;
