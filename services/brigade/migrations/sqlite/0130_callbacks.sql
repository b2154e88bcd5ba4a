-- Call-backs (回访) of cases the public reported: the reporter's satisfaction after each
-- conclusion, who called, and whether the answer reopened the case.
CREATE TABLE case_callbacks (
    callback_id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL,
    town TEXT NOT NULL,
    source TEXT NOT NULL,
    path TEXT NOT NULL,
    satisfaction TEXT NOT NULL,
    note TEXT NOT NULL,
    called_back_by TEXT NOT NULL,
    called_at DATETIME NOT NULL,
    reopened BOOLEAN NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at DATETIME NOT NULL
);
CREATE INDEX case_callbacks_case ON case_callbacks (case_id, recorded_at);
CREATE INDEX case_callbacks_town ON case_callbacks (town, called_at);
