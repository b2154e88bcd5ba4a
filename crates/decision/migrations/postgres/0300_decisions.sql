-- One model of decisions (liandong-decision), whoever decides: the town on a case, a department
-- on a referral, a joint case's lead on its task (subject: case | referral | task).
--
-- The legal review of a proposed major decision (重大执法决定法制审核): the proposal and its
-- proposer (encoded liandong.events.v1.Outcome and .Actor), kept while the legal office reviews
-- it, one row per subject with its rounds counted; an amendment of the decision in force into
-- a major one says why and which decision it would replace.
CREATE TABLE decision_reviews (
    subject TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    review_id TEXT NOT NULL UNIQUE,
    town TEXT NOT NULL,
    round BIGINT NOT NULL,
    status TEXT NOT NULL,
    proposed BYTEA NOT NULL,
    proposer BYTEA NOT NULL,
    submitted_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    change_reason TEXT,
    superseded_event_id TEXT,
    PRIMARY KEY (subject, subject_id)
);

-- The decision in force of each subject: the event that carried it (a change names it, so the
-- disclosure service withdraws the right disclosure) and the decision itself. No row: none in
-- force (not yet decided, or revoked).
CREATE TABLE decisions_in_force (
    subject TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    outcome BYTEA NOT NULL,
    decided_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (subject, subject_id)
);
