-- Ending an enrollment (fin de la inscripción) and the assignments it takes with it: one definition for
-- POST /v1/enrollments/{plan}/{entity}/end (EnrollmentStore) and the enrollment CSV import (ImportStore), issue 16.
-- Until now each wrote its own conditions; they agreed only because assignments lie inside their enrollment.

-- The assignments that would outlive an enrollment ended at p_to: those of the entity in the plan that start after
-- the new end. Ending is refused while there are any (they would serve an entity the plan no longer serves).
CREATE FUNCTION assignments_outliving_enrollment(p_plan text, p_entity text, p_from date, p_to date)
RETURNS TABLE (id bigint)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT a.id FROM assignments a
     WHERE a.plan_code = p_plan AND a.entity_code = p_entity
       AND a.from_period >= p_from AND a.from_period > p_to
     ORDER BY a.id
$$;

-- Ends with the enrollment every assignment of the entity in the plan that started within it and ran past p_to;
-- returns how many were cut short.
CREATE FUNCTION end_enrollment_assignments(p_plan text, p_entity text, p_from date, p_to date)
RETURNS integer
LANGUAGE sql AS $$
    WITH ended AS (
        UPDATE assignments a SET to_period = p_to
         WHERE a.plan_code = p_plan AND a.entity_code = p_entity
           AND a.from_period >= p_from AND a.from_period <= p_to
           AND (a.to_period IS NULL OR a.to_period > p_to)
        RETURNING 1
    )
    SELECT count(*)::integer FROM ended
$$;
