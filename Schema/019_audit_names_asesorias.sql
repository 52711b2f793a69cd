-- The change log (registro de cambios), names as people write them (entity_names) and richer asesorías (issue 15).
-- The change log: every insert, update and delete of the audited tables, with who,
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
    IF EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = p_table AND tgname = 'audit_log_row') THEN
        EXECUTE format('DROP TRIGGER audit_log_row ON %s', p_table);
    END IF;
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

-- Names as people write them (issue 15 item 5): DIVIPOLA's official long names, historical names and the seats'
-- names of municipalities, the resolver's data and what `q=` searches besides the name. Same rows as
-- Data/divipola-nombres-alternativos.csv (a test keeps them equal). No foreign key to entities: a fresh database
-- runs the migrations before the seed fills entities.
CREATE TABLE entity_names (
    entity_code text NOT NULL CHECK (entity_code ~ '^[0-9]{5}$'),
    name        text NOT NULL,
    -- NameNormalizer.searchKey(name), as entities.search_key.
    search_key  text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('official_long', 'historical', 'alternative', 'cabecera')),
    source      text NOT NULL,
    PRIMARY KEY (entity_code, search_key)
);
CREATE INDEX entity_names_search_key ON entity_names (search_key text_pattern_ops);
INSERT INTO entity_names (entity_code, name, search_key, kind, source) VALUES
    ('05148', 'Carmen de Viboral', 'carmen de viboral', 'alternative', 'Common short form of El Carmen de Viboral (the article dropped)'),
    ('05541', 'El Peñol', 'el penol', 'alternative', 'Common form of DIVIPOLA''s Peñol (the town''s usual name carries the article)'),
    ('05697', 'Santuario', 'santuario', 'alternative', 'Common short form of El Santuario (Antioquia); unique within Antioquia'),
    ('11001', 'Santafé de Bogotá', 'santafe de bogota', 'historical', 'Name of the capital district from the 1991 Constitution until Acto Legislativo 01 de 2000'),
    ('13001', 'Cartagena de Indias', 'cartagena de indias', 'official_long', 'Official name of the district (Distrito Turístico y Cultural de Cartagena de Indias)'),
    ('13244', 'Carmen de Bolívar', 'carmen de bolivar', 'alternative', 'Common short form of El Carmen de Bolívar (the article dropped)'),
    ('13468', 'Santa Cruz de Mompox', 'santa cruz de mompox', 'official_long', 'Official long name of Mompós'),
    ('13468', 'Mompox', 'mompox', 'alternative', 'Variant spelling of Mompós (with x)'),
    ('15407', 'Villa de Leiva', 'villa de leiva', 'alternative', 'Spelling with i used alongside DIVIPOLA''s Villa de Leyva'),
    ('19418', 'López de Micay', 'lopez de micay', 'official_long', 'DIVIPOLA''s long name of López (Cauca)'),
    ('19517', 'Belalcázar', 'belalcazar', 'cabecera', 'Seat (cabecera) of Páez (Cauca); lists name the municipality by it'),
    ('19532', 'El Bordo', 'el bordo', 'cabecera', 'Seat (cabecera) of Patía (Cauca)'),
    ('19585', 'Coconuco', 'coconuco', 'cabecera', 'Seat (cabecera) of Puracé (Cauca)'),
    ('19760', 'Paispamba', 'paispamba', 'cabecera', 'Seat (cabecera) of Sotará (Cauca)'),
    ('20013', 'Codazzi', 'codazzi', 'alternative', 'Common short form of Agustín Codazzi'),
    ('20443', 'Manaure Balcón del Cesar', 'manaure balcon del cesar', 'official_long', 'Official long name of Manaure (Cesar)'),
    ('23417', 'Santa Cruz de Lorica', 'santa cruz de lorica', 'official_long', 'Official long name of Lorica'),
    ('25843', 'Ubaté', 'ubate', 'alternative', 'Common name of Villa de San Diego de Ubaté'),
    ('27050', 'Yuto', 'yuto', 'cabecera', 'Seat (cabecera) of Atrato (Chocó)'),
    ('27025', 'Pie de Pató', 'pie de pato', 'cabecera', 'Seat (cabecera) of Alto Baudó (Chocó)'),
    ('27075', 'Ciudad Mutis', 'ciudad mutis', 'cabecera', 'Seat (cabecera) of Bahía Solano (Chocó)'),
    ('27077', 'Pizarro', 'pizarro', 'cabecera', 'Seat (cabecera) of Bajo Baudó (Chocó)'),
    ('27099', 'Bellavista', 'bellavista', 'cabecera', 'Seat (cabecera) of Bojayá (Chocó)'),
    ('27250', 'Litoral del San Juan', 'litoral del san juan', 'alternative', 'El Litoral del San Juan without the article'),
    ('27425', 'Beté', 'bete', 'cabecera', 'Seat (cabecera) of Medio Atrato (Chocó)'),
    ('27450', 'Andagoya', 'andagoya', 'cabecera', 'Seat (cabecera) of Medio San Juan (Chocó)'),
    ('27600', 'Paimadó', 'paimado', 'cabecera', 'Seat (cabecera) of Río Quito (Chocó)'),
    ('47058', 'El Difícil', 'el dificil', 'cabecera', 'Seat (cabecera) of Ariguaní (Magdalena)'),
    ('47170', 'Chibolo', 'chibolo', 'alternative', 'Spelling with b used alongside DIVIPOLA''s Chivolo'),
    ('52001', 'San Juan de Pasto', 'san juan de pasto', 'official_long', 'Official long name of Pasto'),
    ('52224', 'Carlosama', 'carlosama', 'historical', 'Former name of Cuaspud (Nariño); still the seat''s name'),
    ('52418', 'Sotomayor', 'sotomayor', 'cabecera', 'Seat (cabecera) of Los Andes (Nariño)'),
    ('52427', 'Payán', 'payan', 'cabecera', 'Seat (cabecera) of Magüí (Nariño)'),
    ('52435', 'Piedrancha', 'piedrancha', 'cabecera', 'Seat (cabecera) of Mallama (Nariño)'),
    ('52490', 'Bocas de Satinga', 'bocas de satinga', 'cabecera', 'Seat (cabecera) of Olaya Herrera (Nariño)'),
    ('52520', 'Salahonda', 'salahonda', 'cabecera', 'Seat (cabecera) of Francisco Pizarro (Nariño)'),
    ('52696', 'Santa Bárbara de Iscuandé', 'santa barbara de iscuande', 'official_long', 'Long name of Santa Bárbara (Nariño)'),
    ('52696', 'Iscuandé', 'iscuande', 'alternative', 'Common name of Santa Bárbara de Iscuandé'),
    ('52699', 'Guachavés', 'guachaves', 'cabecera', 'Seat (cabecera) of Santacruz (Nariño)'),
    ('54001', 'San José de Cúcuta', 'san jose de cucuta', 'official_long', 'Official long name of Cúcuta'),
    ('68307', 'San Juan de Girón', 'san juan de giron', 'official_long', 'Official long name of Girón'),
    ('73055', 'Armero Guayabal', 'armero guayabal', 'alternative', 'Armero with its seat Guayabal (the town rebuilt after 1985)'),
    ('73268', 'El Espinal', 'el espinal', 'alternative', 'Common form of DIVIPOLA''s Espinal (with the article)'),
    ('73443', 'San Sebastián de Mariquita', 'san sebastian de mariquita', 'official_long', 'Official long name of Mariquita'),
    ('76001', 'Santiago de Cali', 'santiago de cali', 'official_long', 'Official long name of Cali'),
    ('76111', 'Buga', 'buga', 'alternative', 'Common name of Guadalajara de Buga'),
    ('86573', 'Puerto Leguízamo', 'puerto leguizamo', 'alternative', 'Usual name of DIVIPOLA''s Leguízamo (its seat)'),
    ('86757', 'La Dorada', 'la dorada', 'cabecera', 'Seat (cabecera) of San Miguel (Putumayo)'),
    ('86865', 'Valle del Guamuez', 'valle del guamuez', 'official_long', 'Official spelling of Valle de Guamez'),
    ('86865', 'La Hormiga', 'la hormiga', 'cabecera', 'Seat (cabecera) of Valle del Guamuez (Putumayo)'),
    ('88564', 'Providencia y Santa Catalina Islas', 'providencia y santa catalina islas', 'official_long', 'Official long name of Providencia'),
    ('94001', 'Puerto Inírida', 'puerto inirida', 'historical', 'Former name of Inírida (Guainía) and still its usual name');
SELECT audit_table('entity_names');

-- Asesorías as the report counts them (issue 15 item 4): seven modalities, attendees, and one session serving
-- several entities (a workshop, taller). `asesorias.entity_code` stays the session's lead entity (the single-entity
-- API is unchanged); asesoria_entities holds every entity served, the lead included (kept by a trigger, so any
-- writer, the demo too, stays consistent).
ALTER TABLE asesorias DROP CONSTRAINT asesorias_modality_check;
ALTER TABLE asesorias ADD CONSTRAINT asesorias_modality_check
    CHECK (modality IN ('virtual', 'presencial', 'telefonica', 'whatsapp', 'correo', 'documental', 'taller'));
ALTER TABLE asesorias
    ADD COLUMN attendee_count integer CHECK (attendee_count IS NULL OR attendee_count BETWEEN 0 AND 100000),
    -- Who attended, by role as written (alcalde, secretario de planeación…); optional.
    ADD COLUMN attendee_roles text[] NOT NULL DEFAULT '{}';

CREATE TABLE asesoria_entities (
    asesoria_id bigint NOT NULL REFERENCES asesorias (id),
    entity_code text NOT NULL REFERENCES entities (code),
    PRIMARY KEY (asesoria_id, entity_code)
);
CREATE INDEX asesoria_entities_entity ON asesoria_entities (entity_code, asesoria_id);
INSERT INTO asesoria_entities (asesoria_id, entity_code) SELECT id, entity_code FROM asesorias;

CREATE FUNCTION asesoria_serves_lead() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO asesoria_entities (asesoria_id, entity_code) VALUES (NEW.id, NEW.entity_code) ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER asesorias_serve_lead AFTER INSERT ON asesorias FOR EACH ROW EXECUTE FUNCTION asesoria_serves_lead();
-- The month series reads sessions by day.
CREATE INDEX asesorias_held_on ON asesorias (held_on);
SELECT audit_table('asesoria_entities');
