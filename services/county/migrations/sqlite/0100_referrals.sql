-- Every department's inbox of referrals, and what happened to each.
CREATE TABLE referrals (
    referral_id TEXT PRIMARY KEY,
    town TEXT NOT NULL,
    case_id TEXT NOT NULL,
    department TEXT NOT NULL,
    status TEXT NOT NULL,
    dispatch_no BIGINT NOT NULL,
    facts BLOB NOT NULL,
    dispatched_at DATETIME NOT NULL,
    received_at DATETIME NOT NULL,
    signed_for_at DATETIME,
    accepted_at DATETIME,
    concluded_at DATETIME,
    staff TEXT NOT NULL,
    return_reason TEXT,
    outcome BLOB,
    updated_at DATETIME NOT NULL
);
CREATE INDEX referrals_inbox ON referrals (department, status, dispatched_at);

CREATE TABLE referral_history (
    entry_id TEXT PRIMARY KEY,
    referral_id TEXT NOT NULL REFERENCES referrals (referral_id),
    at DATETIME NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX referral_history_referral ON referral_history (referral_id, at);
