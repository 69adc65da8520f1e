-- Cell ingestion at a lower PostgreSQL cost per cell (docs/sql.md "Ingestion and index cost").
--
-- Measured with bench/ingest.ts, each secondary index of "Cell" and its one foreign key cost a
-- write more than anything else; what the views and the worker read is served as well by the
-- unique key ("sweepId", "cellKey"):
--
-- 1. "Cell_sweepId_modelId_step_position_idx" goes: a view filtered by sweep finds a sweep's
--    cells through the unique key's leading "sweepId" just as well.
-- 2. "Cell_modelId_kind_step_idx" becomes partial, over the only kinds that are read by kind
--    alone (the early-answering and Lanham views read `probe` and `truncate` cells): writing an
--    intervention cell (replace, remask, …) no longer touches it.
-- 3. The work-unit foreign key and "Cell_workUnitId_idx" go. A FOREIGN KEY is a per-row check
--    (a look-up of the parent FOR KEY SHARE), and its ON DELETE CASCADE needed the index. They are
--    replaced by statement-level triggers that keep the same guarantees once per statement:
--    a cell cannot be written for a work unit that does not exist (checked once per distinct
--    work unit of the statement's rows, the unit locked FOR KEY SHARE so that it cannot be
--    deleted before the writer commits; SQLSTATE 23503 as before), and deleting work units
--    (directly or through their sweep) deletes their cells (found through the unique key by
--    "sweepId"). A work unit's id is never changed (the old key cascaded updates; nothing did one).
--    The worker reads a work unit's cells by ("sweepId", "cellKey" prefix `u<ordinal>.`).
DROP INDEX "Cell_sweepId_modelId_step_position_idx";
DROP INDEX "Cell_modelId_kind_step_idx";
CREATE INDEX "Cell_modelId_kind_step_idx" ON "Cell" ("modelId", "kind", "step") WHERE "kind" IN ('probe', 'truncate');

ALTER TABLE "Cell" DROP CONSTRAINT "Cell_workUnitId_fkey";
DROP INDEX "Cell_workUnitId_idx";

-- A cell needs its work unit: one look-up per distinct work unit of a statement's new rows.
CREATE FUNCTION cell_work_unit_exists() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  unit text;
BEGIN
  FOR unit IN SELECT DISTINCT "workUnitId" FROM new_cells LOOP
    PERFORM 1 FROM "WorkUnit" WHERE id = unit FOR KEY SHARE;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'insert or update on table "Cell" violates foreign key constraint "Cell_workUnitId_fkey"'
        USING ERRCODE = 'foreign_key_violation', DETAIL = format('Key ("workUnitId")=(%s) is not present in table "WorkUnit".', unit),
              TABLE = 'Cell', CONSTRAINT = 'Cell_workUnitId_fkey';
    END IF;
  END LOOP;
  RETURN NULL;
END $$;
CREATE TRIGGER cell_work_unit_exists_insert AFTER INSERT ON "Cell"
  REFERENCING NEW TABLE AS new_cells FOR EACH STATEMENT EXECUTE FUNCTION cell_work_unit_exists();
CREATE TRIGGER cell_work_unit_exists_update AFTER UPDATE ON "Cell"
  REFERENCING NEW TABLE AS new_cells FOR EACH STATEMENT EXECUTE FUNCTION cell_work_unit_exists();

-- Deleting work units deletes their cells (was ON DELETE CASCADE), once per statement.
CREATE FUNCTION work_unit_delete_cells() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM "Cell" c USING gone_units g WHERE c."sweepId" = g."sweepId" AND c."workUnitId" = g.id;
  RETURN NULL;
END $$;
CREATE TRIGGER work_unit_delete_cells AFTER DELETE ON "WorkUnit"
  REFERENCING OLD TABLE AS gone_units FOR EACH STATEMENT EXECUTE FUNCTION work_unit_delete_cells();

-- A work unit's id never changes (its cells and trajectory name it).
CREATE FUNCTION work_unit_id_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the id of a work unit cannot change (%, %)', OLD.id, NEW.id USING ERRCODE = 'foreign_key_violation';
END $$;
CREATE TRIGGER work_unit_id_fixed BEFORE UPDATE OF id ON "WorkUnit"
  FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION work_unit_id_fixed();
