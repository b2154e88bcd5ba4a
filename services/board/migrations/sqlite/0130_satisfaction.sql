-- The town's call-back tally (回访满意度) by Beijing calendar year and answer, from
-- brigade.callback_recorded: how many answers, and how many of them reopened their case.
CREATE TABLE satisfaction_tally (
    town TEXT NOT NULL,
    year BIGINT NOT NULL,
    satisfaction TEXT NOT NULL,
    callbacks BIGINT NOT NULL,
    reopened BIGINT NOT NULL,
    PRIMARY KEY (town, year, satisfaction)
);
