-- The report write rules (reglas de escritura del reporte) that compare a milestone's new value with the one before it,
-- one definition for the API's PUT (ReportStore.priorValues) and the CSV import (ReportImport.classify / write), issue 16.
-- Both are LANGUAGE sql, one SELECT, IMMUTABLE and not STRICT, so the planner inlines them: the import's million-row
-- statements run the same plan as with the expressions written by hand. The other rules: ReportWriteRules (SetaDomain)
-- and ReportWriteChecks (SetaAPI); docs/decisions.md lists them all.

-- Regression (retroceso): a milestone that was done (cumplido) is reported as anything else. done → not_applicable is
-- one too: it takes the milestone's weight out of the entity's progress just as going back to not started does. No
-- value before (never reported) is no regression. The API refuses a regression without a comment; the import, which
-- brings no comments, records it with is_regression.
CREATE FUNCTION report_regression(p_before text, p_after text)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT COALESCE(p_before = 'done' AND p_after <> 'done', false)
$$;

-- Unchanged (sin cambio): a month's new value repeats the value that same month already holds, field for field, so
-- the write of that milestone is a no-op (no revision; the import counts the row as ignored). The caller passes the
-- comment the write leaves: the PUT's own (a PUT replaces the value whole), the stored one for the import (it keeps
-- the month's comment). NULLs compare equal: an absent date, evidence or comment is the same absence.
CREATE FUNCTION report_value_unchanged(p_old_status text, p_old_achieved_on date, p_old_evidence text, p_old_comment text,
                                       p_status text, p_achieved_on date, p_evidence text, p_comment text)
RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT COALESCE(p_old_status = p_status, false)
       AND p_old_achieved_on IS NOT DISTINCT FROM p_achieved_on
       AND p_old_evidence IS NOT DISTINCT FROM p_evidence
       AND p_old_comment IS NOT DISTINCT FROM p_comment
$$;
