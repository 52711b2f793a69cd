-- Idempotency keys for asesorías: a client that retries after a lost answer logs the session once.
ALTER TABLE asesorias
    ADD COLUMN created_by bigint REFERENCES people (id),
    ADD COLUMN idempotency_key text CHECK (idempotency_key IS NULL OR idempotency_key ~ '^[!-~]{1,200}$'),
    ADD COLUMN request_hash text;
CREATE UNIQUE INDEX asesorias_idempotency ON asesorias (created_by, idempotency_key) WHERE idempotency_key IS NOT NULL;
