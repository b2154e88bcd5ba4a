-- The full-process record (执法全过程记录): each case's hash-chained entries replace the plain
-- history; the heads other agencies acknowledged; the standard documents and their numbering.
DROP TABLE case_history;

CREATE TABLE case_record (
    case_id TEXT NOT NULL REFERENCES cases (case_id),
    seq BIGINT NOT NULL,
    town TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    kind TEXT NOT NULL,
    agency TEXT NOT NULL,
    officer TEXT NOT NULL,
    role TEXT NOT NULL,
    certificate_no TEXT NOT NULL,
    detail TEXT NOT NULL,
    evidence_digests TEXT NOT NULL,
    event_id TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    -- Two appends racing for the same position cannot both commit: the chain never forks.
    PRIMARY KEY (case_id, seq)
);

-- Heads of a case's record that another agency received and acknowledged.
CREATE TABLE record_heads (
    case_id TEXT NOT NULL REFERENCES cases (case_id),
    agency TEXT NOT NULL,
    seq BIGINT NOT NULL,
    head TEXT NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (case_id, agency, seq)
);

CREATE TABLE documents (
    doc_id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases (case_id),
    town TEXT NOT NULL,
    issuing_body TEXT NOT NULL,
    kind TEXT NOT NULL,
    year BIGINT NOT NULL,
    number_seq BIGINT NOT NULL,
    doc_no TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL,
    digest TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (issuing_body, year, number_seq)
);
CREATE INDEX documents_case ON documents (case_id, created_at);

-- The last number each issuing body gave out in each year.
CREATE TABLE doc_counters (
    issuing_body TEXT NOT NULL,
    year BIGINT NOT NULL,
    last BIGINT NOT NULL,
    PRIMARY KEY (issuing_body, year)
);
