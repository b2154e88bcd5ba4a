-- The head of a held record each of the department's events carried (`held_record`): once the
-- receiver's receipt for the event comes back (`outbox_receiver.receipt_at`), the receiver is
-- known to hold that head, and the record's verification compares against it.
CREATE TABLE held_heads_sent (
    event_id TEXT PRIMARY KEY,
    handover_id TEXT NOT NULL REFERENCES handovers (handover_id),
    seq BIGINT NOT NULL,
    head TEXT NOT NULL
);
CREATE INDEX held_heads_sent_handover ON held_heads_sent (handover_id);
