-- Every read of a case file or of personal data: who read it, when, and what
-- (liandong_plumbing::access_log); the town's judicial office reads it.
CREATE TABLE access_log (
    id TEXT PRIMARY KEY,
    at DATETIME NOT NULL,
    officer TEXT NOT NULL,
    role TEXT NOT NULL,
    agency TEXT NOT NULL,
    service TEXT NOT NULL,
    rpc TEXT NOT NULL,
    resource_kind TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    town TEXT NOT NULL,
    department TEXT NOT NULL
);
CREATE INDEX access_log_town_at ON access_log (town, at);
CREATE INDEX access_log_resource ON access_log (resource_id, at);
