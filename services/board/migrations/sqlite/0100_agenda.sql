-- Each town's joint-meeting agenda: joint cases and competence disputes.
CREATE TABLE agenda_items (
    item_id TEXT PRIMARY KEY,
    town TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    case_id TEXT NOT NULL,
    facts BLOB NOT NULL,
    departments TEXT NOT NULL,
    referral_id TEXT,
    returned_by TEXT,
    return_reason TEXT,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);
CREATE INDEX agenda_items_town ON agenda_items (town, status, created_at);
