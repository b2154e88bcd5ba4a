-- The joint meeting's work on its agenda: members' opinions, the chair's decisions, the
-- progress of approved joint cases, and the meetings themselves (for their minutes).
-- New columns are nullable so that items already on the agenda need no backfill.
ALTER TABLE agenda_items ADD COLUMN decision TEXT;
ALTER TABLE agenda_items ADD COLUMN lead_department TEXT;
ALTER TABLE agenda_items ADD COLUMN cooperating_departments TEXT;
ALTER TABLE agenda_items ADD COLUMN decided_department TEXT;
ALTER TABLE agenda_items ADD COLUMN reclassified_path TEXT;
ALTER TABLE agenda_items ADD COLUMN decision_reason TEXT;
ALTER TABLE agenda_items ADD COLUMN decided_at TIMESTAMPTZ;
ALTER TABLE agenda_items ADD COLUMN decided_by TEXT;
ALTER TABLE agenda_items ADD COLUMN meeting_id TEXT;
ALTER TABLE agenda_items ADD COLUMN completed_by TEXT;
ALTER TABLE agenda_items ADD COLUMN entrusted_decision BYTEA;
ALTER TABLE agenda_items ADD COLUMN executed_at TIMESTAMPTZ;
CREATE INDEX agenda_items_case ON agenda_items (case_id);

CREATE TABLE opinions (
    opinion_id TEXT PRIMARY KEY,
    item_id TEXT NOT NULL,
    town TEXT NOT NULL,
    member TEXT NOT NULL,
    opinion TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL
);
CREATE INDEX opinions_item ON opinions (item_id, at);

CREATE TABLE meetings (
    meeting_id TEXT PRIMARY KEY,
    town TEXT NOT NULL,
    held_at TIMESTAMPTZ NOT NULL,
    attendees TEXT NOT NULL,
    item_ids TEXT NOT NULL,
    notes TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX meetings_town ON meetings (town, held_at);
