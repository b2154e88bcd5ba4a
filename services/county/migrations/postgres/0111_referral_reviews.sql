-- The legal review of a department's major decision on a referral (重大执法决定法制审核):
-- the proposed outcome and its proposer, kept while the department's legal office reviews it.
CREATE TABLE referral_reviews (
    referral_id TEXT PRIMARY KEY REFERENCES referrals (referral_id),
    review_id TEXT NOT NULL,
    round BIGINT NOT NULL,
    status TEXT NOT NULL,
    proposed BYTEA NOT NULL,
    proposer BYTEA NOT NULL,
    submitted_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
