-- Departments, territorial entities (entidades territoriales), regions and region membership by month.
-- Periods (months) are stored as the date of their first day.

CREATE TABLE departments (
    code text PRIMARY KEY CHECK (code ~ '^[0-9]{2}$'),
    name text NOT NULL
);

CREATE TABLE entities (
    code            text PRIMARY KEY CHECK (code ~ '^[0-9]{2}([0-9]{3})?$'),
    name            text NOT NULL,
    type            text NOT NULL CHECK (type IN ('municipality', 'department', 'district', 'non_municipalised_area')),
    department_code text NOT NULL REFERENCES departments (code),
    -- Lower case, accent-free, collapsed spaces: what `q` matches against.
    search_key      text NOT NULL
);
CREATE INDEX entities_department ON entities (department_code);
CREATE INDEX entities_search_key ON entities (search_key text_pattern_ops);

CREATE TABLE regions (
    code       text PRIMARY KEY CHECK (code ~ '^[a-z0-9-]{1,60}$'),
    name       text NOT NULL,
    -- Deleting a region retires it: dashboards of past months still name it.
    active     boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX regions_active_name ON regions (lower(name)) WHERE active;

-- A department belongs to a region from a month on; the latest row not after a month answers for it.
CREATE TABLE department_regions (
    department_code text NOT NULL REFERENCES departments (code),
    region_code     text NOT NULL REFERENCES regions (code),
    valid_from      date NOT NULL CHECK (extract(day FROM valid_from) = 1),
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (department_code, valid_from)
);

-- A single entity moved to another region from a month on.
CREATE TABLE entity_regions (
    entity_code text NOT NULL REFERENCES entities (code),
    region_code text NOT NULL REFERENCES regions (code),
    valid_from  date NOT NULL CHECK (extract(day FROM valid_from) = 1),
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (entity_code, valid_from)
);

-- The region of every entity as of a month: the most recent decision not after that month wins,
-- whether it moved the entity alone or its whole department (an entity move wins a tie).
CREATE FUNCTION entity_regions_at(p_month date)
RETURNS TABLE (entity_code text, region_code text)
LANGUAGE sql STABLE AS $$
    SELECT DISTINCT ON (x.entity_code) x.entity_code, x.region_code
      FROM (
            SELECT e.code AS entity_code, dr.region_code, dr.valid_from, 1 AS priority
              FROM entities e
              JOIN department_regions dr ON dr.department_code = e.department_code AND dr.valid_from <= p_month
            UNION ALL
            SELECT er.entity_code, er.region_code, er.valid_from, 0
              FROM entity_regions er
             WHERE er.valid_from <= p_month
           ) x
     ORDER BY x.entity_code, x.valid_from DESC, x.priority
$$;
