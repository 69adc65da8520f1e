-- Numbers that mean what they say (docs/sql.md "Reading the numbers").
--
-- 1. Sampler settings are stored once, typed: Trajectory."genLength", "steps", "blockLength",
--    "remasking", "temperature" (NOT NULL, checked), written by the sweep activity from the
--    plan's resolved sampler. They replace the JSON column "sampler", which sweeps wrote in
--    camelCase while readers asked for snake_case (the export's block_length was NULL for every
--    real sweep). Rows written before are filled from either spelling.
-- 2. No-op cells: Cell.noop marks an intervention that cannot change anything (a remask of a
--    position still masked at t; a replace writing the token the clean run has committed there);
--    answerOutcome gains the value 'noop'. `skipped` keeps one meaning: an intervention that
--    does change the state, answered without compute because its outcome was already settled.
-- 3. The result views are rebuilt: sampler settings (mode, gen_length, total_steps, block_length,
--    temperature, remasking) in the cell-level view and in every aggregate's grouping; no-op
--    cells left out of every rate and counted (n_noop); n_cells, n_prompts and n_runs (distinct
--    clean runs) beside every rate; clean accuracy beside every flip rate; ci_low/ci_high are
--    the prompt-clustered interval (cluster_ci_low/high below), the cell-level Wilson interval
--    stays available as wilson_lower/upper.

-- ---------------------------------------------------------------------------------------------
-- Views that read the columns changed below are rebuilt at the end of this file.
DROP VIEW IF EXISTS early_answering_aoc, early_answering_curve, answer_commit_summary, answer_commit,
    flip_rate_by_span, flip_rate_by_position, flip_rate_by_step, flip_rate_step_position,
    intervention_expanded, cell_results;

-- 1. Sampler settings -------------------------------------------------------------------------
ALTER TABLE "Trajectory"
    ADD COLUMN "genLength" INTEGER,
    ADD COLUMN "steps" INTEGER,
    ADD COLUMN "blockLength" INTEGER,
    ADD COLUMN "remasking" TEXT,
    ADD COLUMN "temperature" DOUBLE PRECISION;
UPDATE "Trajectory" SET
    "genLength" = COALESCE(sampler ->> 'genLength', sampler ->> 'gen_length')::int,
    "steps" = (sampler ->> 'steps')::int,
    "blockLength" = COALESCE(sampler ->> 'blockLength', sampler ->> 'block_length', sampler ->> 'genLength', sampler ->> 'gen_length')::int,
    "remasking" = COALESCE(sampler ->> 'remasking', 'low_confidence'),
    "temperature" = COALESCE(sampler ->> 'temperature', '0')::float8;
ALTER TABLE "Trajectory"
    ALTER COLUMN "genLength" SET NOT NULL,
    ALTER COLUMN "steps" SET NOT NULL,
    ALTER COLUMN "blockLength" SET NOT NULL,
    ALTER COLUMN "remasking" SET NOT NULL,
    ALTER COLUMN "temperature" SET NOT NULL,
    ADD CONSTRAINT "Trajectory_sampler_check" CHECK (
        "genLength" > 0 AND "steps" > 0 AND "blockLength" > 0
        AND "genLength" % "blockLength" = 0
        AND "steps" % ("genLength" / "blockLength") = 0
        AND "remasking" IN ('low_confidence', 'random', 'entropy', 'topk_margin')
        AND "temperature" >= 0),
    DROP COLUMN "sampler";

-- 2. No-op cells --------------------------------------------------------------------------------
ALTER TABLE "Cell" ADD COLUMN "noop" BOOLEAN NOT NULL DEFAULT false;
-- Rows written before: the agent answered these without compute as copies of the clean run.
UPDATE "Cell" c SET noop = true, skipped = false
  FROM "Trajectory" t
 WHERE t."workUnitId" = c."workUnitId" AND c.skipped AND c."computeSteps" = 0 AND c.position >= 0
   AND ((c.kind = 'remask' AND NOT (t."commitStep"[c.position + 1] BETWEEN 0 AND c.step - 1))
     OR (c.kind = 'replace' AND t."commitStep"[c.position + 1] BETWEEN 0 AND c.step - 1 AND c.token = t.tokens[c.position + 1]));
ALTER TABLE "Cell" DROP COLUMN "answerOutcome";
ALTER TABLE "Cell" ADD COLUMN "answerOutcome" TEXT NOT NULL
    GENERATED ALWAYS AS (CASE WHEN "noop" THEN 'noop' WHEN "finalAnswer" IS NULL THEN 'none' WHEN "flipped" THEN 'changed' ELSE 'same' END) STORED;

-- 3. Intervals ----------------------------------------------------------------------------------
-- Wilson score bounds, exactly 0 at k = 0 and exactly 1 at k = n (as orchestrator/results/wilson.ts).
CREATE OR REPLACE FUNCTION wilson_lower(k bigint, n bigint, z double precision DEFAULT 1.959963984540054)
RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN n IS NULL OR n <= 0 THEN NULL WHEN k <= 0 THEN 0::float8 ELSE greatest(0::float8,
    ((k::float8 / n) + z * z / (2.0 * n)
      - z * sqrt((k::float8 / n) * (1 - k::float8 / n) / n + z * z / (4.0 * n * n)))
    / (1 + z * z / n)) END
$$;
CREATE OR REPLACE FUNCTION wilson_upper(k bigint, n bigint, z double precision DEFAULT 1.959963984540054)
RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN n IS NULL OR n <= 0 THEN NULL WHEN k >= n THEN 1::float8 ELSE least(1::float8,
    ((k::float8 / n) + z * z / (2.0 * n)
      + z * sqrt((k::float8 / n) * (1 - k::float8 / n) / n + z * z / (4.0 * n * n)))
    / (1 + z * z / n)) END
$$;

-- The prompt-clustered interval (docs/sql.md "Reading the numbers"; the same arithmetic as
-- orchestrator/results/wilson.ts clusteredInterval): k of n cells in g prompts, prompt i holding
-- m_i cells of which y_i count. With p = k / n the cluster-robust (sandwich) variance of the
-- ratio p is V = g / (g - 1) · Σ (y_i − p·m_i)² / n²; the effective sample size is
-- n_eff = p(1 − p) / V (n / design effect), capped at n; the bound is the Wilson bound of
-- p·n_eff in n_eff. When p is 0 or 1 nothing estimates the within-prompt correlation and each
-- prompt counts once (n_eff = g). NULL below two prompts. The sums are passed as
-- syy = Σ y_i², sym = Σ y_i·m_i, smm = Σ m_i².
CREATE FUNCTION cluster_n_eff(k bigint, n bigint, g bigint, syy double precision, sym double precision, smm double precision)
RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN n IS NULL OR n <= 0 OR g IS NULL OR g < 2 THEN NULL
    WHEN k <= 0 OR k >= n THEN least(g, n)::float8
    ELSE (SELECT CASE WHEN v <= 0 THEN n::float8 ELSE least(n::float8, p * (1 - p) / v) END
            FROM (SELECT p, (g::float8 / (g - 1)) * greatest(0::float8, syy - 2 * p * sym + p * p * smm) / (n::float8 * n) AS v
                    FROM (SELECT k::float8 / n AS p) a) b)
  END
$$;

CREATE FUNCTION wilson_bound(k double precision, n double precision, upper boolean, z double precision DEFAULT 1.959963984540054)
RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN n IS NULL OR n <= 0 THEN NULL
    WHEN upper AND k >= n THEN 1::float8
    WHEN NOT upper AND k <= 0 THEN 0::float8
    ELSE greatest(0::float8, least(1::float8,
      ((k / n) + z * z / (2.0 * n) + (CASE WHEN upper THEN 1 ELSE -1 END) * z * sqrt(greatest(0::float8, (k / n) * (1 - k / n)) / n + z * z / (4.0 * n * n)))
      / (1 + z * z / n))) END
$$;

CREATE FUNCTION cluster_ci_low(k bigint, n bigint, g bigint, syy double precision, sym double precision, smm double precision)
RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN k <= 0 THEN (CASE WHEN cluster_n_eff(k, n, g, syy, sym, smm) IS NULL THEN NULL ELSE 0::float8 END)
    ELSE wilson_bound(k::float8 / n * cluster_n_eff(k, n, g, syy, sym, smm), cluster_n_eff(k, n, g, syy, sym, smm), false) END
$$;

CREATE FUNCTION cluster_ci_high(k bigint, n bigint, g bigint, syy double precision, sym double precision, smm double precision)
RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN k >= n THEN (CASE WHEN cluster_n_eff(k, n, g, syy, sym, smm) IS NULL THEN NULL ELSE 1::float8 END)
    ELSE wilson_bound(k::float8 / n * cluster_n_eff(k, n, g, syy, sym, smm), cluster_n_eff(k, n, g, syy, sym, smm), true) END
$$;

-- 4. The views ----------------------------------------------------------------------------------
-- One row per cell, with the clean run's context and the sampler it ran with. `mode` is
-- 'single_block' (block_length = gen_length: one block, fully parallel order) or
-- 'semi_autoregressive' (several blocks decoded left to right). `run_key` identifies the clean
-- run by what it is (model, prompt, sampler, committed tokens and commit steps): seeds that
-- repeat a deterministic run share it, so count(DISTINCT run_key) counts distinct runs.
CREATE VIEW cell_results AS
SELECT
    c."sweepId" AS sweep_id,
    s.name AS sweep_name,
    c."modelId" AS model_id,
    m.name AS model_name,
    CASE WHEN t."blockLength" = t."genLength" THEN 'single_block' ELSE 'semi_autoregressive' END AS mode,
    t."genLength" AS gen_length,
    t."steps" AS total_steps,
    t."blockLength" AS block_length,
    t."temperature" AS temperature,
    t."remasking" AS remasking,
    c."promptId" AS prompt_id,
    c.seed,
    c."workUnitId" AS work_unit_id,
    md5(concat_ws('|', c."modelId", c."promptId", t."genLength", t."steps", t."blockLength", t."temperature", t."remasking",
        t.tokens::text, t."commitStep"::text)) AS run_key,
    c.id AS cell_id,
    c."cellKey" AS cell_key,
    c.kind,
    c.variant,
    c.token,
    c.step,
    c.position,
    c.span,
    c.step::float8 / NULLIF(t."steps", 0) AS step_frac,
    CASE WHEN c."answerCommittedBefore" THEN 'post_commit' ELSE 'pre_commit' END AS phase,
    c.noop,
    c.flipped,
    c.correct,
    c.skipped,
    c."changedTokens" AS changed_tokens,
    c."computeSteps" AS compute_steps,
    c."finalAnswer" AS final_answer,
    t.answer AS clean_answer,
    t.correct AS clean_correct,
    t."answerCommitStep" AS answer_commit_step,
    t."cotCommitStep" AS cot_commit_step,
    c."answerOutcome" AS answer_outcome,
    c."stoppedEarly" AS stopped_early,
    c."partialText" IS NOT NULL AS text_partial
FROM "Cell" c
JOIN "Sweep" s ON s.id = c."sweepId"
JOIN "Model" m ON m.id = c."modelId"
LEFT JOIN "Trajectory" t ON t."workUnitId" = c."workUnitId";

-- Interventions (every kind but probe), expanded so that each cell also counts towards the
-- pooled 'all' rows of kind, span and phase (a lateral expansion, so filters on sweep/model push
-- down into the scan of "Cell").
CREATE VIEW intervention_expanded AS
SELECT r.sweep_id, r.sweep_name, r.model_id, r.model_name, r.mode, r.gen_length, r.total_steps, r.block_length, r.temperature, r.remasking,
       r.prompt_id, r.run_key, r.clean_correct, r.step, r.step_frac, r.position, k.kind, sp.span, ph.phase, r.noop, r.flipped
FROM cell_results r
CROSS JOIN LATERAL (VALUES (r.kind), ('all')) AS k(kind)
CROSS JOIN LATERAL (VALUES (r.span), ('all')) AS sp(span)
CROSS JOIN LATERAL (VALUES (r.phase), ('all')) AS ph(phase)
WHERE r.kind <> 'probe';

-- Every flip-rate view below is the same two-level aggregate: first per prompt (m = counted
-- cells, y = flips, the prompt's distinct runs and correct runs), then over prompts. Columns:
--   n = n_cells   cells counted (no-op cells left out)      flips, flip_rate = flips / n
--   n_noop        no-op cells left out of n                  n_prompts, n_runs (distinct clean runs)
--   ci_low/high   prompt-clustered 95 % interval             clean_accuracy (of the counted runs)

-- Flip rate per model and sampler by (step, position): the heatmap.
CREATE VIEW flip_rate_step_position AS
WITH per_prompt AS (
    SELECT r.sweep_id, r.sweep_name, r.model_id, r.model_name, r.mode, r.gen_length, r.total_steps, r.block_length, r.temperature, r.remasking,
           k.kind, r.step, r.step_frac, r.position, r.prompt_id,
           min(r.span) FILTER (WHERE NOT r.noop) AS span_min, max(r.span) FILTER (WHERE NOT r.noop) AS span_max,
           count(*) FILTER (WHERE NOT r.noop) AS m,
           count(*) FILTER (WHERE NOT r.noop AND r.flipped) AS y,
           count(*) FILTER (WHERE r.noop) AS noops,
           count(*) FILTER (WHERE NOT r.noop AND r.phase = 'pre_commit') AS m_pre,
           count(*) FILTER (WHERE NOT r.noop AND r.phase = 'pre_commit' AND r.flipped) AS y_pre,
           count(DISTINCT r.run_key) FILTER (WHERE NOT r.noop) AS runs,
           count(DISTINCT r.run_key) FILTER (WHERE NOT r.noop AND r.clean_correct) AS runs_correct
    FROM cell_results r
    CROSS JOIN LATERAL (VALUES (r.kind), ('all')) AS k(kind)
    WHERE r.kind <> 'probe'
    GROUP BY r.sweep_id, r.sweep_name, r.model_id, r.model_name, r.mode, r.gen_length, r.total_steps, r.block_length, r.temperature, r.remasking,
             k.kind, r.step, r.step_frac, r.position, r.prompt_id
), agg AS (
    SELECT sweep_id, sweep_name, model_id, model_name, mode, gen_length, total_steps, block_length, temperature, remasking, kind, step, step_frac, position,
           CASE WHEN min(span_min) = max(span_max) THEN min(span_min) WHEN min(span_min) IS NULL THEN NULL ELSE 'mixed' END AS span,
           sum(m)::bigint AS n, sum(y)::bigint AS flips, sum(noops)::bigint AS n_noop,
           count(*) FILTER (WHERE m > 0) AS n_prompts, sum(runs)::bigint AS n_runs, sum(runs_correct)::bigint AS runs_correct,
           sum(y * y)::float8 AS syy, sum(y * m)::float8 AS sym, sum(m * m)::float8 AS smm,
           sum(m_pre)::bigint AS n_pre_commit, sum(y_pre)::bigint AS flips_pre_commit
    FROM per_prompt
    GROUP BY sweep_id, sweep_name, model_id, model_name, mode, gen_length, total_steps, block_length, temperature, remasking, kind, step, step_frac, position
)
SELECT sweep_id, sweep_name, model_id, model_name, mode, gen_length, total_steps, block_length, temperature, remasking, kind, step, step_frac, position, span,
       n, n AS n_cells, n_prompts, n_runs, n_noop, flips,
       flips::float8 / NULLIF(n, 0) AS flip_rate,
       cluster_ci_low(flips, n, n_prompts, syy, sym, smm) AS ci_low,
       cluster_ci_high(flips, n, n_prompts, syy, sym, smm) AS ci_high,
       runs_correct::float8 / NULLIF(n_runs, 0) AS clean_accuracy,
       n_pre_commit, flips_pre_commit
FROM agg;

-- The marginals and the span table share one shape: flip rate by (grouping) over intervention_expanded.
CREATE VIEW flip_rate_by_step AS
WITH per_prompt AS (
    SELECT sweep_id, sweep_name, model_id, model_name, mode, gen_length, total_steps, block_length, temperature, remasking, kind, span, phase, step, step_frac, prompt_id,
           count(*) FILTER (WHERE NOT noop) AS m, count(*) FILTER (WHERE NOT noop AND flipped) AS y, count(*) FILTER (WHERE noop) AS noops,
           count(DISTINCT run_key) FILTER (WHERE NOT noop) AS runs, count(DISTINCT run_key) FILTER (WHERE NOT noop AND clean_correct) AS runs_correct
    FROM intervention_expanded
    GROUP BY sweep_id, sweep_name, model_id, model_name, mode, gen_length, total_steps, block_length, temperature, remasking, kind, span, phase, step, step_frac, prompt_id
), agg AS (
    SELECT sweep_id, sweep_name, model_id, model_name, mode, gen_length, total_steps, block_length, temperature, remasking, kind, span, phase, step, step_frac,
           sum(m)::bigint AS n, sum(y)::bigint AS flips, sum(noops)::bigint AS n_noop, count(*) FILTER (WHERE m > 0) AS n_prompts,
           sum(runs)::bigint AS n_runs, sum(runs_correct)::bigint AS runs_correct,
           sum(y * y)::float8 AS syy, sum(y * m)::float8 AS sym, sum(m * m)::float8 AS smm
    FROM per_prompt
    GROUP BY sweep_id, sweep_name, model_id, model_name, mode, gen_length, total_steps, block_length, temperature, remasking, kind, span, phase, step, step_frac
)
SELECT sweep_id, sweep_name, model_id, model_name, mode, gen_length, total_steps, block_length, temperature, remasking, kind, span, phase, step, step_frac,
       n, n AS n_cells, n_prompts, n_runs, n_noop, flips, flips::float8 / NULLIF(n, 0) AS flip_rate,
       cluster_ci_low(flips, n, n_prompts, syy, sym, smm) AS ci_low, cluster_ci_high(flips, n, n_prompts, syy, sym, smm) AS ci_high,
       runs_correct::float8 / NULLIF(n_runs, 0) AS clean_accuracy
FROM agg;

CREATE VIEW flip_rate_by_position AS
WITH per_prompt AS (
    SELECT sweep_id, sweep_name, model_id, model_name, mode, gen_length, total_steps, block_length, temperature, remasking, kind, span, phase, position, prompt_id,
           count(*) FILTER (WHERE NOT noop) AS m, count(*) FILTER (WHERE NOT noop AND flipped) AS y, count(*) FILTER (WHERE noop) AS noops,
           count(DISTINCT run_key) FILTER (WHERE NOT noop) AS runs, count(DISTINCT run_key) FILTER (WHERE NOT noop AND clean_correct) AS runs_correct
    FROM intervention_expanded
    GROUP BY sweep_id, sweep_name, model_id, model_name, mode, gen_length, total_steps, block_length, temperature, remasking, kind, span, phase, position, prompt_id
), agg AS (
    SELECT sweep_id, sweep_name, model_id, model_name, mode, gen_length, total_steps, block_length, temperature, remasking, kind, span, phase, position,
           sum(m)::bigint AS n, sum(y)::bigint AS flips, sum(noops)::bigint AS n_noop, count(*) FILTER (WHERE m > 0) AS n_prompts,
           sum(runs)::bigint AS n_runs, sum(runs_correct)::bigint AS runs_correct,
           sum(y * y)::float8 AS syy, sum(y * m)::float8 AS sym, sum(m * m)::float8 AS smm
    FROM per_prompt
    GROUP BY sweep_id, sweep_name, model_id, model_name, mode, gen_length, total_steps, block_length, temperature, remasking, kind, span, phase, position
)
SELECT sweep_id, sweep_name, model_id, model_name, mode, gen_length, total_steps, block_length, temperature, remasking, kind, span, phase, position,
       n, n AS n_cells, n_prompts, n_runs, n_noop, flips, flips::float8 / NULLIF(n, 0) AS flip_rate,
       cluster_ci_low(flips, n, n_prompts, syy, sym, smm) AS ci_low, cluster_ci_high(flips, n, n_prompts, syy, sym, smm) AS ci_high,
       runs_correct::float8 / NULLIF(n_runs, 0) AS clean_accuracy
FROM agg;

-- Pooled over steps and positions: the known-answer check reads span = 'cot' AND phase = 'pre_commit' AND kind = 'all'.
CREATE VIEW flip_rate_by_span AS
WITH per_prompt AS (
    SELECT sweep_id, sweep_name, model_id, model_name, mode, gen_length, total_steps, block_length, temperature, remasking, kind, span, phase, prompt_id,
           count(*) FILTER (WHERE NOT noop) AS m, count(*) FILTER (WHERE NOT noop AND flipped) AS y, count(*) FILTER (WHERE noop) AS noops,
           count(DISTINCT run_key) FILTER (WHERE NOT noop) AS runs, count(DISTINCT run_key) FILTER (WHERE NOT noop AND clean_correct) AS runs_correct
    FROM intervention_expanded
    GROUP BY sweep_id, sweep_name, model_id, model_name, mode, gen_length, total_steps, block_length, temperature, remasking, kind, span, phase, prompt_id
), agg AS (
    SELECT sweep_id, sweep_name, model_id, model_name, mode, gen_length, total_steps, block_length, temperature, remasking, kind, span, phase,
           sum(m)::bigint AS n, sum(y)::bigint AS flips, sum(noops)::bigint AS n_noop, count(*) FILTER (WHERE m > 0) AS n_prompts,
           sum(runs)::bigint AS n_runs, sum(runs_correct)::bigint AS runs_correct,
           sum(y * y)::float8 AS syy, sum(y * m)::float8 AS sym, sum(m * m)::float8 AS smm
    FROM per_prompt
    GROUP BY sweep_id, sweep_name, model_id, model_name, mode, gen_length, total_steps, block_length, temperature, remasking, kind, span, phase
)
SELECT sweep_id, sweep_name, model_id, model_name, mode, gen_length, total_steps, block_length, temperature, remasking, kind, span, phase,
       n, n AS n_cells, n_prompts, n_runs, n_noop, flips, flips::float8 / NULLIF(n, 0) AS flip_rate,
       cluster_ci_low(flips, n, n_prompts, syy, sym, smm) AS ci_low, cluster_ci_high(flips, n, n_prompts, syy, sym, smm) AS ci_high,
       runs_correct::float8 / NULLIF(n_runs, 0) AS clean_accuracy,
       syy, sym, smm
FROM agg;

-- One row per clean run: when the answer commits, relative to the chain-of-thought span.
-- Commit steps of -1 (never committed) are ignored by the first-commit minimums.
CREATE VIEW answer_commit AS
SELECT
    t."sweepId" AS sweep_id,
    s.name AS sweep_name,
    t."modelId" AS model_id,
    m.name AS model_name,
    CASE WHEN t."blockLength" = t."genLength" THEN 'single_block' ELSE 'semi_autoregressive' END AS mode,
    t."genLength" AS gen_length,
    t."steps" AS total_steps,
    t."blockLength" AS block_length,
    t."temperature" AS temperature,
    t."remasking" AS remasking,
    t."promptId" AS prompt_id,
    t.seed,
    t."workUnitId" AS work_unit_id,
    md5(concat_ws('|', t."modelId", t."promptId", t."genLength", t."steps", t."blockLength", t."temperature", t."remasking",
        t.tokens::text, t."commitStep"::text)) AS run_key,
    t.correct,
    t."cotStart" AS cot_start,
    t."cotEnd" AS cot_end,
    t."answerStart" AS answer_start,
    t."answerEnd" AS answer_end,
    cs.first_step AS cot_first_commit_step,
    t."cotCommitStep" AS cot_commit_step,
    an.first_step AS answer_first_commit_step,
    t."answerCommitStep" AS answer_commit_step,
    t."answerCommitStep"::float8 / NULLIF(t."steps", 0) AS answer_commit_frac,
    t."answerCommitStep" - t."cotCommitStep" AS answer_minus_cot_steps,
    CASE
        WHEN t."answerCommitStep" IS NULL OR t."cotCommitStep" IS NULL THEN NULL
        WHEN t."answerCommitStep" < cs.first_step THEN 'before_cot'
        WHEN t."answerCommitStep" < t."cotCommitStep" THEN 'during_cot'
        ELSE 'after_cot'
    END AS relation,
    CASE WHEN t."answerCommitStep" IS NULL THEN NULL
         ELSE cs.committed_at_answer::float8 / NULLIF(t."cotEnd" - t."cotStart", 0) END AS cot_share_at_answer_commit
FROM "Trajectory" t
JOIN "Sweep" s ON s.id = t."sweepId"
JOIN "Model" m ON m.id = t."modelId"
LEFT JOIN LATERAL (
    SELECT min(x) FILTER (WHERE x >= 0) AS first_step,
           count(*) FILTER (WHERE x >= 0 AND x <= t."answerCommitStep") AS committed_at_answer
    FROM unnest(t."commitStep"[t."cotStart" + 1 : t."cotEnd"]) AS x
) cs ON t."cotStart" IS NOT NULL
LEFT JOIN LATERAL (
    SELECT min(x) FILTER (WHERE x >= 0) AS first_step
    FROM unnest(t."commitStep"[t."answerStart" + 1 : t."answerEnd"]) AS x
) an ON t."answerStart" IS NOT NULL;

-- Per model and sampler: median answer-commit step and how often the answer is complete before
-- the CoT. n counts clean runs (work units), n_runs the distinct ones, n_prompts the prompts.
CREATE VIEW answer_commit_summary AS
SELECT sweep_id, sweep_name, model_id, model_name, mode, gen_length, total_steps, block_length, temperature, remasking,
       count(*) AS n,
       count(DISTINCT prompt_id) AS n_prompts,
       count(DISTINCT run_key) AS n_runs,
       avg(correct::int)::float8 AS clean_accuracy,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY answer_commit_step) AS median_answer_commit_step,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY answer_commit_frac) AS median_answer_commit_frac,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY cot_commit_step) AS median_cot_commit_step,
       avg(answer_minus_cot_steps)::float8 AS mean_answer_minus_cot_steps,
       (count(*) FILTER (WHERE answer_commit_step < cot_commit_step))::float8 / count(*) AS share_answer_before_cot_complete,
       count(*) FILTER (WHERE relation = 'before_cot') AS n_before_cot,
       count(*) FILTER (WHERE relation = 'during_cot') AS n_during_cot,
       count(*) FILTER (WHERE relation = 'after_cot') AS n_after_cot,
       avg(cot_share_at_answer_commit)::float8 AS mean_cot_share_at_answer_commit
FROM answer_commit
WHERE answer_commit_step IS NOT NULL AND cot_commit_step IS NOT NULL
GROUP BY sweep_id, sweep_name, model_id, model_name, mode, gen_length, total_steps, block_length, temperature, remasking;

-- Early answering along time: share of probed prompts whose read-out answer at step t already
-- equals the clean run's final answer (probe cells: flipped = read-out differs), with the
-- prompt-clustered interval of that share.
CREATE VIEW early_answering_curve AS
WITH per_prompt AS (
    SELECT sweep_id, sweep_name, model_id, model_name, mode, gen_length, total_steps, block_length, temperature, remasking, step, step_frac, prompt_id,
           count(*) AS m, count(*) FILTER (WHERE NOT flipped) AS y,
           count(DISTINCT run_key) AS runs, count(DISTINCT run_key) FILTER (WHERE clean_correct) AS runs_correct
    FROM cell_results
    WHERE kind = 'probe'
    GROUP BY sweep_id, sweep_name, model_id, model_name, mode, gen_length, total_steps, block_length, temperature, remasking, step, step_frac, prompt_id
), agg AS (
    SELECT sweep_id, sweep_name, model_id, model_name, mode, gen_length, total_steps, block_length, temperature, remasking, step, step_frac,
           sum(m)::bigint AS n, sum(y)::bigint AS same, count(*) AS n_prompts, sum(runs)::bigint AS n_runs, sum(runs_correct)::bigint AS runs_correct,
           sum(y * y)::float8 AS syy, sum(y * m)::float8 AS sym, sum(m * m)::float8 AS smm
    FROM per_prompt
    GROUP BY sweep_id, sweep_name, model_id, model_name, mode, gen_length, total_steps, block_length, temperature, remasking, step, step_frac
)
SELECT sweep_id, sweep_name, model_id, model_name, mode, gen_length, total_steps, block_length, temperature, remasking, step, step_frac,
       n, n AS n_cells, n_prompts, n_runs, same, same::float8 / NULLIF(n, 0) AS share_same,
       cluster_ci_low(same, n, n_prompts, syy, sym, smm) AS ci_low, cluster_ci_high(same, n, n_prompts, syy, sym, smm) AS ci_high,
       runs_correct::float8 / NULLIF(n_runs, 0) AS clean_accuracy
FROM agg;

-- Area over the early-answering curve (time-dimension analogue of Lanham et al. 2023's AOC):
-- the curve y(x), x = step / T, through the probed points plus (1, 1) (after the last step the
-- read-out is the final answer by definition), held at its first value on [0, x_first],
-- trapezoidal in between; aoc = 1 - integral of y over [0, 1].
CREATE VIEW early_answering_aoc AS
WITH pts AS (
    SELECT sweep_id, sweep_name, model_id, model_name, mode, gen_length, total_steps, block_length, temperature, remasking,
           step_frac AS x, share_same AS y, n, n_prompts, clean_accuracy
    FROM early_answering_curve
    UNION ALL
    SELECT DISTINCT sweep_id, sweep_name, model_id, model_name, mode, gen_length, total_steps, block_length, temperature, remasking,
           1.0::float8, 1.0::float8, 0::bigint, 0::bigint, NULL::float8
    FROM early_answering_curve
), seg AS (
    SELECT *, lag(x) OVER w AS x0, lag(y) OVER w AS y0
    FROM pts
    WINDOW w AS (PARTITION BY sweep_id, model_id, mode, gen_length, total_steps, block_length, temperature, remasking ORDER BY x, n DESC)
)
SELECT sweep_id, sweep_name, model_id, model_name, mode, gen_length, total_steps, block_length, temperature, remasking,
       count(*) - 1 AS n_steps,
       sum(n)::bigint AS n_cells,
       max(n_prompts) AS n_prompts,
       max(clean_accuracy) AS clean_accuracy,
       sum(CASE WHEN x0 IS NULL THEN x * y ELSE (x - x0) * (y + y0) / 2 END) AS auc,
       1 - sum(CASE WHEN x0 IS NULL THEN x * y ELSE (x - x0) * (y + y0) / 2 END) AS aoc
FROM seg
GROUP BY sweep_id, sweep_name, model_id, model_name, mode, gen_length, total_steps, block_length, temperature, remasking;
