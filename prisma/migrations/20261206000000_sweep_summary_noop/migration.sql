-- sweep_summary leaves no-op cells out of its rate, as every other view does (docs/sql.md
-- "Reading the numbers"): intervention_cells and flips count only cells whose intervention could
-- change something, flip_rate is flips / intervention_cells, and the new last column noop_cells
-- says how many were left out. skipped_cells keeps its one meaning (changed the state, outcome
-- already settled; never a no-op).

CREATE OR REPLACE VIEW sweep_summary AS
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
    coalesce(c.compute_steps, 0)::bigint AS compute_steps,
    st.state,
    st.state_detail,
    st.resume_helps,
    st.waiting_models,
    st.failed_bad_input,
    st.failed_other,
    st.work_units_left,
    coalesce(c.noop_cells, 0) AS noop_cells
FROM "Sweep" s
CROSS JOIN LATERAL sweep_state(s.id) st
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
           count(*) FILTER (WHERE x.kind <> 'probe' AND NOT x.noop) AS intervention_cells,
           count(*) FILTER (WHERE x.noop) AS noop_cells,
           count(*) FILTER (WHERE x.kind = 'probe') AS probe_cells,
           count(*) FILTER (WHERE x.skipped) AS skipped_cells,
           count(*) FILTER (WHERE x.kind <> 'probe' AND NOT x.noop AND x.flipped) AS flips,
           sum(x."computeSteps") AS compute_steps
    FROM "Cell" x WHERE x."sweepId" = s.id
) c ON true;

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'faithsweep_reader') THEN
    GRANT SELECT ON sweep_summary TO faithsweep_reader;
  END IF;
END $$;
