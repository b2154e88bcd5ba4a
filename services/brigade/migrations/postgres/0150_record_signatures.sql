-- Signed events: an entry that another agency's event brought keeps that event's signature
-- (by the sending service's key, with the key's id and the digest of the bytes signed, all in
-- the entry's hash) and the event itself with its signature fields empty, so that the
-- signature can be verified again later against the key registry. NULL on the brigade's own
-- steps and on entries written before events were signed.
ALTER TABLE case_record ADD COLUMN signed_by TEXT;
ALTER TABLE case_record ADD COLUMN signature_key_id TEXT;
ALTER TABLE case_record ADD COLUMN signature TEXT;
ALTER TABLE case_record ADD COLUMN event_digest TEXT;
ALTER TABLE case_record ADD COLUMN signed_event BYTEA;
