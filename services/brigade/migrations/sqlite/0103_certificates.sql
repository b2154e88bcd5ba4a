-- The town's registry of enforcement certificates (持证上岗) and the legal reviews of its major
-- decisions. agency is the town code; dates are YYYY-MM-DD text (China dates, not instants).
CREATE TABLE officer_certificates (
    agency TEXT NOT NULL,
    officer TEXT NOT NULL,
    certificate_no TEXT NOT NULL,
    issuing_authority TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_until TEXT NOT NULL,
    status TEXT NOT NULL,
    status_note TEXT NOT NULL,
    registered_by TEXT NOT NULL,
    updated_at DATETIME NOT NULL,
    PRIMARY KEY (agency, officer)
);

CREATE TABLE officer_assessments (
    assessment_id TEXT PRIMARY KEY,
    agency TEXT NOT NULL,
    officer TEXT NOT NULL,
    certificate_no TEXT NOT NULL,
    passed BOOLEAN NOT NULL,
    note TEXT NOT NULL,
    assessed_by TEXT NOT NULL,
    assessed_at DATETIME NOT NULL
);
CREATE INDEX officer_assessments_officer ON officer_assessments (agency, officer, assessed_at);

-- A major decision waiting for (or past) its legal review: the proposed outcome is kept here
-- until the reviewer approves it; every round goes to the review service.
CREATE TABLE case_reviews (
    case_id TEXT PRIMARY KEY REFERENCES cases (case_id),
    town TEXT NOT NULL,
    review_id TEXT NOT NULL,
    round BIGINT NOT NULL,
    status TEXT NOT NULL,
    proposed BLOB NOT NULL,
    -- The proposing officer as events carry them (encoded liandong.events.v1.Actor).
    proposer BLOB NOT NULL,
    certificate_no TEXT NOT NULL,
    submitted_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);
