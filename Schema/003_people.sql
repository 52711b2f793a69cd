-- Partner institutions (entidades socias), people (asesores, coordinadores, equipo central) and their tokens.

CREATE TABLE partners (
    code       text PRIMARY KEY CHECK (code ~ '^[A-Za-z0-9_-]{1,30}$'),
    name       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE people (
    id           bigserial PRIMARY KEY,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    email        text NOT NULL CHECK (email ~ '^[^@\s]+@[^@\s]+$' AND length(email) <= 254),
    role         text NOT NULL CHECK (role IN ('advisor', 'coordinator', 'central', 'viewer')),
    partner_code text REFERENCES partners (code),
    -- A viewer may be limited to their partner institution's entities.
    limited_to_partner boolean NOT NULL DEFAULT false,
    active       boolean NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX people_email ON people (lower(email));

-- Regions of a coordinator (where they read and write) or of a viewer limited to regions.
CREATE TABLE person_regions (
    person_id   bigint NOT NULL REFERENCES people (id),
    region_code text NOT NULL REFERENCES regions (code),
    PRIMARY KEY (person_id, region_code)
);

-- Bearer tokens: only a SHA-256 of the secret is stored; the secret is shown once.
CREATE TABLE tokens (
    id         bigserial PRIMARY KEY,
    person_id  bigint NOT NULL REFERENCES people (id),
    token_hash bytea NOT NULL UNIQUE,
    label      text,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX tokens_person ON tokens (person_id);
