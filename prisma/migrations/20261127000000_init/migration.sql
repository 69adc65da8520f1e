-- CreateTable
CREATE TABLE "Sweep" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "spec" JSONB NOT NULL,
    "specHash" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'planned',
    "workflowId" TEXT,
    "plannedCells" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "Sweep_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Model" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "path" TEXT NOT NULL,
    "sha256" TEXT NOT NULL,
    "card" JSONB NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Model_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Prompt" (
    "id" TEXT NOT NULL,
    "dataset" TEXT NOT NULL,
    "idx" INTEGER NOT NULL,
    "text" TEXT NOT NULL,
    "goldAnswer" TEXT NOT NULL,
    "meta" JSONB,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Prompt_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "WorkUnit" (
    "id" TEXT NOT NULL,
    "sweepId" TEXT NOT NULL,
    "modelId" TEXT NOT NULL,
    "promptId" TEXT NOT NULL,
    "seed" INTEGER NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "agentId" TEXT,
    "plannedCells" INTEGER NOT NULL DEFAULT 0,
    "doneCells" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),
    "durationMs" INTEGER,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "WorkUnit_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Trajectory" (
    "id" TEXT NOT NULL,
    "workUnitId" TEXT NOT NULL,
    "sweepId" TEXT NOT NULL,
    "modelId" TEXT NOT NULL,
    "promptId" TEXT NOT NULL,
    "seed" INTEGER NOT NULL,
    "sampler" JSONB NOT NULL,
    "promptLength" INTEGER NOT NULL,
    "commitStep" INTEGER[],
    "tokens" INTEGER[],
    "finalText" TEXT NOT NULL,
    "answer" TEXT,
    "correct" BOOLEAN NOT NULL,
    "cotStart" INTEGER,
    "cotEnd" INTEGER,
    "answerStart" INTEGER,
    "answerEnd" INTEGER,
    "answerCommitStep" INTEGER,
    "cotCommitStep" INTEGER,
    "filmStrip" JSONB,
    "computeMs" INTEGER,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Trajectory_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Cell" (
    "id" BIGSERIAL NOT NULL,
    "sweepId" TEXT NOT NULL,
    "cellKey" TEXT NOT NULL,
    "workUnitId" TEXT NOT NULL,
    "modelId" TEXT NOT NULL,
    "promptId" TEXT NOT NULL,
    "seed" INTEGER NOT NULL,
    "step" INTEGER NOT NULL,
    "position" INTEGER NOT NULL,
    "kind" TEXT NOT NULL,
    "variant" TEXT,
    "token" INTEGER,
    "span" TEXT NOT NULL,
    "finalAnswer" TEXT,
    "finalText" TEXT,
    "flipped" BOOLEAN NOT NULL,
    "correct" BOOLEAN NOT NULL,
    "answerCommittedBefore" BOOLEAN NOT NULL,
    "changedTokens" INTEGER NOT NULL,
    "computeSteps" INTEGER NOT NULL,
    "skipped" BOOLEAN NOT NULL DEFAULT false,
    "durationMs" INTEGER,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Cell_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Sweep_name_key" ON "Sweep"("name");

-- CreateIndex
CREATE UNIQUE INDEX "Model_sha256_key" ON "Model"("sha256");

-- CreateIndex
CREATE INDEX "Model_name_idx" ON "Model"("name");

-- CreateIndex
CREATE UNIQUE INDEX "Prompt_dataset_idx_key" ON "Prompt"("dataset", "idx");

-- CreateIndex
CREATE INDEX "WorkUnit_sweepId_status_idx" ON "WorkUnit"("sweepId", "status");

-- CreateIndex
CREATE UNIQUE INDEX "WorkUnit_sweepId_modelId_promptId_seed_key" ON "WorkUnit"("sweepId", "modelId", "promptId", "seed");

-- CreateIndex
CREATE UNIQUE INDEX "Trajectory_workUnitId_key" ON "Trajectory"("workUnitId");

-- CreateIndex
CREATE INDEX "Trajectory_sweepId_modelId_idx" ON "Trajectory"("sweepId", "modelId");

-- CreateIndex
CREATE INDEX "Cell_sweepId_modelId_step_position_idx" ON "Cell"("sweepId", "modelId", "step", "position");

-- CreateIndex
CREATE INDEX "Cell_modelId_kind_step_idx" ON "Cell"("modelId", "kind", "step");

-- CreateIndex
CREATE INDEX "Cell_workUnitId_idx" ON "Cell"("workUnitId");

-- CreateIndex
CREATE UNIQUE INDEX "Cell_sweepId_cellKey_key" ON "Cell"("sweepId", "cellKey");

-- AddForeignKey
ALTER TABLE "WorkUnit" ADD CONSTRAINT "WorkUnit_sweepId_fkey" FOREIGN KEY ("sweepId") REFERENCES "Sweep"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "WorkUnit" ADD CONSTRAINT "WorkUnit_modelId_fkey" FOREIGN KEY ("modelId") REFERENCES "Model"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "WorkUnit" ADD CONSTRAINT "WorkUnit_promptId_fkey" FOREIGN KEY ("promptId") REFERENCES "Prompt"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Trajectory" ADD CONSTRAINT "Trajectory_workUnitId_fkey" FOREIGN KEY ("workUnitId") REFERENCES "WorkUnit"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Trajectory" ADD CONSTRAINT "Trajectory_sweepId_fkey" FOREIGN KEY ("sweepId") REFERENCES "Sweep"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Trajectory" ADD CONSTRAINT "Trajectory_modelId_fkey" FOREIGN KEY ("modelId") REFERENCES "Model"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Trajectory" ADD CONSTRAINT "Trajectory_promptId_fkey" FOREIGN KEY ("promptId") REFERENCES "Prompt"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Cell" ADD CONSTRAINT "Cell_sweepId_fkey" FOREIGN KEY ("sweepId") REFERENCES "Sweep"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Cell" ADD CONSTRAINT "Cell_workUnitId_fkey" FOREIGN KEY ("workUnitId") REFERENCES "WorkUnit"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Cell" ADD CONSTRAINT "Cell_modelId_fkey" FOREIGN KEY ("modelId") REFERENCES "Model"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Cell" ADD CONSTRAINT "Cell_promptId_fkey" FOREIGN KEY ("promptId") REFERENCES "Prompt"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
