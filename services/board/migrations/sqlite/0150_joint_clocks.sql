-- The joint meeting's own clock: a joint case on the agenda is decided by the chair within
-- the policy's joint_decision limit (time_limits.toml), from its submission. The deadline is
-- computed by the watcher with the calendar; each threshold is reported once.
CREATE TABLE joint_clocks (
    item_id TEXT PRIMARY KEY,
    town TEXT NOT NULL,
    case_id TEXT NOT NULL,
    started_at DATETIME NOT NULL,
    deadline DATETIME,
    second_threshold DATETIME,
    limit_text TEXT NOT NULL,
    level BIGINT NOT NULL,
    next_check_at DATETIME,
    met_at DATETIME
);
CREATE INDEX joint_clocks_due ON joint_clocks (next_check_at);
