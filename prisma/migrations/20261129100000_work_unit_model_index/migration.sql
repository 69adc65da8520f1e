-- A spec may list the same model file twice with different sampler settings (to compare
-- block lengths, say). Those entries are distinct work units: a work unit is identified by
-- the index of its entry in the spec's model list (the sweep's stored spec `models[i]`,
-- which holds the sampler), not by the model file alone. Before this, the second entry's
-- work units collided on (sweepId, modelId, promptId, seed) and were silently dropped.

-- AlterTable
ALTER TABLE "WorkUnit" ADD COLUMN "modelIndex" INTEGER NOT NULL DEFAULT 0;

-- DropIndex
DROP INDEX "WorkUnit_sweepId_modelId_promptId_seed_key";

-- CreateIndex
CREATE UNIQUE INDEX "WorkUnit_sweepId_modelIndex_promptId_seed_key" ON "WorkUnit"("sweepId", "modelIndex", "promptId", "seed");
