-- The chair's supervision list (督办): one entry per obligation that ran out (its highest level)
-- and per case whose returns reached the cap.
CREATE TABLE supervision (
    entry_id TEXT PRIMARY KEY,
    town TEXT NOT NULL,
    case_id TEXT NOT NULL,
    department TEXT NOT NULL,
    referral_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    obligation_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    level BIGINT NOT NULL,
    deadline TIMESTAMPTZ,
    raised_at TIMESTAMPTZ NOT NULL,
    resolved_at TIMESTAMPTZ,
    returns BIGINT NOT NULL
);
CREATE INDEX supervision_town ON supervision (town, resolved_at, raised_at);

-- Departments' extension requests (延期) and the chair's answers.
CREATE TABLE extension_requests (
    request_id TEXT PRIMARY KEY,
    town TEXT NOT NULL,
    obligation_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    case_id TEXT NOT NULL,
    referral_id TEXT NOT NULL,
    department TEXT NOT NULL,
    working_days BIGINT NOT NULL,
    reason TEXT NOT NULL,
    current_deadline TIMESTAMPTZ NOT NULL,
    status TEXT NOT NULL,
    new_deadline TIMESTAMPTZ,
    note TEXT,
    requested_at TIMESTAMPTZ NOT NULL,
    decided_at TIMESTAMPTZ
);
CREATE INDEX extension_requests_town ON extension_requests (town, status);

-- Patrols and persuasion turnouts per town and Beijing year, from the brigade's events.
CREATE TABLE activity_figures (
    town TEXT NOT NULL,
    year BIGINT NOT NULL,
    patrols BIGINT NOT NULL,
    persuasions BIGINT NOT NULL,
    persons_persuaded BIGINT NOT NULL,
    PRIMARY KEY (town, year)
);
