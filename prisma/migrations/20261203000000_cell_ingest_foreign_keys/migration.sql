-- Cell ingestion without the per-row foreign-key lookups that cost most of its time.
--
-- Every FOREIGN KEY is a per-row trigger that looks its parent up (SELECT … FOR KEY SHARE);
-- on "Cell" the four of them were about 60 % of PostgreSQL's CPU per written cell
-- (bench/ingest.ts, docs/sql.md "Ingestion and index cost"). A cell's sweep, model and prompt
-- are those of its work unit (the worker copies them from the "WorkUnit" row it writes for),
-- and the work unit's own foreign keys already hold them; so only the work-unit key stays:
-- a cell still cannot exist without its work unit, and deleting a sweep still deletes its
-- cells (Sweep → WorkUnit → Cell, both ON DELETE CASCADE).
ALTER TABLE "Cell" DROP CONSTRAINT "Cell_sweepId_fkey";
ALTER TABLE "Cell" DROP CONSTRAINT "Cell_modelId_fkey";
ALTER TABLE "Cell" DROP CONSTRAINT "Cell_promptId_fkey";
