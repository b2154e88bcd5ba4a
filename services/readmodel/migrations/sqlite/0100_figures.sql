-- The read model's figures, each row made from events only (services/readmodel/src/consume.rs).

-- A referral (out of scope) or a joint-case task (joint): when it reached its department and
-- when each step was taken, from the events' occurred_at.
CREATE TABLE rm_items (
    item_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    path TEXT NOT NULL,
    case_id TEXT NOT NULL,
    town TEXT NOT NULL,
    department TEXT NOT NULL,
    dispatched_at DATETIME,
    signed_for_at DATETIME,
    accepted_at DATETIME,
    returned_at DATETIME,
    concluded_at DATETIME,
    withdrawn_at DATETIME
);
CREATE INDEX rm_items_town ON rm_items (town, dispatched_at);

-- A case as first seen on any path, with its matters (JSON list) and its month.
CREATE TABLE rm_cases (
    case_id TEXT PRIMARY KEY,
    town TEXT NOT NULL,
    path TEXT NOT NULL,
    department TEXT NOT NULL,
    matters TEXT NOT NULL,
    seen_at DATETIME NOT NULL
);

-- A decision (the brigade's, a department's or a lead's under entrustment); a changed one is
-- marked replaced and its amendment is a decision of its own.
CREATE TABLE rm_decisions (
    event_id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL,
    town TEXT NOT NULL,
    department TEXT NOT NULL,
    kind TEXT NOT NULL,
    fine_fen BIGINT NOT NULL,
    confiscated TEXT NOT NULL,
    confiscated_value_fen BIGINT NOT NULL,
    decided_at DATETIME NOT NULL,
    replaced BOOLEAN NOT NULL
);

-- One round of a legal review: when it was asked and answered.
CREATE TABLE rm_reviews (
    review_id TEXT NOT NULL,
    round INTEGER NOT NULL,
    town TEXT NOT NULL,
    department TEXT NOT NULL,
    requested_at DATETIME,
    answered_at DATETIME,
    PRIMARY KEY (review_id, round)
);

-- How many events have been applied: the version the dashboard's watchers compare.
CREATE TABLE rm_version (
    id INTEGER PRIMARY KEY,
    version BIGINT NOT NULL
);
INSERT INTO rm_version (id, version) VALUES (1, 0);
