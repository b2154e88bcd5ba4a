-- The relay claims rows before it publishes them, in a short statement of its own, and
-- publishes outside any transaction: no lock other writers need is held across the broker's
-- round trip (on SQLite the one write lock; on PostgreSQL the rows a receipt marks).
-- claimed_by is the claiming batch's token, claimed_until when the claim lapses: a relay that
-- died between claiming and marking leaves a claim that another relay takes over once it has
-- lapsed, and the re-publish is deduplicated by Nats-Msg-Id and the receivers' inboxes.
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN claimed_until DATETIME;
