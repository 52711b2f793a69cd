-- One definition per business question (issue 16): a span covers a month, enrolled at, assigned at, in scope.
-- All are LANGUAGE sql, one SELECT, no SET clause and not STRICT, so the planner inlines them into the calling
-- statement: a caller's plan is the one it had with the condition written by hand.

-- A span of months [from, to] (to NULL: still open) covers a month. Enrollments (inscripciones) and
-- assignments (asignaciones) are both such spans.
CREATE FUNCTION covers_month(p_from date, p_to date, p_month date)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT p_from <= p_month AND (p_to IS NULL OR p_to >= p_month)
$$;

-- Enrolled at (inscrita): the entities a plan serves at a month. Same rows as migration 007's, through covers_month.
CREATE OR REPLACE FUNCTION enrolled_at(p_plan text, p_month date)
RETURNS TABLE (entity_code text)
LANGUAGE sql STABLE AS $$
    SELECT DISTINCT en.entity_code
      FROM enrollments en
     WHERE en.plan_code = p_plan
       AND covers_month(en.from_period, en.to_period, p_month)
$$;

-- Assigned at (asesor asignado): the advisor of each entity of a plan at a month, one row per (plan, entity) at
-- most (assignments_no_overlap). A NULL plan answers for every plan.
CREATE FUNCTION assigned_at(p_plan text, p_month date)
RETURNS TABLE (plan_code text, entity_code text, person_id bigint)
LANGUAGE sql STABLE AS $$
    SELECT a.plan_code, a.entity_code, a.person_id
      FROM assignments a
     WHERE (p_plan IS NULL OR a.plan_code = p_plan)
       AND covers_month(a.from_period, a.to_period, p_month)
$$;

-- In scope (alcance): the entities a reader may see at a month (SPEC "Rules for reads"). The central team: every
-- entity. A coordinator: the entities of their regions then. An advisor: the entities assigned to them then, in
-- `p_plan` (NULL: any plan). A viewer: every entity, narrowed to their regions when they have some and to their
-- partner's assignments when `p_partner` is given (limited_to_partner). Each branch is gated by the role, so with
-- the role bound the planner keeps one branch and drops the others.
CREATE FUNCTION in_scope(p_role text, p_person bigint, p_regions text[], p_partner text, p_plan text, p_month date)
RETURNS TABLE (entity_code text)
LANGUAGE sql STABLE AS $$
    SELECT e.code FROM entities e WHERE p_role = 'central'
    UNION ALL
    SELECT r.entity_code FROM entity_regions_at(p_month) r
     WHERE p_role = 'coordinator' AND r.region_code = ANY (p_regions)
    UNION ALL
    SELECT a.entity_code FROM assigned_at(p_plan, p_month) a
     WHERE p_role = 'advisor' AND a.person_id = p_person
    UNION ALL
    SELECT e.code FROM entities e
     WHERE p_role = 'viewer'
       AND (cardinality(p_regions) = 0
            OR e.code IN (SELECT r.entity_code FROM entity_regions_at(p_month) r WHERE r.region_code = ANY (p_regions)))
       AND (p_partner IS NULL
            OR e.code IN (SELECT a.entity_code FROM assigned_at(NULL, p_month) a JOIN people sp ON sp.id = a.person_id
                           WHERE sp.partner_code = p_partner))
$$;
