-- Joint-case tasks assigned to departments by the joint meeting, and case files handed over.
CREATE TABLE tasks (
    task_id TEXT PRIMARY KEY,
    item_id TEXT NOT NULL,
    case_id TEXT NOT NULL,
    town TEXT NOT NULL,
    department TEXT NOT NULL,
    role TEXT NOT NULL,
    status TEXT NOT NULL,
    facts BYTEA NOT NULL,
    instructions TEXT NOT NULL,
    lead_department TEXT NOT NULL,
    decision BYTEA,
    summary TEXT,
    assigned_at TIMESTAMPTZ NOT NULL,
    done_at TIMESTAMPTZ,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX tasks_by_department ON tasks (department, status, assigned_at);

-- The record is the handed-over RecordEntry list, encoded as a CaseHandedOver that carries
-- only its `record` field; evidence_refs is a JSON list.
CREATE TABLE handovers (
    handover_id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL,
    town TEXT NOT NULL,
    department TEXT NOT NULL,
    reason TEXT NOT NULL,
    record BYTEA NOT NULL,
    evidence_refs TEXT NOT NULL,
    received_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX handovers_by_department ON handovers (department, case_id);

-- A handover notes itself on the referral of its case, found by case and department.
CREATE INDEX referrals_by_case ON referrals (case_id, department);
