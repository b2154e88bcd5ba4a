-- The bus's own tables, in every service's database: outbox, inbox, sequences, receipts.
CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    event_type TEXT NOT NULL,
    town TEXT NOT NULL,
    payload BYTEA NOT NULL,
    wants_receipt BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    published_at TIMESTAMPTZ,
    publish_count BIGINT NOT NULL,
    receipt_at TIMESTAMPTZ,
    last_error TEXT
);
CREATE INDEX outbox_unpublished ON outbox (created_at, id) WHERE published_at IS NULL;
CREATE INDEX outbox_unreceipted ON outbox (published_at) WHERE wants_receipt AND receipt_at IS NULL;

CREATE TABLE inbox (
    event_id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    event_type TEXT NOT NULL,
    town TEXT NOT NULL,
    aggregate_id TEXT NOT NULL,
    aggregate_seq BIGINT NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    duplicates BIGINT NOT NULL
);
CREATE INDEX inbox_received ON inbox (received_at);

CREATE TABLE inbox_cursor (
    source TEXT NOT NULL,
    aggregate_id TEXT NOT NULL,
    last_seq BIGINT NOT NULL,
    PRIMARY KEY (source, aggregate_id)
);

CREATE TABLE outbox_seq (
    aggregate_id TEXT PRIMARY KEY,
    seq BIGINT NOT NULL
);
