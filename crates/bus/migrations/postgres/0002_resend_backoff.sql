-- Re-sends back off per row: each unanswered publish doubles the wait before the next, so a
-- receiver that fell behind is not buried under re-sends of what it has yet to reach.
ALTER TABLE outbox ADD COLUMN next_attempt_at TIMESTAMPTZ;
CREATE INDEX outbox_resend_due ON outbox (next_attempt_at) WHERE wants_receipt AND receipt_at IS NULL;
