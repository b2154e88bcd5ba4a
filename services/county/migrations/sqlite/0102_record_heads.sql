-- The head of the case's hash-chained record each handover came with, kept so that the
-- brigade's record can later be checked against it.
ALTER TABLE handovers ADD COLUMN record_head TEXT NOT NULL DEFAULT '';
ALTER TABLE handovers ADD COLUMN record_length BIGINT NOT NULL DEFAULT 0;
