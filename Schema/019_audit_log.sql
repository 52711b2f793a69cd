-- The change log (registro de cambios): every insert, update and delete of the audited tables, with who,
-- when, before and after. Append-only. A table joins the log with one call: SELECT audit_table('name').

CREATE TABLE audit_log (
    id              bigserial PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT now(),
    -- The person on whose behalf the transaction ran (`SET LOCAL seta.actor` by the API); NULL for the
    -- system: CLI, seed, demo and migrations. No foreign key: the log outlives what it names.
    actor_id        bigint,
    table_name      text NOT NULL,
    action          text NOT NULL CHECK (action IN ('insert', 'update', 'delete')),
    -- The row's primary key as {column: value}.
    row_key         jsonb NOT NULL,
    -- What the row is about, for the filters: its entity (or the department, for department moves) and
    -- its person (a token's owner, an assignment's advisor, the person itself).
    entity_code     text,
    department_code text,
    person_id       bigint,
    before          jsonb,
    after           jsonb,
    transaction_id  bigint NOT NULL DEFAULT txid_current()
);
CREATE INDEX audit_log_at ON audit_log (at, id);
CREATE INDEX audit_log_entity ON audit_log (entity_code, id) WHERE entity_code IS NOT NULL;
CREATE INDEX audit_log_department ON audit_log (department_code, id) WHERE department_code IS NOT NULL;
CREATE INDEX audit_log_person ON audit_log (person_id, id) WHERE person_id IS NOT NULL;
CREATE INDEX audit_log_actor ON audit_log (actor_id, id) WHERE actor_id IS NOT NULL;

CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- One row of an audited table changed. Arguments (set by audit_table): the primary key columns, the
-- columns never logged (a token's hash), the column naming the entity, the column naming the person.
CREATE FUNCTION audit_row() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    v_hidden text[] := TG_ARGV[1]::text[];
    v_old    jsonb;
    v_new    jsonb;
    v_row    jsonb;
    v_entity text;
BEGIN
    IF TG_OP <> 'INSERT' THEN v_old := to_jsonb(OLD) - v_hidden; END IF;
    IF TG_OP <> 'DELETE' THEN v_new := to_jsonb(NEW) - v_hidden; END IF;
    -- An update that changed nothing visible is not a change.
    IF TG_OP = 'UPDATE' AND v_old = v_new THEN RETURN NULL; END IF;
    v_row := COALESCE(v_new, v_old);
    v_entity := v_row ->> TG_ARGV[2];
    INSERT INTO audit_log (actor_id, table_name, action, row_key, entity_code, department_code, person_id, before, after)
    VALUES (nullif(current_setting('seta.actor', true), '')::bigint, TG_TABLE_NAME, lower(TG_OP),
            (SELECT jsonb_object_agg(k, v_row -> k) FROM unnest(TG_ARGV[0]::text[]) k),
            v_entity,
            COALESCE(v_row ->> 'department_code', left(v_entity, 2)),
            (v_row ->> TG_ARGV[3])::bigint,
            v_old, v_new);
    RETURN NULL;
END $$;

-- Puts a table in the change log (idempotent: running it again replaces the trigger). `p_hidden` columns
-- are never written to the log; `p_entity_column` and `p_person_column` name the row's entity and person
-- when the table calls them otherwise (a missing column simply logs NULL).
CREATE FUNCTION audit_table(p_table regclass, p_hidden text[] DEFAULT '{}',
                            p_entity_column text DEFAULT 'entity_code', p_person_column text DEFAULT 'person_id')
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_key text[];
BEGIN
    SELECT array_agg(a.attname::text ORDER BY array_position(i.indkey::int2[], a.attnum))
      INTO v_key
      FROM pg_index i
      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey::int2[])
     WHERE i.indrelid = p_table AND i.indisprimary;
    IF v_key IS NULL THEN
        RAISE EXCEPTION 'audit_table: % has no primary key', p_table;
    END IF;
    EXECUTE format('DROP TRIGGER IF EXISTS audit_log_row ON %s', p_table);
    EXECUTE format('CREATE TRIGGER audit_log_row AFTER INSERT OR UPDATE OR DELETE ON %s '
                   'FOR EACH ROW EXECUTE FUNCTION audit_row(%L, %L, %L, %L)',
                   p_table, v_key::text, p_hidden::text, p_entity_column, p_person_column);
END $$;

-- Territory.
SELECT audit_table('departments', p_entity_column => 'none');
SELECT audit_table('entities', p_entity_column => 'code');
SELECT audit_table('regions');
SELECT audit_table('department_regions', p_entity_column => 'none');
SELECT audit_table('entity_regions');
-- People, partners and tokens (never the hash of the secret).
SELECT audit_table('partners');
SELECT audit_table('people', p_person_column => 'id');
SELECT audit_table('person_regions');
SELECT audit_table('tokens', p_hidden => '{token_hash}');
-- Enrollments and assignments.
SELECT audit_table('enrollments');
SELECT audit_table('assignments');
-- The catalog and its versions.
SELECT audit_table('plans');
SELECT audit_table('plan_versions');
SELECT audit_table('plan_stages');
SELECT audit_table('plan_phases');
SELECT audit_table('plan_milestones');
-- Reporting: the report heads (milestone before/after stays in report_revisions), asesorías, locks, cuts.
SELECT audit_table('reports');
SELECT audit_table('asesorias');
SELECT audit_table('period_locks');
SELECT audit_table('cuts');
-- Schedule exceptions (Decreto 683).
SELECT audit_table('schedule_exceptions');
