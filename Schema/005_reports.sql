-- Monthly reports (reportes), their append-only history, advisory sessions (asesorías) and period locks.

-- One row per (plan, entity, month) that has ever been reported: its revision (the ETag) and when
-- it was first received (timeliness).
CREATE TABLE reports (
    plan_code         text NOT NULL REFERENCES plans (code),
    entity_code       text NOT NULL REFERENCES entities (code),
    period            date NOT NULL CHECK (extract(day FROM period) = 1),
    revision          integer NOT NULL CHECK (revision >= 1),
    first_received_at timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    updated_by        bigint REFERENCES people (id),
    PRIMARY KEY (plan_code, entity_code, period)
);
CREATE INDEX reports_period ON reports (plan_code, period);

-- The current value of each milestone mentioned in a report. Milestones are referenced by code so a
-- catalog correction never orphans them.
CREATE TABLE report_milestones (
    plan_code      text NOT NULL,
    entity_code    text NOT NULL,
    period         date NOT NULL,
    milestone_code text NOT NULL,
    status         text NOT NULL CHECK (status IN ('not_started', 'in_progress', 'done', 'not_applicable')),
    achieved_on    date,
    evidence       text,
    comment        text,
    revision       integer NOT NULL,
    updated_at     timestamptz NOT NULL,
    updated_by     bigint REFERENCES people (id),
    PRIMARY KEY (plan_code, entity_code, milestone_code, period),
    FOREIGN KEY (plan_code, entity_code, period) REFERENCES reports (plan_code, entity_code, period)
);
-- Carry-forward lookups scan (plan, milestone) by period.
CREATE INDEX report_milestones_plan_period ON report_milestones (plan_code, period);

-- Every change ever made, never updated nor deleted.
CREATE TABLE report_revisions (
    id                bigserial PRIMARY KEY,
    plan_code         text NOT NULL,
    entity_code       text NOT NULL,
    period            date NOT NULL,
    milestone_code    text NOT NULL,
    revision          integer NOT NULL,
    previous_status   text,
    status            text NOT NULL,
    previous_achieved_on date,
    achieved_on       date,
    previous_evidence text,
    evidence          text,
    previous_comment  text,
    comment           text,
    -- done going back to not started (or in progress): flagged, and it needed a comment.
    is_regression     boolean NOT NULL DEFAULT false,
    source            text NOT NULL DEFAULT 'api' CHECK (source IN ('api', 'import', 'demo')),
    author_id         bigint REFERENCES people (id),
    recorded_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX report_revisions_lookup ON report_revisions (plan_code, entity_code, milestone_code, period, id);

CREATE TRIGGER report_revisions_append_only BEFORE UPDATE OR DELETE ON report_revisions
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- Advisory sessions (asesorías): cheap to log, calls included.
CREATE TABLE asesorias (
    id               bigserial PRIMARY KEY,
    plan_code        text REFERENCES plans (code),
    entity_code      text NOT NULL REFERENCES entities (code),
    person_id        bigint NOT NULL REFERENCES people (id),
    held_on          date NOT NULL,
    modality         text NOT NULL CHECK (modality IN ('virtual', 'presencial', 'telefonica')),
    milestones       text[] NOT NULL DEFAULT '{}',
    duration_minutes integer CHECK (duration_minutes IS NULL OR duration_minutes BETWEEN 1 AND 1440),
    notes            text,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX asesorias_person ON asesorias (person_id, held_on);
CREATE INDEX asesorias_entity ON asesorias (entity_code, held_on);

-- A locked (plan, month) refuses report writes until the central team reopens it with a reason.
CREATE TABLE period_locks (
    plan_code text NOT NULL REFERENCES plans (code),
    period    date NOT NULL CHECK (extract(day FROM period) = 1),
    reason    text NOT NULL,
    locked_by bigint REFERENCES people (id),
    locked_at timestamptz NOT NULL DEFAULT now(),
    cut_id    bigint,
    PRIMARY KEY (plan_code, period)
);

CREATE TABLE period_lock_events (
    id        bigserial PRIMARY KEY,
    plan_code text NOT NULL,
    period    date NOT NULL,
    action    text NOT NULL CHECK (action IN ('lock', 'reopen')),
    reason    text NOT NULL,
    person_id bigint REFERENCES people (id),
    cut_id    bigint,
    at        timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER period_lock_events_append_only BEFORE UPDATE OR DELETE ON period_lock_events
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
