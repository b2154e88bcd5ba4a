-- Receipts name their receiver: one row per receiver of each event that has receivers
-- (liandong_plumbing::bus::routes). The outbox row's receipt_at is set once every receiver
-- has answered; until then the relay re-sends the event.
CREATE TABLE outbox_receiver (
    event_id TEXT NOT NULL,
    receiver TEXT NOT NULL,
    receipt_at TIMESTAMPTZ,
    PRIMARY KEY (event_id, receiver)
);
CREATE INDEX outbox_receiver_waiting ON outbox_receiver (event_id) WHERE receipt_at IS NULL;
