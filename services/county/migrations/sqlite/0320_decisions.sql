-- The departments' decisions move to the one decision model (liandong-decision, version 300):
-- each referral's and each task's legal review, with its rounds, into decision_reviews; each
-- referral's and task's decision in force (its event and the decision it carried) into
-- decisions_in_force. referral_reviews, task_reviews, referral_decisions and the tasks'
-- decision_event_id go: a decision is stored one way.
INSERT INTO decision_reviews (subject, subject_id, review_id, town, round, status, proposed,
    proposer, submitted_at, updated_at, change_reason, superseded_event_id)
SELECT 'referral', v.referral_id, v.review_id, r.town, v.round, v.status, v.proposed,
    v.proposer, v.submitted_at, v.updated_at, v.change_reason, v.superseded_event_id
FROM referral_reviews v
JOIN referrals r ON r.referral_id = v.referral_id;

INSERT INTO decision_reviews (subject, subject_id, review_id, town, round, status, proposed,
    proposer, submitted_at, updated_at, change_reason, superseded_event_id)
SELECT 'task', v.task_id, v.review_id, t.town, v.round, v.status, v.proposed, v.proposer,
    v.submitted_at, v.updated_at, v.change_reason, v.superseded_event_id
FROM task_reviews v
JOIN tasks t ON t.task_id = v.task_id;

INSERT INTO decisions_in_force (subject, subject_id, event_id, outcome, decided_at)
SELECT 'referral', d.referral_id, d.event_id, r.outcome, r.updated_at
FROM referral_decisions d
JOIN referrals r ON r.referral_id = d.referral_id
WHERE r.outcome IS NOT NULL AND r.status <> 'revoked';

INSERT INTO decisions_in_force (subject, subject_id, event_id, outcome, decided_at)
SELECT 'task', t.task_id, t.decision_event_id, t.decision, t.updated_at
FROM tasks t
WHERE t.decision_event_id IS NOT NULL AND t.decision IS NOT NULL AND t.status <> 'revoked';

DROP TABLE referral_reviews;
DROP TABLE task_reviews;
DROP TABLE referral_decisions;
ALTER TABLE tasks DROP COLUMN decision_event_id;
