-- The legal review of the lead department's major decision under entrustment on a joint-case
-- task (重大执法决定法制审核): the proposed decision and its proposer, kept while the
-- department's legal office reviews it. One review per task, its rounds counted here; the
-- review service's answers name the review, hence the index.
CREATE TABLE task_reviews (
    task_id TEXT PRIMARY KEY REFERENCES tasks (task_id),
    review_id TEXT NOT NULL,
    round BIGINT NOT NULL,
    status TEXT NOT NULL,
    proposed BYTEA NOT NULL,
    proposer BYTEA NOT NULL,
    submitted_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX task_reviews_review_id ON task_reviews (review_id);
