-- The record (执法全过程记录) of each case file a department holds, kept by the department: the
-- chain a handover carried, copied after it verified against the head the handover named, and
-- continued with the department's own steps on the case (sign-for, acceptance, decision,
-- legal review, changes), hash-chained the same way (liandong_domain::record). One chain per
-- handover: a case handed over again starts from the brigade's newer chain.
CREATE TABLE held_record (
    handover_id TEXT NOT NULL REFERENCES handovers (handover_id),
    case_id TEXT NOT NULL,
    department TEXT NOT NULL,
    town TEXT NOT NULL,
    seq BIGINT NOT NULL,
    at DATETIME NOT NULL,
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
    signed_by TEXT,
    signature_key_id TEXT,
    signature TEXT,
    event_digest TEXT,
    signed_event BLOB,
    -- Two appends racing for the same position cannot both commit: the chain never forks.
    PRIMARY KEY (handover_id, seq)
);
CREATE INDEX held_record_case ON held_record (case_id, department);
