-- The event that carries each referral's decision in force (its conclusion, or the latest
-- amendment): a change of the decision names it, so that the disclosure service withdraws
-- the right disclosure.
CREATE TABLE referral_decisions (
    referral_id TEXT PRIMARY KEY REFERENCES referrals (referral_id),
    event_id TEXT NOT NULL
);
