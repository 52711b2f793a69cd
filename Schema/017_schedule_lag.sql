-- Expected progress and lag in the dashboards (issue 13): cuts freeze them, kept roll-ups follow exceptions.

-- What a cut froze of the schedule (avance esperado, hitos vencidos) as of its month. NULL in cuts taken
-- before this migration: they never knew a schedule, and cut rows are immutable.
ALTER TABLE cut_entities
    ADD COLUMN expected numeric,
    ADD COLUMN overdue  text[];

-- A schedule exception changes the expected progress and lag of its entity at every month: kept group
-- roll-ups and series (progress_rollups) must not be served across one, like a membership change.
CREATE TRIGGER schedule_exceptions_membership AFTER INSERT OR UPDATE OR DELETE ON schedule_exceptions
    FOR EACH STATEMENT EXECUTE FUNCTION bump_membership_stamp();

-- Roll-ups now carry the schedule (mean lag, behind count, overdue per milestone). Their cache keys carry a
-- shape version (ProgressStore.rollUpShape) so none kept in the older shape is read; the old rows go too.
DELETE FROM progress_rollups;
