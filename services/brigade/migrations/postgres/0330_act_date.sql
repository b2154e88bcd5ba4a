-- The date of the act (违法行为发生之日, or the day a continuing act began), in Beijing time,
-- as the report stated it: NULL when it did not (the day found is taken instead, and the record
-- says so) and for cases reported before 0330. `act_ongoing`: the act was still going on when
-- found (行政处罚法 Art. 36 counts from its end).
ALTER TABLE cases ADD COLUMN act_date DATE;
ALTER TABLE cases ADD COLUMN act_ongoing BOOLEAN NOT NULL DEFAULT FALSE;
