-- Each ledger row carries a unique id set when it is queued, so that a
-- batch written again after its commit's reply was lost adds nothing.
-- Rows written before this version have none.
ALTER TABLE usage_ledger ADD COLUMN row_uid TEXT;
CREATE UNIQUE INDEX usage_ledger_row_uid ON usage_ledger (row_uid);
