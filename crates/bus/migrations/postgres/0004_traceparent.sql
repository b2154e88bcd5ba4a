-- The W3C trace context of the span that emitted the event, taken at emit time; the relay
-- sends it as the message's `traceparent` header (never inside the signed envelope), so the
-- consumer's span continues the same trace. NULL when no trace was active.
ALTER TABLE outbox ADD COLUMN traceparent TEXT;
