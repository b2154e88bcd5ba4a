-- The brigade's cases, their history, the referrals it sent, and its copies of results (抄告).
CREATE TABLE cases (
    case_id TEXT PRIMARY KEY,
    town TEXT NOT NULL,
    source TEXT NOT NULL,
    matters TEXT NOT NULL,
    village TEXT NOT NULL,
    location TEXT NOT NULL,
    description TEXT NOT NULL,
    found_at DATETIME NOT NULL,
    reported_by TEXT NOT NULL,
    evidence_refs TEXT NOT NULL,
    complex BOOLEAN NOT NULL,
    path TEXT NOT NULL,
    rule BIGINT NOT NULL,
    deciding TEXT NOT NULL,
    departments TEXT NOT NULL,
    department TEXT,
    computed_path TEXT NOT NULL,
    override_reason TEXT,
    status TEXT NOT NULL,
    catalogue_version TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);
CREATE INDEX cases_town_created ON cases (town, created_at);

CREATE TABLE case_history (
    entry_id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases (case_id),
    town TEXT NOT NULL,
    at DATETIME NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    detail TEXT NOT NULL,
    event_id TEXT
);
CREATE INDEX case_history_case ON case_history (case_id, at);

CREATE TABLE referrals_sent (
    referral_id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases (case_id),
    town TEXT NOT NULL,
    department TEXT NOT NULL,
    dispatch_no BIGINT NOT NULL,
    status TEXT NOT NULL,
    dispatched_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);
CREATE INDEX referrals_sent_case ON referrals_sent (case_id);

CREATE TABLE result_copies (
    referral_id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases (case_id),
    town TEXT NOT NULL,
    department TEXT NOT NULL,
    outcome_kind TEXT NOT NULL,
    fine_fen BIGINT NOT NULL,
    confiscated TEXT NOT NULL,
    summary TEXT NOT NULL,
    concluded_by TEXT NOT NULL,
    received_at DATETIME NOT NULL
);
