-- A lead's entrusted decision can be changed (变更 / 撤销): the event that carries the task's
-- decision in force, which a change names as the one it replaces; and a task's review may be
-- of an amendment into a major decision (why, and the event of the decision it would replace;
-- both NULL for the review of a first decision).
ALTER TABLE tasks ADD COLUMN decision_event_id TEXT;
ALTER TABLE task_reviews ADD COLUMN change_reason TEXT;
ALTER TABLE task_reviews ADD COLUMN superseded_event_id TEXT;
