-- Progress as of a month, in SQL (SPEC "How progress is computed"); mirrors SetaDomain's ProgressEngine.
-- Formula, identical on both sides so results agree to the cent:
--   phase progress  = (Σ weight_in_phase of done milestones × 100) / Σ weight_in_phase of applicable milestones
--   entity progress = Σ (weight_in_plan × phase progress) / Σ weight_in_plan, over phases that count
-- A phase whose milestones are all not_applicable drops out (progress NULL) and the others rescale.

-- Entities enrolled in a plan at a month.
CREATE FUNCTION enrolled_at(p_plan text, p_month date)
RETURNS TABLE (entity_code text)
LANGUAGE sql STABLE AS $$
    SELECT DISTINCT en.entity_code
      FROM enrollments en
     WHERE en.plan_code = p_plan
       AND en.from_period <= p_month
       AND (en.to_period IS NULL OR en.to_period >= p_month)
$$;

-- Rule 1: the status of a milestone as of a month is the one of the latest report not after it.
CREATE FUNCTION milestone_statuses_at(p_plan text, p_month date, p_entities text[])
RETURNS TABLE (entity_code text, milestone_code text, status text, period date)
LANGUAGE sql STABLE AS $$
    SELECT DISTINCT ON (rm.entity_code, rm.milestone_code)
           rm.entity_code, rm.milestone_code, rm.status, rm.period
      FROM report_milestones rm
     WHERE rm.plan_code = p_plan
       AND rm.period <= p_month
       AND rm.entity_code = ANY (p_entities)
     ORDER BY rm.entity_code, rm.milestone_code, rm.period DESC
$$;

-- Rules 2 and 3: each phase of each entity.
CREATE FUNCTION phase_progress_at(p_plan text, p_version integer, p_month date, p_entities text[])
RETURNS TABLE (entity_code text, phase_code text, phase_position integer, phase_weight numeric,
               progress numeric, completed boolean)
LANGUAGE sql STABLE AS $$
    SELECT e.code, ph.code, ph.position, ph.weight_in_plan,
           CASE WHEN sum(m.weight_in_phase) FILTER (WHERE s.status IS DISTINCT FROM 'not_applicable') > 0
                THEN COALESCE(sum(m.weight_in_phase) FILTER (WHERE s.status = 'done'), 0) * 100
                     / sum(m.weight_in_phase) FILTER (WHERE s.status IS DISTINCT FROM 'not_applicable')
           END,
           -- Completed: every applicable milestone done, and at least one applicable.
           bool_and(COALESCE(s.status, 'not_started') IN ('done', 'not_applicable'))
               AND bool_or(s.status IS DISTINCT FROM 'not_applicable')
      FROM unnest(p_entities) AS e(code)
     CROSS JOIN plan_phases ph
      JOIN plan_milestones m
        ON m.plan_code = ph.plan_code AND m.version = ph.version AND m.phase_code = ph.code
      LEFT JOIN milestone_statuses_at(p_plan, p_month, p_entities) s
        ON s.entity_code = e.code AND s.milestone_code = m.code
     WHERE ph.plan_code = p_plan AND ph.version = p_version
     GROUP BY e.code, ph.code, ph.position, ph.weight_in_plan
$$;

-- Rule 4: each entity's total, with its phases as JSON (exact numerics inside).
CREATE FUNCTION entity_progress_at(p_plan text, p_version integer, p_month date, p_entities text[])
RETURNS TABLE (entity_code text, total numeric, phases jsonb, completed jsonb)
LANGUAGE sql STABLE AS $$
    SELECT pp.entity_code,
           sum(pp.phase_weight * pp.progress) FILTER (WHERE pp.progress IS NOT NULL)
               / NULLIF(sum(pp.phase_weight) FILTER (WHERE pp.progress IS NOT NULL), 0),
           jsonb_object_agg(pp.phase_code, pp.progress),
           jsonb_object_agg(pp.phase_code, pp.completed)
      FROM phase_progress_at(p_plan, p_version, p_month, p_entities) pp
     GROUP BY pp.entity_code
$$;
