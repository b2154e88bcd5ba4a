-- What a decision applied and ordered: the articles of the version of the law that applied
-- to the act (行政处罚法 Art. 37), as "《law》article", and the orders that went with it
-- (责令改正 …), masked like the summary. `confiscated` items now carry their unit as a third
-- element ([kind, count, unit]); rows from before keep [kind, count].
ALTER TABLE disclosures ADD COLUMN applied_basis TEXT NOT NULL DEFAULT '[]';
ALTER TABLE disclosures ADD COLUMN orders TEXT NOT NULL DEFAULT '[]';
