-- The town's decisions move to the one decision model (liandong-decision, version 300): each
-- case's legal review, with its rounds, into decision_reviews; each case's decision in force
-- (the latest conclusion or amendment the record holds with its event, unless revoked since,
-- with the outcome kept for it) into decisions_in_force. case_reviews goes.
INSERT INTO decision_reviews (subject, subject_id, review_id, town, round, status, proposed,
    proposer, submitted_at, updated_at, change_reason, superseded_event_id)
SELECT 'case', case_id, review_id, town, round, status, proposed, proposer, submitted_at,
    updated_at, change_reason, superseded_event_id
FROM case_reviews;

INSERT INTO decisions_in_force (subject, subject_id, event_id, outcome, decided_at)
SELECT 'case', r.case_id, r.event_id, o.outcome, r.at
FROM case_record r
JOIN case_outcomes o ON o.case_id = r.case_id
WHERE r.kind IN ('concluded', 'decision_amended')
  AND r.event_id IS NOT NULL
  AND r.seq = (
      SELECT MAX(x.seq) FROM case_record x
      WHERE x.case_id = r.case_id
        AND x.kind IN ('concluded', 'decision_amended', 'decision_revoked')
  );

DROP TABLE case_reviews;
