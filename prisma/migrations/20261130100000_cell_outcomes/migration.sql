-- Cell outcomes when the answer can move (README "Cell outcomes"; free-text answer rule of
-- model cards with answer.regex, node-agent/engine/text.ts).
--
-- answerOutcome  same | changed | none: the cell's answer against the clean run's; none = no
--                answer could be read (e.g. an end token moved before it), a flip when the
--                clean run had an answer. Derived from finalAnswer and flipped by the database,
--                so it can never disagree with them (and rows written before have it too).
-- partialText    the branch's response as far as it was known when it was skipped or stopped
--                early before its response was settled (masked positions shown as the mask
--                token); finalText is then NULL. Partial text is never stored as final text.
-- stoppedEarly   the branch stopped, with masked positions left, once its outcome was settled.
-- changedTokens  NULL when not every final token of the branch is known (skipped, or stopped
--                early with masked positions left); it used to be 0 then.

ALTER TABLE "Cell" ADD COLUMN "answerOutcome" TEXT NOT NULL
    GENERATED ALWAYS AS (CASE WHEN "finalAnswer" IS NULL THEN 'none' WHEN "flipped" THEN 'changed' ELSE 'same' END) STORED;
ALTER TABLE "Cell" ADD COLUMN "partialText" TEXT;
ALTER TABLE "Cell" ADD COLUMN "stoppedEarly" BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE "Cell" ALTER COLUMN "changedTokens" DROP NOT NULL;

-- Rows written before this migration, as far as they can be told apart: a text holding the
-- model's mask token was partial (an early stop, or a skip); a skipped cell without compute
-- and with an empty text had neither its text nor its count computed.
UPDATE "Cell" c
   SET "partialText" = c."finalText", "finalText" = NULL, "changedTokens" = NULL, "stoppedEarly" = NOT c.skipped
  FROM "Model" m
 WHERE m.id = c."modelId" AND c.kind <> 'probe' AND c."finalText" IS NOT NULL
   AND coalesce(m.card -> 'special_tokens' ->> 'mask', '') <> ''
   AND strpos(c."finalText", m.card -> 'special_tokens' ->> 'mask') > 0;
UPDATE "Cell" SET "finalText" = NULL, "changedTokens" = NULL
 WHERE skipped AND "computeSteps" = 0 AND "finalText" = '';

-- cell_results gains the new columns (appended, so the views built on it are unchanged).
CREATE OR REPLACE VIEW cell_results AS
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
    t."cotCommitStep" AS cot_commit_step,
    c."answerOutcome" AS answer_outcome,
    c."stoppedEarly" AS stopped_early,
    c."partialText" IS NOT NULL AS text_partial
FROM "Cell" c
JOIN "Sweep" s ON s.id = c."sweepId"
JOIN "Model" m ON m.id = c."modelId"
LEFT JOIN "Trajectory" t ON t."workUnitId" = c."workUnitId";
