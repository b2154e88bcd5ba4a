-- Whether a joint clock's deadline was computed beyond the loaded calendar years: recomputed
-- at start once the year is loaded.
ALTER TABLE joint_clocks ADD COLUMN provisional BOOLEAN NOT NULL DEFAULT FALSE;
