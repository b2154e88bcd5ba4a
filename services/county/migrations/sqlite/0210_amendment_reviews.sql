-- A review may be of an amendment (变更) into a major decision of a referral already
-- concluded: why the decision is changed, and the event of the decision in force it would
-- replace. Both NULL for the review of a first decision.
ALTER TABLE referral_reviews ADD COLUMN change_reason TEXT;
ALTER TABLE referral_reviews ADD COLUMN superseded_event_id TEXT;
