-- Disclosures of enforcement decisions (行政执法公示), one per decision event. Only masked
-- content is stored: no raw name, ID, phone, bank number or full address ever reaches this
-- database, so nothing here can leak them.
CREATE TABLE disclosures (
    disclosure_id TEXT PRIMARY KEY,
    town TEXT NOT NULL,
    case_id TEXT NOT NULL,
    source_event_id TEXT NOT NULL UNIQUE,
    source_event_type TEXT NOT NULL,
    body_kind TEXT NOT NULL,
    body_code TEXT NOT NULL,
    class TEXT NOT NULL,
    status TEXT NOT NULL,
    outcome TEXT NOT NULL,
    fine_fen BIGINT NOT NULL,
    confiscated TEXT NOT NULL,
    summary TEXT NOT NULL,
    description TEXT NOT NULL,
    party_kind TEXT NOT NULL,
    party_name TEXT NOT NULL,
    party_address TEXT NOT NULL,
    matters TEXT NOT NULL,
    decided_at DATETIME NOT NULL,
    due_at DATETIME NOT NULL,
    due_provisional BOOLEAN NOT NULL,
    withheld_reason TEXT,
    published_at DATETIME,
    published_by TEXT,
    withdrawn_at DATETIME,
    withdrawn_by TEXT,
    withdrawal_reason TEXT,
    decision_changed_at DATETIME,
    withdrawal_due_at DATETIME,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);
CREATE INDEX disclosures_body ON disclosures (body_kind, body_code, created_at);
CREATE INDEX disclosures_public ON disclosures (status, published_at);
