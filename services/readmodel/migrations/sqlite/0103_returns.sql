-- How the joint meeting's chair ruled on a returned referral (board.dispute_settled): upheld
-- (another department named) or sent back to the same department. A return is never an
-- answer on time; only an upheld one is excused.
ALTER TABLE rm_items ADD COLUMN return_upheld_at DATETIME;
ALTER TABLE rm_items ADD COLUMN sent_back_at DATETIME;
