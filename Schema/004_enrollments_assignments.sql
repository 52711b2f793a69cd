-- Enrollments (which entities a plan serves, by month) and assignments (advisor X serves entity E in plan P).
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE enrollments (
    id          bigserial PRIMARY KEY,
    plan_code   text NOT NULL REFERENCES plans (code),
    entity_code text NOT NULL REFERENCES entities (code),
    from_period date NOT NULL CHECK (extract(day FROM from_period) = 1),
    to_period   date CHECK (to_period IS NULL OR (extract(day FROM to_period) = 1 AND to_period >= from_period)),
    created_at  timestamptz NOT NULL DEFAULT now(),
    -- An entity is enrolled at most once in a plan at any month.
    EXCLUDE USING gist (plan_code WITH =, entity_code WITH =,
        daterange(from_period, COALESCE((to_period + interval '1 month')::date, 'infinity'::date), '[)') WITH &&)
);
CREATE INDEX enrollments_plan ON enrollments (plan_code, from_period);

CREATE TABLE assignments (
    id          bigserial PRIMARY KEY,
    plan_code   text NOT NULL REFERENCES plans (code),
    entity_code text NOT NULL REFERENCES entities (code),
    person_id   bigint NOT NULL REFERENCES people (id),
    from_period date NOT NULL CHECK (extract(day FROM from_period) = 1),
    to_period   date CHECK (to_period IS NULL OR (extract(day FROM to_period) = 1 AND to_period >= from_period)),
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  bigint REFERENCES people (id),
    -- "Who was responsible for E in March" has one answer.
    CONSTRAINT assignments_no_overlap EXCLUDE USING gist (plan_code WITH =, entity_code WITH =,
        daterange(from_period, COALESCE((to_period + interval '1 month')::date, 'infinity'::date), '[)') WITH &&)
);
CREATE INDEX assignments_person ON assignments (person_id, plan_code);
CREATE INDEX assignments_entity ON assignments (plan_code, entity_code);
