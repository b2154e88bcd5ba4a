-- The steps of the procedure recorded on a case (行政处罚法 第四十四条 to 第六十五条): prior notice
-- with the intended penalty, statement and defence (or their waiver), the hearing asked for,
-- held or waived, the heads' collective discussion. The conclusion checks them
-- (liandong_domain::procedure); each is also in the full-process record.
CREATE TABLE procedure_steps (
    step_id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL,
    -- liandong_domain::procedure::StepKind.
    kind TEXT NOT NULL,
    at DATETIME NOT NULL,
    officer TEXT NOT NULL,
    -- For a notice: the intended penalty (an OutcomeKind, the fine in fen, whether it
    -- confiscates, and the value confiscated in fen); NULL otherwise.
    intended_kind TEXT,
    intended_fine_fen BIGINT,
    intended_confiscates BOOLEAN,
    intended_value_fen BIGINT
);
CREATE INDEX procedure_steps_case ON procedure_steps (case_id, at);
