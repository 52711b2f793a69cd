-- Group sets (conjuntos de agrupación) with entity membership by month, typed entity attributes, and the
-- group-set roll-ups a cut freezes. Issue 15, items 1 and 2.

-- A named set of named groups (universos de focalización, PDET, Decreto 683, a regionalization…).
CREATE TABLE group_sets (
    code        text PRIMARY KEY CHECK (code ~ '^[a-z0-9-]{1,60}$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description text CHECK (length(description) <= 2000),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE group_set_groups (
    set_code text NOT NULL REFERENCES group_sets (code) ON DELETE CASCADE,
    code     text NOT NULL CHECK (code ~ '^[A-Za-z0-9_-]{1,60}$'),
    name     text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    PRIMARY KEY (set_code, code)
);

-- An entity belongs to a group of a set from a month on (like entity_regions); the latest row not after a
-- month answers. A row without group takes the entity out of the set from that month.
CREATE TABLE group_set_members (
    set_code    text NOT NULL REFERENCES group_sets (code) ON DELETE CASCADE,
    entity_code text NOT NULL REFERENCES entities (code),
    valid_from  date NOT NULL CHECK (extract(day FROM valid_from) = 1),
    group_code  text,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (set_code, entity_code, valid_from),
    FOREIGN KEY (set_code, group_code) REFERENCES group_set_groups (set_code, code) ON DELETE CASCADE
);

-- The group of every member of a set as of a month.
CREATE FUNCTION group_members_at(p_set text, p_month date)
RETURNS TABLE (entity_code text, group_code text)
LANGUAGE sql STABLE AS $$
    SELECT x.entity_code, x.group_code
      FROM (SELECT DISTINCT ON (m.entity_code) m.entity_code, m.group_code
              FROM group_set_members m
             WHERE m.set_code = p_set AND m.valid_from <= p_month
             ORDER BY m.entity_code, m.valid_from DESC) x
     WHERE x.group_code IS NOT NULL
$$;

-- A typed attribute of entities, defined by the central team (pdet: boolean, categoria_ley_617: category…).
CREATE TABLE entity_attributes (
    code        text PRIMARY KEY CHECK (code ~ '^[a-z0-9_-]{1,60}$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    type        text NOT NULL CHECK (type IN ('boolean', 'number', 'text', 'category')),
    -- The values a category admits (NULL for the other types).
    categories  text[] CHECK ((type = 'category') = (categories IS NOT NULL)),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- One value per (attribute, entity), in canonical text (`true`/`false`, a number as written without
-- trailing zeros, the text, the category); numbers also as numeric so filters compare them exactly.
CREATE TABLE entity_attribute_values (
    attribute_code text NOT NULL REFERENCES entity_attributes (code) ON DELETE CASCADE,
    entity_code    text NOT NULL REFERENCES entities (code),
    value          text NOT NULL CHECK (length(value) BETWEEN 1 AND 500),
    value_number   numeric,
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (attribute_code, entity_code)
);
CREATE INDEX entity_attribute_values_value ON entity_attribute_values (attribute_code, value);

-- The sets a cut froze, with their names at the time: deleting or renaming a set later leaves the cut as it was.
-- The frozen groups themselves are rows of cut_groups with group_kind 'set:<code>'.
CREATE TABLE cut_group_sets (
    cut_id   bigint NOT NULL REFERENCES cuts (id),
    set_code text NOT NULL,
    set_name text NOT NULL,
    PRIMARY KEY (cut_id, set_code)
);
CREATE TRIGGER cut_group_sets_immutable BEFORE UPDATE OR DELETE ON cut_group_sets
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- Kept roll-ups (progress_rollups) are valid only while memberships are unchanged: set memberships, group
-- names and attribute values decide who is counted and where, so they bump the stamp too.
CREATE TRIGGER group_sets_membership AFTER INSERT OR UPDATE OR DELETE ON group_sets
    FOR EACH STATEMENT EXECUTE FUNCTION bump_membership_stamp();
CREATE TRIGGER group_set_groups_membership AFTER INSERT OR UPDATE OR DELETE ON group_set_groups
    FOR EACH STATEMENT EXECUTE FUNCTION bump_membership_stamp();
CREATE TRIGGER group_set_members_membership AFTER INSERT OR UPDATE OR DELETE ON group_set_members
    FOR EACH STATEMENT EXECUTE FUNCTION bump_membership_stamp();
CREATE TRIGGER entity_attributes_membership AFTER INSERT OR UPDATE OR DELETE ON entity_attributes
    FOR EACH STATEMENT EXECUTE FUNCTION bump_membership_stamp();
CREATE TRIGGER entity_attribute_values_membership AFTER INSERT OR UPDATE OR DELETE ON entity_attribute_values
    FOR EACH STATEMENT EXECUTE FUNCTION bump_membership_stamp();

-- Databases seeded before this migration get the shipped PND regionalization as a group set too (fresh ones
-- get it from the seeder): the regions each department had "since always" (1900-01), as first seeded.
INSERT INTO group_sets (code, name, description)
SELECT 'regiones-pnd', 'Regiones PND 2018-2022',
       'Las 6 regiones del Plan Nacional de Desarrollo según el archivo DIVIPOLA que SETA distribuye (Data/divipola-municipios.csv).'
 WHERE EXISTS (SELECT 1 FROM entities);
INSERT INTO group_set_groups (set_code, code, name)
SELECT DISTINCT 'regiones-pnd', r.code, r.name FROM department_regions dr JOIN regions r ON r.code = dr.region_code
 WHERE dr.valid_from = DATE '1900-01-01' AND EXISTS (SELECT 1 FROM group_sets WHERE code = 'regiones-pnd');
INSERT INTO group_set_members (set_code, entity_code, valid_from, group_code)
SELECT 'regiones-pnd', e.code, DATE '1900-01-01', dr.region_code
  FROM entities e JOIN department_regions dr ON dr.department_code = e.department_code AND dr.valid_from = DATE '1900-01-01'
 WHERE EXISTS (SELECT 1 FROM group_sets WHERE code = 'regiones-pnd');
