-- Whether a handover was received or refused because evidence it cites failed its check, and
-- the reasons (a JSON list of strings) when refused.
ALTER TABLE handovers ADD COLUMN status TEXT NOT NULL DEFAULT 'received';
ALTER TABLE handovers ADD COLUMN refusal_reasons TEXT NOT NULL DEFAULT '[]';
