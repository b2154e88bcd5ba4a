-- The period to decide a penalty case counted as the law and the departments' rules count it:
-- from filing (立案), the rule of the case's competent department (NULL: the default rule),
-- whether the deadline was computed beyond the loaded calendar years (recomputed at start once
-- the year is loaded), the periods not counted and the extensions approved.
ALTER TABLE penalty_clocks ADD COLUMN department TEXT;
ALTER TABLE penalty_clocks ADD COLUMN provisional BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE penalty_excluded_periods (
    entry_id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL,
    town TEXT NOT NULL,
    kind TEXT NOT NULL,
    start_on TEXT NOT NULL,
    end_on TEXT NOT NULL,
    reason TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at DATETIME NOT NULL
);
CREATE INDEX penalty_excluded_periods_case ON penalty_excluded_periods (case_id, start_on);

CREATE TABLE penalty_extensions (
    entry_id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL,
    town TEXT NOT NULL,
    days BIGINT NOT NULL,
    approver TEXT NOT NULL,
    reason TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at DATETIME NOT NULL
);
CREATE INDEX penalty_extensions_case ON penalty_extensions (case_id, recorded_at);
