-- Handling beyond triage: assignments and outcomes of in-scope cases, joint cases as the
-- brigade follows them, and the case files it handed over.
CREATE TABLE case_assignments (
    case_id TEXT PRIMARY KEY REFERENCES cases (case_id),
    town TEXT NOT NULL,
    officers TEXT NOT NULL,
    assigned_by TEXT NOT NULL,
    assigned_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE case_outcomes (
    case_id TEXT PRIMARY KEY REFERENCES cases (case_id),
    town TEXT NOT NULL,
    outcome BYTEA NOT NULL,
    outcome_kind TEXT NOT NULL,
    fine_fen BIGINT NOT NULL,
    concluded_by TEXT NOT NULL,
    concluded_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE joint_cases (
    case_id TEXT PRIMARY KEY REFERENCES cases (case_id),
    town TEXT NOT NULL,
    item_id TEXT NOT NULL,
    lead_department TEXT NOT NULL,
    cooperating TEXT NOT NULL,
    decision BYTEA,
    decided_in_name_of TEXT,
    completed_by TEXT NOT NULL,
    executed_at TIMESTAMPTZ,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE handovers_sent (
    handover_id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases (case_id),
    town TEXT NOT NULL,
    department TEXT NOT NULL,
    reason TEXT NOT NULL,
    entries BIGINT NOT NULL,
    sent_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX handovers_sent_case ON handovers_sent (case_id);
