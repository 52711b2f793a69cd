-- Per-entity progress maintained by the writes that change it (issue 10): one row per (plan, catalog version,
-- entity, month) from the entity's first reported month to its last, updated in the writing transaction.
--
-- An entity's progress is a pure function of its own reports (SPEC rules 1–4), so a report write changes
-- that entity's rows from the reported month on, and nothing else. Enrollment, regions and assignments
-- decide who is counted and in which group; they are read at query time and recompute nothing.
--
-- Reading as of month M (see ProgressStore.progressRows): an entity with a head row whose first_month <= M
-- takes its row at LEAST(M, last_month), since nothing changes after its last report (carry-forward). An
-- entity with no report up to M has the zero progress of the catalog version (no milestone done, none N/A).
--
-- This replaces the whole-plan stamps, snapshots and group cache of 010 and 011: a write no longer makes
-- the next dashboard request recompute the country.

DROP TRIGGER report_milestones_stamp_ins ON report_milestones;
DROP TRIGGER report_milestones_stamp_upd ON report_milestones;
DROP TRIGGER report_milestones_stamp_del ON report_milestones;
DROP TRIGGER enrollments_stamp_ins ON enrollments;
DROP TRIGGER enrollments_stamp_upd ON enrollments;
DROP TRIGGER enrollments_stamp_del ON enrollments;
DROP TRIGGER department_regions_membership ON department_regions;
DROP TRIGGER entity_regions_membership ON entity_regions;
DROP TRIGGER regions_membership ON regions;
DROP TRIGGER assignments_membership ON assignments;
DROP TRIGGER people_membership ON people;
DROP TRIGGER partners_membership ON partners;
DROP TRIGGER entities_membership ON entities;
DROP TRIGGER departments_membership ON departments;
DROP FUNCTION ensure_progress_snapshot(text, integer, date);
DROP FUNCTION bump_progress_stamp();
DROP FUNCTION bump_membership_stamp();
DROP TABLE progress_group_cache;
DROP TABLE membership_stamp;
DROP TABLE progress_snapshots;
DROP TABLE progress_snapshot_heads;
DROP TABLE progress_stamps;

-- Every figure of one entity at one month (avance por entidad y mes).
CREATE TABLE entity_progress (
    plan_code   text NOT NULL,
    version     integer NOT NULL,
    month       date NOT NULL,
    entity_code text NOT NULL,
    total       numeric,
    phases      jsonb NOT NULL,   -- phase code → progress (null when the phase drops out)
    completed   jsonb NOT NULL,   -- phase code → every applicable milestone done
    statuses    jsonb NOT NULL,   -- milestone code → carried status, every milestone of the version
    PRIMARY KEY (plan_code, version, entity_code, month)
);

-- The months an entity has rows for: its first and last reported months in the plan.
CREATE TABLE entity_progress_heads (
    plan_code   text NOT NULL,
    version     integer NOT NULL,
    entity_code text NOT NULL,
    first_month date NOT NULL,
    last_month  date NOT NULL,
    PRIMARY KEY (plan_code, version, entity_code)
);

-- Advisory lock classes (two-key form; the one-key locks 7265001–7265006 are the migrator's and the reports').
-- 7265010: a plan's progress rows. Writers take it shared; a catalog rebuild and large imports take it
--          exclusive, so a rebuild never interleaves with a write and an import never waits on 1,000 locks.
-- 7265011: one entity's progress rows in one plan, so two writers of one entity compute one after the other
--          and each sees the other's committed reports (READ COMMITTED: every statement takes a new snapshot).

-- Progress of the given entities at every month from p_from (or their first report) to their last report.
-- Same formula, same numeric operations as entity_progress_at (007), so results agree to the last digit.
CREATE FUNCTION compute_entity_progress(p_plan text, p_version integer, p_entities text[], p_from date)
RETURNS TABLE (entity_code text, month date, total numeric, phases jsonb, completed jsonb, statuses jsonb)
LANGUAGE sql STABLE AS $$
    WITH rm AS (
        SELECT r.entity_code, r.milestone_code, r.status, r.period
          FROM report_milestones r
         WHERE r.plan_code = p_plan AND r.entity_code = ANY (p_entities)
    ), bounds AS (
        SELECT rm.entity_code, min(rm.period) AS first_month, max(rm.period) AS last_month FROM rm GROUP BY rm.entity_code
    ), months AS (
        SELECT b.entity_code, gs::date AS month
          FROM bounds b
         CROSS JOIN LATERAL generate_series(GREATEST(b.first_month, p_from), b.last_month, interval '1 month') gs
    ), spans AS (
        -- Rule 1: a report's status holds from its month until the next report of that milestone.
        SELECT rm.entity_code, rm.milestone_code, rm.status, rm.period AS valid_from,
               lead(rm.period) OVER (PARTITION BY rm.entity_code, rm.milestone_code ORDER BY rm.period) AS valid_to
          FROM rm
    ), st AS (
        SELECT mo.entity_code, mo.month, m.code AS milestone_code, m.phase_code, m.weight_in_phase, m.position,
               COALESCE(s.status, 'not_started') AS status
          FROM months mo
         CROSS JOIN plan_milestones m
          LEFT JOIN spans s
            ON s.entity_code = mo.entity_code AND s.milestone_code = m.code
           AND s.valid_from <= mo.month AND (s.valid_to IS NULL OR s.valid_to > mo.month)
         WHERE m.plan_code = p_plan AND m.version = p_version
    ), ph AS (
        -- Rules 2 and 3.
        SELECT st.entity_code, st.month, st.phase_code, p.weight_in_plan AS phase_weight,
               CASE WHEN sum(st.weight_in_phase) FILTER (WHERE st.status <> 'not_applicable') > 0
                    THEN COALESCE(sum(st.weight_in_phase) FILTER (WHERE st.status = 'done'), 0) * 100
                         / sum(st.weight_in_phase) FILTER (WHERE st.status <> 'not_applicable')
               END AS progress,
               bool_and(st.status IN ('done', 'not_applicable')) AND bool_or(st.status <> 'not_applicable') AS completed
          FROM st
          JOIN plan_phases p ON p.plan_code = p_plan AND p.version = p_version AND p.code = st.phase_code
         GROUP BY st.entity_code, st.month, st.phase_code, p.weight_in_plan
    ), tot AS (
        -- Rule 4.
        SELECT ph.entity_code, ph.month,
               sum(ph.phase_weight * ph.progress) FILTER (WHERE ph.progress IS NOT NULL)
                   / NULLIF(sum(ph.phase_weight) FILTER (WHERE ph.progress IS NOT NULL), 0) AS total,
               jsonb_object_agg(ph.phase_code, ph.progress) AS phases,
               jsonb_object_agg(ph.phase_code, ph.completed) AS completed
          FROM ph GROUP BY ph.entity_code, ph.month
    ), sts AS (
        SELECT st.entity_code, st.month, jsonb_object_agg(st.milestone_code, st.status) AS statuses
          FROM st GROUP BY st.entity_code, st.month
    )
    SELECT tot.entity_code, tot.month, tot.total, tot.phases, tot.completed, sts.statuses
      FROM tot JOIN sts ON sts.entity_code = tot.entity_code AND sts.month = tot.month
$$;

-- Brings the rows of the given entities up to date from month p_from on, in the current catalog version.
-- Called by the report_milestones triggers below, inside the writing transaction.
CREATE FUNCTION refresh_entity_progress(p_plan text, p_entities text[], p_from date)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v integer;
    e text;
    ents text[];
BEGIN
    SELECT array_agg(DISTINCT x ORDER BY x) INTO ents FROM unnest(p_entities) x;
    IF ents IS NULL THEN RETURN; END IF;
    IF cardinality(ents) > 64 THEN
        PERFORM pg_advisory_xact_lock(7265010, hashtext(p_plan));
    ELSE
        PERFORM pg_advisory_xact_lock_shared(7265010, hashtext(p_plan));
        FOREACH e IN ARRAY ents LOOP   -- sorted: two writers never wait on each other in a cycle
            PERFORM pg_advisory_xact_lock(7265011, hashtext(p_plan || ':' || e));
        END LOOP;
    END IF;
    SELECT current_version INTO v FROM plans WHERE code = p_plan;
    IF v IS NULL THEN RETURN; END IF;
    -- Rows from p_from on are recomputed; rows outside the reported months (a report deleted) go too.
    WITH b AS (
        SELECT x AS entity_code,
               (SELECT min(r.period) FROM report_milestones r WHERE r.plan_code = p_plan AND r.entity_code = x) AS first_month
          FROM unnest(ents) x
    )
    DELETE FROM entity_progress ep USING b
     WHERE ep.plan_code = p_plan AND ep.entity_code = b.entity_code
       AND (ep.month >= p_from OR b.first_month IS NULL OR ep.month < b.first_month OR ep.version <> v);
    INSERT INTO entity_progress (plan_code, version, month, entity_code, total, phases, completed, statuses)
    SELECT p_plan, v, c.month, c.entity_code, c.total, c.phases, c.completed, c.statuses
      FROM compute_entity_progress(p_plan, v, ents, p_from) c;
    DELETE FROM entity_progress_heads h WHERE h.plan_code = p_plan AND h.entity_code = ANY (ents);
    INSERT INTO entity_progress_heads (plan_code, version, entity_code, first_month, last_month)
    SELECT p_plan, v, r.entity_code, min(r.period), max(r.period)
      FROM report_milestones r
     WHERE r.plan_code = p_plan AND r.entity_code = ANY (ents)
     GROUP BY r.entity_code;
END $$;

-- Rebuilds a whole plan in its current catalog version (a catalog correction, or the first migration).
-- Readers keep seeing the old version's rows until the transaction commits: never a half-built version.
CREATE FUNCTION rebuild_plan_progress(p_plan text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v integer;
BEGIN
    PERFORM pg_advisory_xact_lock(7265010, hashtext(p_plan));
    SELECT current_version INTO v FROM plans WHERE code = p_plan;
    DELETE FROM entity_progress WHERE plan_code = p_plan;
    DELETE FROM entity_progress_heads WHERE plan_code = p_plan;
    IF v IS NULL THEN RETURN; END IF;
    INSERT INTO entity_progress (plan_code, version, month, entity_code, total, phases, completed, statuses)
    SELECT p_plan, v, c.month, c.entity_code, c.total, c.phases, c.completed, c.statuses
      FROM compute_entity_progress(p_plan, v,
               ARRAY(SELECT DISTINCT r.entity_code FROM report_milestones r WHERE r.plan_code = p_plan),
               '-infinity'::date) c;
    INSERT INTO entity_progress_heads (plan_code, version, entity_code, first_month, last_month)
    SELECT p_plan, v, r.entity_code, min(r.period), max(r.period)
      FROM report_milestones r WHERE r.plan_code = p_plan GROUP BY r.entity_code;
END $$;

CREATE FUNCTION maintain_entity_progress() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT c.plan_code, array_agg(DISTINCT c.entity_code) AS ents, min(c.period) AS from_month
               FROM changed c GROUP BY c.plan_code ORDER BY c.plan_code LOOP
        PERFORM refresh_entity_progress(r.plan_code, r.ents, r.from_month);
    END LOOP;
    RETURN NULL;
END $$;

CREATE TRIGGER report_milestones_progress_ins AFTER INSERT ON report_milestones
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION maintain_entity_progress();
CREATE TRIGGER report_milestones_progress_upd AFTER UPDATE ON report_milestones
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION maintain_entity_progress();
CREATE TRIGGER report_milestones_progress_del AFTER DELETE ON report_milestones
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION maintain_entity_progress();

-- A new catalog version becomes current: rebuild once, at commit, after all its phases and milestones exist.
CREATE FUNCTION rebuild_plan_progress_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM rebuild_plan_progress(NEW.code);
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER plans_version_progress AFTER UPDATE OF current_version ON plans
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (OLD.current_version IS DISTINCT FROM NEW.current_version)
    EXECUTE FUNCTION rebuild_plan_progress_trigger();

-- The zero progress of a catalog version: what an entity with no report has.
CREATE FUNCTION zero_progress(p_plan text, p_version integer)
RETURNS TABLE (total numeric, phases jsonb, completed jsonb, statuses jsonb)
LANGUAGE sql STABLE AS $$
    SELECT 0::numeric,
           (SELECT jsonb_object_agg(p.code, 0) FROM plan_phases p WHERE p.plan_code = p_plan AND p.version = p_version),
           (SELECT jsonb_object_agg(p.code, false) FROM plan_phases p WHERE p.plan_code = p_plan AND p.version = p_version),
           (SELECT jsonb_object_agg(m.code, 'not_started') FROM plan_milestones m WHERE m.plan_code = p_plan AND m.version = p_version)
$$;

SELECT rebuild_plan_progress(code) FROM plans;
