-- The months an enrollment or assignment covers, as a date range: [from, to + 1 month), open when to is NULL.
-- The same expression the exclusion constraints of 004 use, so overlap checks in queries agree with them.
CREATE FUNCTION month_span(p_from date, p_to date)
RETURNS daterange
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT daterange(p_from, COALESCE((p_to + interval '1 month')::date, 'infinity'::date), '[)')
$$;
