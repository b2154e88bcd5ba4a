-- The office that reviews a decision when it is not the deciding body's own (行政处罚法 第二十条):
-- a town's decision on a matter a county department entrusted to it is made in that
-- department's name, and the department's legal office reviews it; the answer still goes to
-- the town's brigade (`department` stays ''). '' for every other review.
ALTER TABLE reviews ADD COLUMN reviewing_department TEXT NOT NULL DEFAULT '';
