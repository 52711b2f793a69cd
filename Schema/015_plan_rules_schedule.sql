-- Plan rules and schedule (issue 13): which milestones (hitos) may be "no aplica", when each is due, the
-- plan's span (vigencia), per-entity schedule exceptions (Decreto 683 de 2020), and expected progress and lag
-- as of a month, mirroring SetaDomain's ScheduleEngine (docs/progress.md, "Expected progress and lag").

-- The months a plan runs; due dates must fall inside. NULL until the central team sets it.
ALTER TABLE plans
    ADD COLUMN span_from date CHECK (span_from IS NULL OR extract(day FROM span_from) = 1),
    ADD COLUMN span_to   date CHECK (span_to IS NULL OR extract(day FROM span_to) = 1),
    ADD CONSTRAINT plans_span_order CHECK (span_from IS NULL OR span_to IS NULL OR span_from <= span_to);

-- Both are part of a catalog version: a correction (a new version) may change them, past versions keep theirs.
--   not_applicable_allowed: the report's "(cuando aplique)" / "(si aplica)"; only such milestones accept
--     not_applicable in a report or an import (checked by the API, not here: reports written before a rule
--     was removed stay as they were).
--   due_on: the legal or programme deadline of the milestone, when there is one (no date is invented).
ALTER TABLE plan_milestones
    ADD COLUMN not_applicable_allowed boolean NOT NULL DEFAULT false,
    ADD COLUMN due_on date;

-- Existing deployments already hold the 2020 catalog (seeded before this column existed). The rule and the
-- calendar are the report's, not a correction, so they are written into the versions that hold these
-- milestones instead of minting a new version that cuts would not name. Same values as
-- Data/schedule-gobierno-al-plan-2020.csv (provenance in Data/README.md).
ALTER TABLE plan_milestones DISABLE TRIGGER plan_milestones_immutable;
UPDATE plan_milestones SET not_applicable_allowed = true
 WHERE plan_code = 'gap-2020-f1' AND code IN ('H16', 'H20');
UPDATE plan_milestones m SET due_on = d.due_on
  FROM (VALUES ('H11', DATE '2020-02-29'), ('H18', DATE '2020-04-30'), ('H22', DATE '2020-05-31')) AS d(code, due_on)
 WHERE m.plan_code = 'gap-2020-f1' AND m.code = d.code;
ALTER TABLE plan_milestones ENABLE TRIGGER plan_milestones_immutable;
UPDATE plans SET span_from = DATE '2020-01-01', span_to = DATE '2020-12-01'
 WHERE code IN ('gap-2020-f1', 'gap-2020-f2') AND span_from IS NULL;

-- A milestone's due date moved for one entity (e.g. Decreto 683: presentación hasta 2020-06-15, aprobación
-- hasta 2020-07-15). Keyed by milestone code, so it holds across catalog versions.
CREATE TABLE schedule_exceptions (
    plan_code      text NOT NULL REFERENCES plans (code),
    entity_code    text NOT NULL REFERENCES entities (code),
    milestone_code text NOT NULL,
    due_on         date NOT NULL,
    reason         text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    created_by     bigint REFERENCES people (id),
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (plan_code, entity_code, milestone_code)
);

-- Every exception ever written or removed, never updated nor deleted.
CREATE TABLE schedule_exception_events (
    id             bigserial PRIMARY KEY,
    plan_code      text NOT NULL,
    entity_code    text NOT NULL,
    milestone_code text NOT NULL,
    action         text NOT NULL CHECK (action IN ('set', 'remove')),
    previous_due_on date,
    due_on         date,
    reason         text NOT NULL,
    person_id      bigint REFERENCES people (id),
    at             timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER schedule_exception_events_append_only BEFORE UPDATE OR DELETE ON schedule_exception_events
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- The due date of each milestone for each entity: the entity's exception, else the catalog's. The effective
-- due date is the earliest due date of the milestone itself and of every milestone after it in the plan's
-- order: the plan's steps are sequential (Ley 152, art. 39 and 40), so a step that precedes a deadline is
-- due by then. A milestone with no dated milestone at or after it is never due.
CREATE FUNCTION milestone_due_dates(p_plan text, p_version integer, p_entities text[])
RETURNS TABLE (entity_code text, milestone_code text, milestone_position integer, due_on date,
               effective_due_on date, from_exception boolean)
LANGUAGE sql STABLE AS $$
    SELECT d.entity_code, d.milestone_code, d.position, d.due_on,
           min(d.due_on) OVER (PARTITION BY d.entity_code ORDER BY d.position DESC
                               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW),
           d.from_exception
      FROM (SELECT e.code AS entity_code, m.code AS milestone_code, m.position,
                   COALESCE(x.due_on, m.due_on) AS due_on, x.due_on IS NOT NULL AS from_exception
              FROM unnest(p_entities) AS e(code)
             CROSS JOIN plan_milestones m
              LEFT JOIN schedule_exceptions x
                     ON x.plan_code = m.plan_code AND x.entity_code = e.code AND x.milestone_code = m.code
             WHERE m.plan_code = p_plan AND m.version = p_version) d
$$;

-- Expected progress, actual progress, lag and overdue milestones of each entity as of a month.
--   due(m)   = effective_due_on(m) <= last day of p_month
--   expected = the progress formula of 007 with "done" replaced by "due", over the same applicable
--              milestones (those not reported not_applicable as of the month), so N/A rescales both alike
--   actual   = the progress formula of 007 (entity_progress_at's total)
--   lag      = expected - actual (positive: behind schedule)
--   overdue  = applicable milestones due and not done, earliest due date first
-- Wire into dashboards by joining on entity_code; every column is exact numeric (round only when written out).
CREATE FUNCTION expected_progress_at(p_plan text, p_version integer, p_month date, p_entities text[])
RETURNS TABLE (entity_code text, expected numeric, actual numeric, lag numeric,
               overdue_count integer, overdue text[], oldest_due_on date)
LANGUAGE sql STABLE AS $$
    WITH s AS (
        SELECT dd.entity_code, dd.milestone_code, dd.milestone_position, dd.effective_due_on,
               m.phase_code, m.weight_in_phase,
               COALESCE(st.status, 'not_started') AS status,
               COALESCE(dd.effective_due_on < (p_month + interval '1 month')::date, false) AS due
          FROM milestone_due_dates(p_plan, p_version, p_entities) dd
          JOIN plan_milestones m ON m.plan_code = p_plan AND m.version = p_version AND m.code = dd.milestone_code
          LEFT JOIN milestone_statuses_at(p_plan, p_month, p_entities) st
                 ON st.entity_code = dd.entity_code AND st.milestone_code = dd.milestone_code
    ), ph AS (
        SELECT s.entity_code, f.weight_in_plan,
               sum(s.weight_in_phase) FILTER (WHERE s.status <> 'not_applicable') AS applicable,
               COALESCE(sum(s.weight_in_phase) FILTER (WHERE s.status = 'done'), 0) AS earned,
               COALESCE(sum(s.weight_in_phase) FILTER (WHERE s.status <> 'not_applicable' AND s.due), 0) AS due_weight
          FROM s
          JOIN plan_phases f ON f.plan_code = p_plan AND f.version = p_version AND f.code = s.phase_code
         GROUP BY s.entity_code, f.code, f.weight_in_plan
    ), t AS (
        SELECT ph.entity_code,
               sum(ph.weight_in_plan * (ph.due_weight * 100 / ph.applicable)) FILTER (WHERE ph.applicable > 0)
                   / NULLIF(sum(ph.weight_in_plan) FILTER (WHERE ph.applicable > 0), 0) AS expected,
               sum(ph.weight_in_plan * (ph.earned * 100 / ph.applicable)) FILTER (WHERE ph.applicable > 0)
                   / NULLIF(sum(ph.weight_in_plan) FILTER (WHERE ph.applicable > 0), 0) AS actual
          FROM ph
         GROUP BY ph.entity_code
    ), o AS (
        SELECT s.entity_code, count(*)::integer AS n,
               array_agg(s.milestone_code ORDER BY s.effective_due_on, s.milestone_position) AS codes,
               min(s.effective_due_on) AS oldest
          FROM s
         WHERE s.due AND s.status NOT IN ('done', 'not_applicable')
         GROUP BY s.entity_code
    )
    SELECT t.entity_code, t.expected, t.actual, t.expected - t.actual,
           COALESCE(o.n, 0), COALESCE(o.codes, '{}'::text[]), o.oldest
      FROM t LEFT JOIN o ON o.entity_code = t.entity_code
$$;
