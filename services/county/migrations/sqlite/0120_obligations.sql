-- Durable clocks on the departments' obligations (办理时限), watched by the county itself.
-- next_check_at is when the watcher must look at the row again: the deadline (level 0), the
-- second threshold (level 1), or at once when a late obligation was met and the board has not
-- been told yet; NULL when nothing is left to report.
CREATE TABLE obligations (
    obligation_id TEXT PRIMARY KEY,
    town TEXT NOT NULL,
    kind TEXT NOT NULL,
    case_id TEXT NOT NULL,
    referral_id TEXT NOT NULL,
    department TEXT NOT NULL,
    started_at DATETIME NOT NULL,
    deadline DATETIME NOT NULL,
    original_deadline DATETIME NOT NULL,
    second_threshold DATETIME NOT NULL,
    escalate_after BIGINT NOT NULL,
    limit_text TEXT NOT NULL,
    provisional BOOLEAN NOT NULL,
    level BIGINT NOT NULL,
    next_check_at DATETIME,
    met_at DATETIME,
    closed_by TEXT,
    extended_days BIGINT NOT NULL,
    pending_extension TEXT,
    created_at DATETIME NOT NULL
);
CREATE INDEX obligations_next_check ON obligations (next_check_at);
CREATE INDEX obligations_department ON obligations (department, met_at, deadline);
CREATE INDEX obligations_case ON obligations (case_id);

-- A department's requests for more time, until the chair answers.
CREATE TABLE extension_requests (
    request_id TEXT PRIMARY KEY,
    obligation_id TEXT NOT NULL REFERENCES obligations (obligation_id),
    working_days BIGINT NOT NULL,
    reason TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at DATETIME NOT NULL,
    status TEXT NOT NULL,
    decided_at DATETIME,
    note TEXT
);
