-- Reports made under a client's request id: repeating the same request id (by the same
-- officer of the same town) answers with the case the first report made.
CREATE TABLE report_requests (
    town TEXT NOT NULL,
    officer TEXT NOT NULL,
    request_id TEXT NOT NULL,
    case_id TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (town, officer, request_id)
);
