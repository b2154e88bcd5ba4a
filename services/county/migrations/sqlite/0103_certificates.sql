-- The department's registry of enforcement certificates (持证上岗).
-- agency is the department code; dates are YYYY-MM-DD text (China dates, not instants).
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

-- Why the brigade sent a referral, so a department sees a crime transfer (行刑衔接) as such.
ALTER TABLE referrals ADD COLUMN reason TEXT NOT NULL DEFAULT '';
