-- The clocks' escalations (each obligation_overdue, once per obligation and level), the
-- extensions asked for and granted, and the call-backs' answers; all from events.
CREATE TABLE rm_escalations (
    obligation_id TEXT NOT NULL,
    level INTEGER NOT NULL,
    kind TEXT NOT NULL,
    town TEXT NOT NULL,
    department TEXT NOT NULL,
    case_id TEXT NOT NULL,
    referral_id TEXT NOT NULL,
    deadline DATETIME,
    raised_at DATETIME NOT NULL,
    PRIMARY KEY (obligation_id, level)
);

-- An extension: what it is for (from extension_requested) and the deadline it moved to (from
-- extension_granted); either may arrive first.
CREATE TABLE rm_extensions (
    request_id TEXT PRIMARY KEY,
    obligation_id TEXT NOT NULL,
    kind TEXT,
    case_id TEXT NOT NULL,
    referral_id TEXT,
    department TEXT NOT NULL,
    new_deadline DATETIME
);

CREATE TABLE rm_callbacks (
    callback_id TEXT PRIMARY KEY,
    town TEXT NOT NULL,
    case_id TEXT NOT NULL,
    satisfaction TEXT NOT NULL,
    reopened BOOLEAN NOT NULL,
    called_at DATETIME NOT NULL
);
