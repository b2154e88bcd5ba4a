-- Each disclosure's state against its due date, from disclosure.disclosure_status_changed;
-- `seq` is the event's aggregate_seq, so an older state arriving late changes nothing.
CREATE TABLE rm_disclosures (
    disclosure_id TEXT PRIMARY KEY,
    seq BIGINT NOT NULL,
    town TEXT NOT NULL,
    case_id TEXT NOT NULL,
    body_kind TEXT NOT NULL,
    body_code TEXT NOT NULL,
    class TEXT NOT NULL,
    status TEXT NOT NULL,
    decided_at DATETIME NOT NULL,
    due_at DATETIME NOT NULL,
    published_at DATETIME,
    withdrawn_at DATETIME,
    withdrawal_due_at DATETIME
);
