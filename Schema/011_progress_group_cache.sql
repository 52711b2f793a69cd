-- Group roll-ups kept per (kind, plan, version, month, reader's scope) with the stamps they were computed at.
-- A cached result is used only while both stamps are unchanged: the plan's progress stamp (reports and
-- enrollments, see 010) and the membership stamp below (regions, moves, assignments, people, partners, entities).

CREATE TABLE membership_stamp (
    id    integer PRIMARY KEY CHECK (id = 1),
    stamp bigint NOT NULL DEFAULT 0
);
INSERT INTO membership_stamp (id, stamp) VALUES (1, 0);

CREATE FUNCTION bump_membership_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE membership_stamp SET stamp = stamp + 1 WHERE id = 1;
    RETURN NULL;
END $$;

CREATE TRIGGER department_regions_membership AFTER INSERT OR UPDATE OR DELETE ON department_regions
    FOR EACH STATEMENT EXECUTE FUNCTION bump_membership_stamp();
CREATE TRIGGER entity_regions_membership AFTER INSERT OR UPDATE OR DELETE ON entity_regions
    FOR EACH STATEMENT EXECUTE FUNCTION bump_membership_stamp();
CREATE TRIGGER regions_membership AFTER INSERT OR UPDATE OR DELETE ON regions
    FOR EACH STATEMENT EXECUTE FUNCTION bump_membership_stamp();
CREATE TRIGGER assignments_membership AFTER INSERT OR UPDATE OR DELETE ON assignments
    FOR EACH STATEMENT EXECUTE FUNCTION bump_membership_stamp();
CREATE TRIGGER people_membership AFTER INSERT OR UPDATE OR DELETE ON people
    FOR EACH STATEMENT EXECUTE FUNCTION bump_membership_stamp();
CREATE TRIGGER partners_membership AFTER INSERT OR UPDATE OR DELETE ON partners
    FOR EACH STATEMENT EXECUTE FUNCTION bump_membership_stamp();
CREATE TRIGGER entities_membership AFTER INSERT OR UPDATE OR DELETE ON entities
    FOR EACH STATEMENT EXECUTE FUNCTION bump_membership_stamp();
CREATE TRIGGER departments_membership AFTER INSERT OR UPDATE OR DELETE ON departments
    FOR EACH STATEMENT EXECUTE FUNCTION bump_membership_stamp();

CREATE TABLE progress_group_cache (
    cache_key        text PRIMARY KEY,
    progress_stamp   bigint NOT NULL,
    membership_stamp bigint NOT NULL,
    result           jsonb NOT NULL,
    computed_at      timestamptz NOT NULL DEFAULT now()
);
