-- Per-entity progress maintained by the writes that change it (issue 10): one row per (plan, catalog version,
-- month, entity) from the entity's first reported month to the plan's horizon, updated in the writing transaction.
--
-- An entity's progress is a pure function of its own reports (SPEC rules 1–4), so a report write changes
-- that entity's rows from the reported month on, and nothing else. Enrollment, regions and assignments
-- decide who is counted and in which group; they are read at query time and recompute nothing.
--
-- The horizon of a plan is its latest reported month: every entity with a report has a row at every month
-- from its first report to the horizon (carry-forward written out), so reading as of month M is one index
-- range scan at LEAST(M, horizon) (see ProgressStore.progressRows). Nothing is reported after the horizon, so
-- later months equal it. An entity with no row at that month has no report up to it: zero progress.
-- The first report of a later month extends the horizon: every entity's row is carried one month further.
--
-- This replaces the whole-plan stamps, snapshots and group cache of 010 and 011: a write no longer makes
-- the next dashboard request recompute the country.

DROP TRIGGER report_milestones_stamp_ins ON report_milestones;
DROP TRIGGER report_milestones_stamp_upd ON report_milestones;
DROP TRIGGER report_milestones_stamp_del ON report_milestones;
DROP TRIGGER enrollments_stamp_ins ON enrollments;
DROP TRIGGER enrollments_stamp_upd ON enrollments;
DROP TRIGGER enrollments_stamp_del ON enrollments;
DROP FUNCTION ensure_progress_snapshot(text, integer, date);
DROP FUNCTION bump_progress_stamp();
DROP TABLE progress_group_cache;
DROP TABLE progress_snapshots;
DROP TABLE progress_snapshot_heads;
DROP TABLE progress_stamps;

-- Every figure of one entity at one month (avance por entidad y mes). Phases are arrays in the catalog
-- version's phase order (plan_phases.position): group roll-ups aggregate them without parsing JSON.
CREATE TABLE entity_progress (
    plan_code       text NOT NULL,
    version         integer NOT NULL,
    month           date NOT NULL,
    entity_code     text NOT NULL,
    total           numeric,
    phase_progress  numeric[] NOT NULL,  -- null element: the phase drops out (all its milestones N/A)
    phase_completed boolean[] NOT NULL,  -- every applicable milestone of the phase done
    statuses        jsonb NOT NULL,      -- milestone code → carried status, every milestone of the version
    milestone_done  boolean[] NOT NULL,  -- in the version's milestone order: carried status is done
    milestone_applicable boolean[] NOT NULL,  -- in milestone order: carried status is not not_applicable
    PRIMARY KEY (plan_code, version, month, entity_code)
);
-- One entity's rows, for its maintenance.
CREATE INDEX entity_progress_entity ON entity_progress (plan_code, entity_code, month);

-- The latest month any entity of the plan has a row for.
CREATE TABLE progress_horizons (
    plan_code text PRIMARY KEY,
    version   integer NOT NULL,
    horizon   date NOT NULL
);

-- Group roll-ups (dashboards, series) kept per reader's scope and filters, valid while the months they read
-- are unchanged: a write to month M bumps the stamps of months M..horizon only, so roll-ups of earlier months
-- (and most of a series) stay valid while advisors report the current one. Membership (enrollments, regions,
-- assignments, people, partners, entities) bumps one global stamp. Never served stale: a result is used only when
-- the stamps it was computed under, read in the same statement as its data, are still the current ones.
CREATE TABLE progress_month_stamps (
    plan_code text NOT NULL,
    month     date NOT NULL,
    stamp     bigint NOT NULL,
    PRIMARY KEY (plan_code, month)
);

CREATE TABLE progress_rollups (
    cache_key        text PRIMARY KEY,
    data_sig         text NOT NULL,     -- the months read and their stamps, e.g. '2021-06-01:4'
    membership_stamp bigint NOT NULL,
    result           jsonb NOT NULL,
    computed_at      timestamptz NOT NULL DEFAULT now()
);

-- Memberships keep 011's stamp and triggers; enrollments now bump it too (they decide who is counted).
CREATE TRIGGER enrollments_membership AFTER INSERT OR UPDATE OR DELETE ON enrollments
    FOR EACH STATEMENT EXECUTE FUNCTION bump_membership_stamp();

-- Advisory lock classes (two-key form; the one-key locks 7265001–7265006 are the migrator's and the reports').
-- 7265010: a plan's progress rows. Writers take it shared; extending the horizon, a catalog rebuild and large
--          imports take it exclusive, so they never interleave with another writer of the plan.
-- 7265011: one entity's progress rows in one plan, so two writers of one entity compute one after the other
--          and each sees the other's committed reports (READ COMMITTED: every statement takes a new snapshot).

-- Progress of the given entities at every month from p_from (or their first report) to p_to.
-- Same formula, same numeric operations as entity_progress_at (007), so results agree to the last digit.
CREATE FUNCTION compute_entity_progress(p_plan text, p_version integer, p_entities text[], p_from date, p_to date)
RETURNS TABLE (entity_code text, month date, total numeric, phase_progress numeric[], phase_completed boolean[],
               statuses jsonb, milestone_done boolean[], milestone_applicable boolean[])
LANGUAGE sql STABLE AS $$
    WITH rm AS (
        SELECT r.entity_code, r.milestone_code, r.status, r.period
          FROM report_milestones r
         WHERE r.plan_code = p_plan AND r.entity_code = ANY (p_entities)
    ), months AS (
        SELECT b.entity_code, gs::date AS month
          FROM (SELECT rm.entity_code, min(rm.period) AS first_month FROM rm GROUP BY rm.entity_code) b
         CROSS JOIN LATERAL generate_series(GREATEST(b.first_month, p_from), p_to, interval '1 month') gs
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
        SELECT st.entity_code, st.month, p.position, p.weight_in_plan AS phase_weight,
               CASE WHEN sum(st.weight_in_phase) FILTER (WHERE st.status <> 'not_applicable') > 0
                    THEN COALESCE(sum(st.weight_in_phase) FILTER (WHERE st.status = 'done'), 0) * 100
                         / sum(st.weight_in_phase) FILTER (WHERE st.status <> 'not_applicable')
               END AS progress,
               bool_and(st.status IN ('done', 'not_applicable')) AND bool_or(st.status <> 'not_applicable') AS completed
          FROM st
          JOIN plan_phases p ON p.plan_code = p_plan AND p.version = p_version AND p.code = st.phase_code
         GROUP BY st.entity_code, st.month, p.position, p.weight_in_plan
    ), tot AS (
        -- Rule 4.
        SELECT ph.entity_code, ph.month,
               sum(ph.phase_weight * ph.progress) FILTER (WHERE ph.progress IS NOT NULL)
                   / NULLIF(sum(ph.phase_weight) FILTER (WHERE ph.progress IS NOT NULL), 0) AS total,
               array_agg(ph.progress ORDER BY ph.position) AS phase_progress,
               array_agg(ph.completed ORDER BY ph.position) AS phase_completed
          FROM ph GROUP BY ph.entity_code, ph.month
    ), sts AS (
        SELECT st.entity_code, st.month, jsonb_object_agg(st.milestone_code, st.status) AS statuses,
               array_agg(st.status = 'done' ORDER BY st.position) AS milestone_done,
               array_agg(st.status <> 'not_applicable' ORDER BY st.position) AS milestone_applicable
          FROM st GROUP BY st.entity_code, st.month
    )
    SELECT tot.entity_code, tot.month, tot.total, tot.phase_progress, tot.phase_completed, sts.statuses,
           sts.milestone_done, sts.milestone_applicable
      FROM tot JOIN sts ON sts.entity_code = tot.entity_code AND sts.month = tot.month
$$;

-- Brings the rows of the given entities up to date from month p_from on, in the current catalog version,
-- extending the plan's horizon first when p_to (the latest month written) is past it.
-- Called by the report_milestones triggers below, inside the writing transaction.
CREATE FUNCTION refresh_entity_progress(p_plan text, p_entities text[], p_from date, p_to date)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v integer;
    h date;
    e text;
    ents text[];
    exclusive boolean;
BEGIN
    SELECT array_agg(DISTINCT x ORDER BY x) INTO ents FROM unnest(p_entities) x;
    IF ents IS NULL THEN RETURN; END IF;
    -- The horizon only grows, so a writer that sees its month within it needs no more than a shared lock.
    SELECT ph.horizon INTO h FROM progress_horizons ph WHERE ph.plan_code = p_plan;
    exclusive := cardinality(ents) > 64 OR h IS NULL OR p_to > h;
    IF exclusive THEN
        PERFORM pg_advisory_xact_lock(7265010, hashtext(p_plan));
    ELSE
        PERFORM pg_advisory_xact_lock_shared(7265010, hashtext(p_plan));
        FOREACH e IN ARRAY ents LOOP   -- sorted: two writers never wait on each other in a cycle
            PERFORM pg_advisory_xact_lock(7265011, hashtext(p_plan || ':' || e));
        END LOOP;
    END IF;
    SELECT current_version INTO v FROM plans WHERE code = p_plan;
    IF v IS NULL THEN RETURN; END IF;
    SELECT ph.horizon INTO h FROM progress_horizons ph WHERE ph.plan_code = p_plan AND ph.version = v;
    IF h IS NULL THEN
        -- No row yet for this version (a new plan): the horizon starts at the first write.
        h := p_to;
        INSERT INTO progress_horizons (plan_code, version, horizon) VALUES (p_plan, v, h)
        ON CONFLICT (plan_code) DO UPDATE SET version = EXCLUDED.version, horizon = EXCLUDED.horizon;
    ELSIF p_to > h THEN
        -- Carry every entity's figures to the new horizon: nothing was reported after the old one.
        INSERT INTO entity_progress (plan_code, version, month, entity_code, total, phase_progress, phase_completed, statuses,
                                     milestone_done, milestone_applicable)
        SELECT ep.plan_code, ep.version, gs::date, ep.entity_code, ep.total, ep.phase_progress, ep.phase_completed, ep.statuses,
               ep.milestone_done, ep.milestone_applicable
          FROM entity_progress ep
         CROSS JOIN generate_series(h + interval '1 month', p_to, interval '1 month') gs
         WHERE ep.plan_code = p_plan AND ep.version = v AND ep.month = h;
        h := p_to;
        UPDATE progress_horizons SET horizon = h WHERE plan_code = p_plan;
    END IF;
    -- Rows from p_from on are recomputed; rows before the first report (one was deleted) go too.
    WITH b AS (
        SELECT x AS entity_code,
               (SELECT min(r.period) FROM report_milestones r WHERE r.plan_code = p_plan AND r.entity_code = x) AS first_month
          FROM unnest(ents) x
    )
    DELETE FROM entity_progress ep USING b
     WHERE ep.plan_code = p_plan AND ep.entity_code = b.entity_code
       AND (ep.month >= p_from OR b.first_month IS NULL OR ep.month < b.first_month OR ep.version <> v);
    INSERT INTO entity_progress (plan_code, version, month, entity_code, total, phase_progress, phase_completed, statuses,
                                 milestone_done, milestone_applicable)
    SELECT p_plan, v, c.month, c.entity_code, c.total, c.phase_progress, c.phase_completed, c.statuses,
           c.milestone_done, c.milestone_applicable
      FROM compute_entity_progress(p_plan, v, ents, p_from, h) c;
    -- The months whose figures may have changed: p_from to the horizon. In ascending order, so two writers
    -- wait for each other's rows in one order.
    INSERT INTO progress_month_stamps AS s (plan_code, month, stamp)
    SELECT p_plan, gs::date, 1 FROM generate_series(p_from, h, interval '1 month') gs ORDER BY 2
    ON CONFLICT (plan_code, month) DO UPDATE SET stamp = s.stamp + 1;
END $$;

-- Rebuilds a whole plan in its current catalog version (a catalog correction, or the first migration).
-- Readers keep seeing the old version's rows until the transaction commits: never a half-built version.
CREATE FUNCTION rebuild_plan_progress(p_plan text)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v integer;
    h date;
BEGIN
    PERFORM pg_advisory_xact_lock(7265010, hashtext(p_plan));
    SELECT current_version INTO v FROM plans WHERE code = p_plan;
    DELETE FROM entity_progress WHERE plan_code = p_plan;
    DELETE FROM progress_horizons WHERE plan_code = p_plan;
    SELECT max(period) INTO h FROM report_milestones WHERE plan_code = p_plan;
    IF v IS NULL OR h IS NULL THEN RETURN; END IF;
    INSERT INTO progress_horizons (plan_code, version, horizon) VALUES (p_plan, v, h);
    INSERT INTO entity_progress (plan_code, version, month, entity_code, total, phase_progress, phase_completed, statuses,
                                 milestone_done, milestone_applicable)
    SELECT p_plan, v, c.month, c.entity_code, c.total, c.phase_progress, c.phase_completed, c.statuses,
           c.milestone_done, c.milestone_applicable
      FROM compute_entity_progress(p_plan, v,
               ARRAY(SELECT DISTINCT r.entity_code FROM report_milestones r WHERE r.plan_code = p_plan),
               '-infinity'::date, h) c;
END $$;

CREATE FUNCTION maintain_entity_progress() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT c.plan_code, array_agg(DISTINCT c.entity_code) AS ents, min(c.period) AS from_month,
                    max(c.period) AS to_month
               FROM changed c GROUP BY c.plan_code ORDER BY c.plan_code LOOP
        PERFORM refresh_entity_progress(r.plan_code, r.ents, r.from_month, r.to_month);
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
RETURNS TABLE (total numeric, phase_progress numeric[], phase_completed boolean[], statuses jsonb,
               milestone_done boolean[], milestone_applicable boolean[])
LANGUAGE sql STABLE AS $$
    SELECT 0::numeric,
           ARRAY(SELECT 0::numeric FROM plan_phases p WHERE p.plan_code = p_plan AND p.version = p_version ORDER BY p.position),
           ARRAY(SELECT false FROM plan_phases p WHERE p.plan_code = p_plan AND p.version = p_version ORDER BY p.position),
           (SELECT jsonb_object_agg(m.code, 'not_started') FROM plan_milestones m WHERE m.plan_code = p_plan AND m.version = p_version),
           ARRAY(SELECT false FROM plan_milestones m WHERE m.plan_code = p_plan AND m.version = p_version ORDER BY m.position),
           ARRAY(SELECT true FROM plan_milestones m WHERE m.plan_code = p_plan AND m.version = p_version ORDER BY m.position)
$$;

-- The month a read as of p_month takes its rows from: the plan's horizon when p_month is past it.
CREATE FUNCTION progress_month(p_plan text, p_month date)
RETURNS date LANGUAGE sql STABLE AS $$
    SELECT LEAST(p_month, COALESCE((SELECT horizon FROM progress_horizons WHERE plan_code = p_plan), p_month))
$$;

-- The oracle in SQL, for tests and live checks: how many maintained rows of the plan differ from a computation
-- from scratch (missing, extra or different). 0 means the writes kept every row exact.
CREATE FUNCTION progress_rows_drift(p_plan text)
RETURNS bigint LANGUAGE sql STABLE AS $$
    WITH v AS (SELECT current_version AS version FROM plans WHERE code = p_plan),
    fresh AS (
        SELECT c.* FROM v, compute_entity_progress(p_plan, v.version,
               ARRAY(SELECT DISTINCT r.entity_code FROM report_milestones r WHERE r.plan_code = p_plan),
               '-infinity'::date,
               COALESCE((SELECT horizon FROM progress_horizons WHERE plan_code = p_plan), '-infinity'::date)) c
    ),
    kept AS (
        SELECT ep.* FROM entity_progress ep, v WHERE ep.plan_code = p_plan AND ep.version = v.version
    )
    SELECT count(*) FROM fresh f FULL JOIN kept k ON k.entity_code = f.entity_code AND k.month = f.month
     WHERE f.entity_code IS NULL OR k.entity_code IS NULL
        OR f.total IS DISTINCT FROM k.total OR f.phase_progress IS DISTINCT FROM k.phase_progress
        OR f.phase_completed IS DISTINCT FROM k.phase_completed OR f.statuses IS DISTINCT FROM k.statuses
        OR f.milestone_done IS DISTINCT FROM k.milestone_done OR f.milestone_applicable IS DISTINCT FROM k.milestone_applicable
$$;

SELECT rebuild_plan_progress(code) FROM plans;
