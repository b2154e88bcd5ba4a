-- Patrols (巡查) and traffic-persuasion turnouts (交通劝导): the brigade's work that is not a case.
CREATE TABLE patrols (
    patrol_id TEXT PRIMARY KEY,
    town TEXT NOT NULL,
    officers TEXT NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    ended_at TIMESTAMPTZ NOT NULL,
    area TEXT NOT NULL,
    findings TEXT NOT NULL,
    case_ids TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX patrols_town ON patrols (town, started_at);

CREATE TABLE persuasions (
    persuasion_id TEXT PRIMARY KEY,
    town TEXT NOT NULL,
    officers TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    location TEXT NOT NULL,
    kind TEXT NOT NULL,
    persons BIGINT NOT NULL,
    note TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX persuasions_town ON persuasions (town, at);
