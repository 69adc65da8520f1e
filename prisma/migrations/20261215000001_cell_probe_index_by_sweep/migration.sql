-- The partial index of probe and truncate cells leads with "sweepId" (docs/sql.md "Ingestion and
-- index cost"). Migration 20261215000000 made ("modelId", "kind", "step") partial; a view filtered
-- by one sweep then read every sweep's probe cells through it and filtered by sweep afterwards
-- (test/results/views.test.ts "filters on the sweep reach the Cell index"). With "sweepId" first,
-- the early-answering and Lanham views reach one sweep's probe and truncate cells through the
-- index; unfiltered, they read the whole (small) partial index. Intervention cells still never
-- touch it.
DROP INDEX "Cell_modelId_kind_step_idx";
CREATE INDEX "Cell_sweepId_kind_modelId_step_idx" ON "Cell" ("sweepId", "kind", "modelId", "step") WHERE "kind" IN ('probe', 'truncate');
