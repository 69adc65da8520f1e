-- Work units are numbered 0..n-1 within their sweep so that workflows can shard and page
-- through them by range (orchestrator/sweep/contract.ts).

-- AlterTable
ALTER TABLE "WorkUnit" ADD COLUMN "ordinal" INTEGER NOT NULL;

-- CreateIndex
CREATE UNIQUE INDEX "WorkUnit_sweepId_ordinal_key" ON "WorkUnit"("sweepId", "ordinal");
