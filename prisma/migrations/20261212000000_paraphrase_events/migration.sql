-- Paraphrase-remask sampling (docs/paraphrase.md).
--
-- Trajectory."paraphraseEvents": the clean run's paraphrase events in step order, as a JSON array
-- of {step, paraphraser, before, after, tokensBefore, commitBefore, tokensAfter, commitAfter,
-- remasked, truncated} (proto ParaphraseEvent); NULL when the run had none (paraphrase off, and
-- every row written before). Its settings are in "samplerOptions"->'paraphrase'.
--
-- A new view, trajectory_paraphrase_events: one row per event (sweep, model, prompt, seed, step,
-- paraphraser, before/after text, how many positions were remasked, whether the text changed),
-- for SQL and the report. No existing view is redefined.

ALTER TABLE "Trajectory" ADD COLUMN "paraphraseEvents" JSONB;

CREATE VIEW trajectory_paraphrase_events AS
SELECT
    t."sweepId" AS sweep_id,
    m.name AS model,
    t."promptId" AS prompt_id,
    t.seed,
    (e.value ->> 'step')::int AS step,
    e.value ->> 'paraphraser' AS paraphraser,
    e.value ->> 'before' AS before_text,
    e.value ->> 'after' AS after_text,
    (e.value ->> 'before') IS DISTINCT FROM (e.value ->> 'after') AS text_changed,
    jsonb_array_length(COALESCE(e.value -> 'remasked', '[]'::jsonb)) AS remasked,
    COALESCE((e.value ->> 'truncated')::boolean, false) AS truncated,
    t.correct AS run_correct
FROM "Trajectory" t
JOIN "Model" m ON m.id = t."modelId"
CROSS JOIN LATERAL jsonb_array_elements(t."paraphraseEvents") AS e(value)
WHERE t."paraphraseEvents" IS NOT NULL;
