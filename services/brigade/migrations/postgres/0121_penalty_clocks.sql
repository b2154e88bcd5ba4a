-- The 90 days from opening (assigning) a case to its decision (行政处罚法 第六十条), watched by
-- the brigade. deadline is NULL until the watcher has computed it with the calendar;
-- next_check_at is when the watcher must look at the row again (NULL: nothing left to report).
CREATE TABLE penalty_clocks (
    case_id TEXT PRIMARY KEY,
    town TEXT NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    deadline TIMESTAMPTZ,
    second_threshold TIMESTAMPTZ,
    limit_text TEXT NOT NULL,
    level BIGINT NOT NULL,
    next_check_at TIMESTAMPTZ,
    met_at TIMESTAMPTZ,
    closed_by TEXT
);
CREATE INDEX penalty_clocks_next_check ON penalty_clocks (next_check_at);
