-- Legal reviews of major decisions: one row per decision under review, one per round of it,
-- and the copy of every agency's certificate registry the "qualified officers" check reads.
CREATE TABLE reviews (
    review_id TEXT PRIMARY KEY,
    town TEXT NOT NULL,
    -- The department whose decision it is; '' for the town's.
    department TEXT NOT NULL,
    case_id TEXT NOT NULL,
    decided_in_name_of TEXT NOT NULL,
    status TEXT NOT NULL,
    round BIGINT NOT NULL,
    requested_at TIMESTAMPTZ NOT NULL,
    due_at TIMESTAMPTZ NOT NULL,
    due_last_day TEXT NOT NULL,
    extended BOOLEAN NOT NULL,
    extension_reason TEXT NOT NULL,
    extended_at TIMESTAMPTZ,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX reviews_scope ON reviews (town, department, status, requested_at);

CREATE TABLE review_rounds (
    review_id TEXT NOT NULL REFERENCES reviews (review_id),
    round BIGINT NOT NULL,
    -- The encoded liandong.events.v1.ReviewRequested.
    materials BYTEA NOT NULL,
    requested_at TIMESTAMPTZ NOT NULL,
    due_at TIMESTAMPTZ NOT NULL,
    -- JSON list of {check, passed, note}; empty while pending.
    answers TEXT NOT NULL,
    decision TEXT NOT NULL,
    status TEXT NOT NULL,
    note TEXT NOT NULL,
    decided_by TEXT NOT NULL,
    decided_at TIMESTAMPTZ,
    PRIMARY KEY (review_id, round)
);

-- agency is a town code (the brigade's registry) or a department code (a department's).
CREATE TABLE certificates (
    agency TEXT NOT NULL,
    officer TEXT NOT NULL,
    certificate_no TEXT NOT NULL,
    issuing_authority TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_until TEXT NOT NULL,
    status TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (agency, officer)
);
