-- Plans (planes), their versions, stages (momentos), phases (fases) and milestones (hitos).
-- A correction of a plan never rewrites rows: it inserts a whole new version, so what was computed
-- with an older version (cuts) can always be read back with the weights it used.

CREATE TABLE plans (
    code            text PRIMARY KEY CHECK (code ~ '^[A-Za-z0-9._-]{1,40}$'),
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 300),
    current_version integer NOT NULL DEFAULT 1 CHECK (current_version >= 1),
    -- A report for month M is on time when first received by this day of M+1 (SPEC rule 7).
    on_time_day     integer NOT NULL DEFAULT 10 CHECK (on_time_day BETWEEN 1 AND 28),
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE plan_versions (
    plan_code  text NOT NULL REFERENCES plans (code),
    version    integer NOT NULL CHECK (version >= 1),
    name       text NOT NULL,
    reason     text,
    created_by bigint,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (plan_code, version)
);

CREATE TABLE plan_stages (
    plan_code text NOT NULL,
    version   integer NOT NULL,
    code      text NOT NULL,
    name      text NOT NULL,
    position  integer NOT NULL,
    PRIMARY KEY (plan_code, version, code),
    FOREIGN KEY (plan_code, version) REFERENCES plan_versions (plan_code, version)
);

CREATE TABLE plan_phases (
    plan_code      text NOT NULL,
    version        integer NOT NULL,
    code           text NOT NULL,
    name           text NOT NULL,
    stage_code     text,
    -- Exact decimals, never binary floating point.
    weight_in_plan numeric NOT NULL CHECK (weight_in_plan > 0 AND weight_in_plan <= 100),
    position       integer NOT NULL,
    PRIMARY KEY (plan_code, version, code),
    FOREIGN KEY (plan_code, version) REFERENCES plan_versions (plan_code, version),
    FOREIGN KEY (plan_code, version, stage_code) REFERENCES plan_stages (plan_code, version, code)
);

CREATE TABLE plan_milestones (
    plan_code       text NOT NULL,
    version         integer NOT NULL,
    code            text NOT NULL,
    name            text NOT NULL,
    phase_code      text NOT NULL,
    weight_in_phase numeric NOT NULL CHECK (weight_in_phase > 0 AND weight_in_phase <= 100),
    position        integer NOT NULL,
    PRIMARY KEY (plan_code, version, code),
    FOREIGN KEY (plan_code, version, phase_code) REFERENCES plan_phases (plan_code, version, code)
);

-- The weight of a milestone in its plan is derived, never stored by hand.
CREATE VIEW plan_milestones_v AS
SELECT m.plan_code, m.version, m.code, m.name, m.phase_code, m.weight_in_phase, m.position,
       p.weight_in_plan AS phase_weight_in_plan,
       p.weight_in_plan * m.weight_in_phase / 100 AS weight_in_plan
  FROM plan_milestones m
  JOIN plan_phases p ON p.plan_code = m.plan_code AND p.version = m.version AND p.code = m.phase_code;

-- Versions are immutable once written.
CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = '55000';
END $$;

CREATE TRIGGER plan_phases_immutable BEFORE UPDATE OR DELETE ON plan_phases
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER plan_milestones_immutable BEFORE UPDATE OR DELETE ON plan_milestones
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER plan_stages_immutable BEFORE UPDATE OR DELETE ON plan_stages
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
