-- Cuts (cortes): immutable snapshots of everyone's progress as of a month, with the catalog version used.

CREATE TABLE cuts (
    id              bigserial PRIMARY KEY,
    plan_code       text NOT NULL REFERENCES plans (code),
    period          date NOT NULL CHECK (extract(day FROM period) = 1),
    label           text NOT NULL CHECK (length(label) BETWEEN 1 AND 200),
    catalog_version integer NOT NULL,
    created_by      bigint REFERENCES people (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (plan_code, catalog_version) REFERENCES plan_versions (plan_code, version)
);

-- One row per enrolled entity, with everything the export needs, frozen as it was.
CREATE TABLE cut_entities (
    cut_id          bigint NOT NULL REFERENCES cuts (id),
    entity_code     text NOT NULL,
    entity_name     text NOT NULL,
    entity_type     text NOT NULL,
    department_code text NOT NULL,
    department_name text NOT NULL,
    region_code     text,
    region_name     text,
    advisor_id      bigint,
    advisor_name    text,
    partner_code    text,
    total           numeric,
    phases          jsonb NOT NULL,   -- {"F1": "100.00…", …}; null for a phase that drops out
    completed       jsonb NOT NULL,   -- {"F1": true, …}
    milestones      jsonb NOT NULL,   -- {"H1": "done", …}
    PRIMARY KEY (cut_id, entity_code)
);

CREATE TABLE cut_groups (
    cut_id     bigint NOT NULL REFERENCES cuts (id),
    group_kind text NOT NULL,
    group_key  text NOT NULL,
    group_name text,
    summary    jsonb NOT NULL,
    PRIMARY KEY (cut_id, group_kind, group_key)
);

CREATE TRIGGER cuts_immutable BEFORE UPDATE OR DELETE ON cuts
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER cut_entities_immutable BEFORE UPDATE OR DELETE ON cut_entities
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER cut_groups_immutable BEFORE UPDATE OR DELETE ON cut_groups
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
