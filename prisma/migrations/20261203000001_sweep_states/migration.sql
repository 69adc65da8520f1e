-- Sweep states a researcher can act on: sweep_state(sweep id) derives them from the sweep's
-- status and its work units, and sweep_summary shows them (same columns as before, then
-- state, state_detail, resume_helps, waiting_models, failed_bad_input, failed_other,
-- work_units_left). `faithsweep status`, `watch` and `list` read the same function.
--
-- state:
--   completed                every work unit done;
--   completed_with_failures  the sweep ended, every work unit done or failed, some failed:
--                            failed_bad_input of them on bad input (BAD_INTERVENTION,
--                            BAD_SPEC: resume cannot help, the spec or its inputs must change),
--                            failed_other otherwise (e.g. MODEL_NOT_FOUND, INTERNAL: resume
--                            retries them); resume_helps says whether any resume can help;
--   partial                  the sweep ended with work units left (not done, not failed):
--                            resume runs them;
--   waiting_for_agents       running, and work units wait because no live agent serves
--                            their model (their last attempt failed with AGENT_UNAVAILABLE
--                            "no live agent has model …"): waiting_models names the models;
--   otherwise the status itself (running, cancelled, failed, registering, planned).
-- A work unit's "error" starts with its failure type and a colon ("BAD_SPEC: …"), as the
-- worker writes it.
CREATE FUNCTION sweep_state(sweep text,
    OUT state text, OUT state_detail text, OUT resume_helps boolean, OUT waiting_models text[],
    OUT failed_bad_input integer, OUT failed_other integer, OUT work_units_left integer)
LANGUAGE sql STABLE AS $$
WITH s AS (SELECT status FROM "Sweep" WHERE id = sweep),
u AS (
    SELECT (count(*) FILTER (WHERE status = 'failed' AND split_part(error, ':', 1) IN ('BAD_INTERVENTION', 'BAD_SPEC')))::int AS bad,
           (count(*) FILTER (WHERE status = 'failed' AND split_part(error, ':', 1) NOT IN ('BAD_INTERVENTION', 'BAD_SPEC')))::int
             + (count(*) FILTER (WHERE status = 'failed' AND error IS NULL))::int AS other,
           (count(*) FILTER (WHERE status NOT IN ('done', 'failed')))::int AS left_
      FROM "WorkUnit" WHERE "sweepId" = sweep
),
w AS (
    SELECT array_agg(DISTINCT m.name ORDER BY m.name) AS models, count(*)::int AS units
      FROM "WorkUnit" wu JOIN "Model" m ON m.id = wu."modelId"
     WHERE wu."sweepId" = sweep AND wu.status = 'pending' AND wu.error LIKE 'AGENT\_UNAVAILABLE: no live agent%'
),
k AS (
    SELECT s.status, u.bad, u.other, u.left_, w.models, w.units,
           CASE
             WHEN s.status = 'completed' AND u.bad + u.other = 0 THEN 'completed'
             WHEN s.status IN ('completed', 'partial') AND u.left_ = 0 AND u.bad + u.other > 0 THEN 'completed_with_failures'
             WHEN s.status IN ('completed', 'partial') THEN 'partial'
             WHEN s.status = 'running' AND w.units > 0 THEN 'waiting_for_agents'
             ELSE s.status
           END AS state
      FROM s, u, w
)
SELECT k.state,
       CASE k.state
         WHEN 'completed' THEN 'every work unit done'
         WHEN 'completed_with_failures' THEN concat_ws('; ',
             CASE WHEN k.bad > 0 THEN k.bad || ' work unit(s) failed on bad input: resume cannot help, fix the spec or its inputs' END,
             CASE WHEN k.other > 0 THEN k.other || ' work unit(s) failed otherwise: resume retries them' END)
         WHEN 'partial' THEN concat_ws('; ', k.left_ || ' work unit(s) not run: resume runs them',
             CASE WHEN k.bad > 0 THEN k.bad || ' failed on bad input (resume cannot help)' END,
             CASE WHEN k.other > 0 THEN k.other || ' failed otherwise (resume retries them)' END)
         WHEN 'waiting_for_agents' THEN k.units || ' work unit(s) wait for an agent serving ' || array_to_string(k.models, ', ')
             || ': start one (faithsweep agent --models DIR); the sweep goes on by itself'
         WHEN 'cancelled' THEN CASE WHEN k.left_ > 0 THEN k.left_ || ' work unit(s) not run: resume runs them' ELSE 'cancelled after every work unit ended' END
         ELSE NULL
       END,
       CASE k.state
         WHEN 'completed' THEN false
         WHEN 'completed_with_failures' THEN k.other > 0
         WHEN 'partial' THEN true
         WHEN 'cancelled' THEN k.left_ > 0 OR k.other > 0
         WHEN 'failed' THEN true
         ELSE NULL
       END,
       CASE WHEN k.state = 'waiting_for_agents' THEN k.models ELSE ARRAY[]::text[] END,
       k.bad, k.other, k.left_
  FROM k
$$;

DROP VIEW sweep_summary;

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
    coalesce(c.compute_steps, 0)::bigint AS compute_steps,
    st.state,
    st.state_detail,
    st.resume_helps,
    st.waiting_models,
    st.failed_bad_input,
    st.failed_other,
    st.work_units_left
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
           count(*) FILTER (WHERE x.kind <> 'probe') AS intervention_cells,
           count(*) FILTER (WHERE x.kind = 'probe') AS probe_cells,
           count(*) FILTER (WHERE x.skipped) AS skipped_cells,
           count(*) FILTER (WHERE x.kind <> 'probe' AND x.flipped) AS flips,
           sum(x."computeSteps") AS compute_steps
    FROM "Cell" x WHERE x."sweepId" = s.id
) c ON true;

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'faithsweep_reader') THEN
    GRANT SELECT ON sweep_summary TO faithsweep_reader;
    GRANT EXECUTE ON FUNCTION sweep_state(text) TO faithsweep_reader;
  END IF;
END $$;
