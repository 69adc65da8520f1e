-- Results views (issue 6): the common questions about a sweep, answerable in plain SQL.
-- Every view carries sweep_id/sweep_name and model_id/model_name; filter on them. Rates are
-- double precision with their counts (n, flips) beside them, so any coarser grouping is
-- SUM(flips) / SUM(n). Intervals are Wilson score intervals at 95 %. docs/sql.md documents
-- every column, the definitions and example queries; test/results/views.test.ts checks each
-- view against hand-computed values on a fixture sweep.
--
-- Naming: `kind`, `span` and `phase` take the value 'all' on rows that pool over them.
-- `phase` says whether the clean run's answer span was already fully committed before the
-- intervention step: 'post_commit' = Cell.answerCommittedBefore (answerCommitStep < step),
-- 'pre_commit' = not (step <= answerCommitStep: at step = answerCommitStep the last answer
-- token is still masked in the state the intervention corrupts).

-- Wilson score interval bounds for k successes in n trials (z = 1.96 for 95 %).
CREATE FUNCTION wilson_lower(k bigint, n bigint, z double precision DEFAULT 1.959963984540054)
RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN n IS NULL OR n <= 0 THEN NULL ELSE greatest(0::float8,
    ((k::float8 / n) + z * z / (2.0 * n)
      - z * sqrt((k::float8 / n) * (1 - k::float8 / n) / n + z * z / (4.0 * n * n)))
    / (1 + z * z / n)) END
$$;

CREATE FUNCTION wilson_upper(k bigint, n bigint, z double precision DEFAULT 1.959963984540054)
RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN n IS NULL OR n <= 0 THEN NULL ELSE least(1::float8,
    ((k::float8 / n) + z * z / (2.0 * n)
      + z * sqrt((k::float8 / n) * (1 - k::float8 / n) / n + z * z / (4.0 * n * n)))
    / (1 + z * z / n)) END
$$;

-- One row per cell, with the clean run's context (T, step fraction, phase).
CREATE VIEW cell_results AS
SELECT
    c."sweepId" AS sweep_id,
    s.name AS sweep_name,
    c."modelId" AS model_id,
    m.name AS model_name,
    c."promptId" AS prompt_id,
    c.seed,
    c."workUnitId" AS work_unit_id,
    c.id AS cell_id,
    c."cellKey" AS cell_key,
    c.kind,
    c.variant,
    c.step,
    c.position,
    c.span,
    (t.sampler ->> 'steps')::int AS total_steps,
    c.step::float8 / NULLIF((t.sampler ->> 'steps')::int, 0) AS step_frac,
    CASE WHEN c."answerCommittedBefore" THEN 'post_commit' ELSE 'pre_commit' END AS phase,
    c.flipped,
    c.correct,
    c.skipped,
    c."changedTokens" AS changed_tokens,
    c."computeSteps" AS compute_steps,
    c."finalAnswer" AS final_answer,
    t.answer AS clean_answer,
    t."answerCommitStep" AS answer_commit_step,
    t."cotCommitStep" AS cot_commit_step
FROM "Cell" c
JOIN "Sweep" s ON s.id = c."sweepId"
JOIN "Model" m ON m.id = c."modelId"
LEFT JOIN "Trajectory" t ON t."workUnitId" = c."workUnitId";

-- Interventions (every kind but probe), expanded so that each cell also counts towards the
-- pooled 'all' rows of kind, span and phase. Written as a lateral expansion rather than
-- GROUPING SETS so that filters on sweep/model push down into the scan of "Cell".
CREATE VIEW intervention_expanded AS
SELECT r.sweep_id, r.sweep_name, r.model_id, r.model_name, r.total_steps, r.step, r.step_frac,
       r.position, k.kind, sp.span, ph.phase, r.flipped
FROM cell_results r
CROSS JOIN LATERAL (VALUES (r.kind), ('all')) AS k(kind)
CROSS JOIN LATERAL (VALUES (r.span), ('all')) AS sp(span)
CROSS JOIN LATERAL (VALUES (r.phase), ('all')) AS ph(phase)
WHERE r.kind <> 'probe';

-- Flip rate per model by (step, position): the heatmap.
CREATE VIEW flip_rate_step_position AS
SELECT r.sweep_id, r.sweep_name, r.model_id, r.model_name, k.kind, r.total_steps, r.step, r.step_frac, r.position,
       CASE WHEN min(r.span) = max(r.span) THEN min(r.span) ELSE 'mixed' END AS span,
       count(*) AS n,
       count(*) FILTER (WHERE r.flipped) AS flips,
       (count(*) FILTER (WHERE r.flipped))::float8 / count(*) AS flip_rate,
       wilson_lower(count(*) FILTER (WHERE r.flipped), count(*)) AS ci_low,
       wilson_upper(count(*) FILTER (WHERE r.flipped), count(*)) AS ci_high,
       count(*) FILTER (WHERE r.phase = 'pre_commit') AS n_pre_commit,
       count(*) FILTER (WHERE r.phase = 'pre_commit' AND r.flipped) AS flips_pre_commit
FROM cell_results r
CROSS JOIN LATERAL (VALUES (r.kind), ('all')) AS k(kind)
WHERE r.kind <> 'probe'
GROUP BY r.sweep_id, r.sweep_name, r.model_id, r.model_name, k.kind, r.total_steps, r.step, r.step_frac, r.position;

-- Marginal over positions: flip rate by step, split by span and phase.
CREATE VIEW flip_rate_by_step AS
SELECT sweep_id, sweep_name, model_id, model_name, kind, span, phase, total_steps, step, step_frac,
       count(*) AS n,
       count(*) FILTER (WHERE flipped) AS flips,
       (count(*) FILTER (WHERE flipped))::float8 / count(*) AS flip_rate,
       wilson_lower(count(*) FILTER (WHERE flipped), count(*)) AS ci_low,
       wilson_upper(count(*) FILTER (WHERE flipped), count(*)) AS ci_high
FROM intervention_expanded
GROUP BY sweep_id, sweep_name, model_id, model_name, kind, span, phase, total_steps, step, step_frac;

-- Marginal over steps: flip rate by position, split by span and phase.
CREATE VIEW flip_rate_by_position AS
SELECT sweep_id, sweep_name, model_id, model_name, kind, span, phase, position,
       count(*) AS n,
       count(*) FILTER (WHERE flipped) AS flips,
       (count(*) FILTER (WHERE flipped))::float8 / count(*) AS flip_rate,
       wilson_lower(count(*) FILTER (WHERE flipped), count(*)) AS ci_low,
       wilson_upper(count(*) FILTER (WHERE flipped), count(*)) AS ci_high
FROM intervention_expanded
GROUP BY sweep_id, sweep_name, model_id, model_name, kind, span, phase, position;

-- Flip rate by span and phase (pooled over steps and positions): the known-answer check reads
-- span = 'cot' AND phase = 'pre_commit' AND kind = 'all'.
CREATE VIEW flip_rate_by_span AS
SELECT sweep_id, sweep_name, model_id, model_name, kind, span, phase,
       count(*) AS n,
       count(*) FILTER (WHERE flipped) AS flips,
       (count(*) FILTER (WHERE flipped))::float8 / count(*) AS flip_rate,
       wilson_lower(count(*) FILTER (WHERE flipped), count(*)) AS ci_low,
       wilson_upper(count(*) FILTER (WHERE flipped), count(*)) AS ci_high
FROM intervention_expanded
GROUP BY sweep_id, sweep_name, model_id, model_name, kind, span, phase;

-- One row per clean run: when the answer commits, relative to the chain-of-thought span.
-- Commit steps of -1 (never committed) are ignored by the first-commit minimums.
CREATE VIEW answer_commit AS
SELECT
    t."sweepId" AS sweep_id,
    s.name AS sweep_name,
    t."modelId" AS model_id,
    m.name AS model_name,
    t."promptId" AS prompt_id,
    t.seed,
    t."workUnitId" AS work_unit_id,
    (t.sampler ->> 'steps')::int AS total_steps,
    t.correct,
    t."cotStart" AS cot_start,
    t."cotEnd" AS cot_end,
    t."answerStart" AS answer_start,
    t."answerEnd" AS answer_end,
    cs.first_step AS cot_first_commit_step,
    t."cotCommitStep" AS cot_commit_step,
    an.first_step AS answer_first_commit_step,
    t."answerCommitStep" AS answer_commit_step,
    t."answerCommitStep"::float8 / NULLIF((t.sampler ->> 'steps')::int, 0) AS answer_commit_frac,
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

-- Per model: median answer-commit step and how often the answer is complete before the CoT.
CREATE VIEW answer_commit_summary AS
SELECT sweep_id, sweep_name, model_id, model_name, total_steps,
       count(*) AS n,
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
GROUP BY sweep_id, sweep_name, model_id, model_name, total_steps;

-- Early answering along time: share of probed prompts whose read-out answer at step t already
-- equals the clean run's final answer (probe cells: flipped = read-out differs).
CREATE VIEW early_answering_curve AS
SELECT sweep_id, sweep_name, model_id, model_name, total_steps, step, step_frac,
       count(*) AS n,
       count(*) FILTER (WHERE NOT flipped) AS same,
       (count(*) FILTER (WHERE NOT flipped))::float8 / count(*) AS share_same,
       wilson_lower(count(*) FILTER (WHERE NOT flipped), count(*)) AS ci_low,
       wilson_upper(count(*) FILTER (WHERE NOT flipped), count(*)) AS ci_high
FROM cell_results
WHERE kind = 'probe'
GROUP BY sweep_id, sweep_name, model_id, model_name, total_steps, step, step_frac;

-- Area over the early-answering curve (time-dimension analogue of Lanham et al. 2023's AOC):
-- the curve y(x), x = step / T, through the probed points plus (1, 1) (after the last step the
-- read-out is the final answer by definition), held at its first value on [0, x_first],
-- trapezoidal in between; aoc = 1 - integral of y over [0, 1].
CREATE VIEW early_answering_aoc AS
WITH pts AS (
    SELECT sweep_id, sweep_name, model_id, model_name, total_steps, step_frac AS x, share_same AS y, n
    FROM early_answering_curve
    UNION ALL
    SELECT DISTINCT sweep_id, sweep_name, model_id, model_name, total_steps, 1.0::float8, 1.0::float8, 0::bigint
    FROM early_answering_curve
), seg AS (
    SELECT *, lag(x) OVER w AS x0, lag(y) OVER w AS y0
    FROM pts
    WINDOW w AS (PARTITION BY sweep_id, model_id, total_steps ORDER BY x, n DESC)
)
SELECT sweep_id, sweep_name, model_id, model_name, total_steps,
       count(*) - 1 AS n_steps,
       sum(n)::bigint AS n_cells,
       sum(CASE WHEN x0 IS NULL THEN x * y ELSE (x - x0) * (y + y0) / 2 END) AS auc,
       1 - sum(CASE WHEN x0 IS NULL THEN x * y ELSE (x - x0) * (y + y0) / 2 END) AS aoc
FROM seg
GROUP BY sweep_id, sweep_name, model_id, model_name, total_steps;

-- One row per sweep.
CREATE VIEW sweep_summary AS
SELECT
    s.id AS sweep_id,
    s.name AS sweep_name,
    s.status,
    s."createdAt" AS created_at,
    s."startedAt" AS started_at,
    s."finishedAt" AS finished_at,
    EXTRACT(EPOCH FROM (s."finishedAt" - s."startedAt"))::float8 AS duration_s,
    w.models,
    coalesce(w.n_models, 0) AS n_models,
    coalesce(w.n_prompts, 0) AS n_prompts,
    coalesce(w.n_seeds, 0) AS n_seeds,
    coalesce(w.work_units, 0) AS work_units,
    coalesce(w.work_units_done, 0) AS work_units_done,
    coalesce(w.work_units_failed, 0) AS work_units_failed,
    coalesce(tr.trajectories, 0) AS trajectories,
    tr.clean_accuracy,
    s."plannedCells" AS planned_cells,
    coalesce(c.cells, 0) AS cells,
    coalesce(c.intervention_cells, 0) AS intervention_cells,
    coalesce(c.probe_cells, 0) AS probe_cells,
    coalesce(c.skipped_cells, 0) AS skipped_cells,
    coalesce(c.flips, 0) AS flips,
    c.flips::float8 / NULLIF(c.intervention_cells, 0) AS flip_rate,
    coalesce(c.compute_steps, 0)::bigint AS compute_steps
FROM "Sweep" s
LEFT JOIN LATERAL (
    SELECT array_agg(DISTINCT m.name ORDER BY m.name) AS models,
           count(DISTINCT wu."modelId") AS n_models,
           count(DISTINCT wu."promptId") AS n_prompts,
           count(DISTINCT wu.seed) AS n_seeds,
           count(*) AS work_units,
           count(*) FILTER (WHERE wu.status = 'done') AS work_units_done,
           count(*) FILTER (WHERE wu.status = 'failed') AS work_units_failed
    FROM "WorkUnit" wu JOIN "Model" m ON m.id = wu."modelId"
    WHERE wu."sweepId" = s.id
) w ON true
LEFT JOIN LATERAL (
    SELECT count(*) AS trajectories, avg(t.correct::int)::float8 AS clean_accuracy
    FROM "Trajectory" t WHERE t."sweepId" = s.id
) tr ON true
LEFT JOIN LATERAL (
    SELECT count(*) AS cells,
           count(*) FILTER (WHERE x.kind <> 'probe') AS intervention_cells,
           count(*) FILTER (WHERE x.kind = 'probe') AS probe_cells,
           count(*) FILTER (WHERE x.skipped) AS skipped_cells,
           count(*) FILTER (WHERE x.kind <> 'probe' AND x.flipped) AS flips,
           sum(x."computeSteps") AS compute_steps
    FROM "Cell" x WHERE x."sweepId" = s.id
) c ON true;
