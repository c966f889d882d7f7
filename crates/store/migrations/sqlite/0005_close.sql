-- Period close (结账). Closing entries carry income and expense into fund balance; they are kept
-- in ledger_entries with origin 1 and, unlike business entries (origin 0), are not added to
-- ledger_totals, so indicators keep reading a period's income and expenditure.
ALTER TABLE ledger_entries ADD COLUMN origin INTEGER NOT NULL DEFAULT 0 CHECK (origin IN (0, 1));

CREATE TABLE period_closes (
    -- `2026-03` for a month, `2026` for a year.
    period          TEXT    NOT NULL PRIMARY KEY,
    -- The last month the close covers, YYYYMM.
    through_month   INTEGER NOT NULL,
    -- The first day still open: business entries dated before it are refused.
    open_from       TEXT    NOT NULL,
    closed_at       TEXT    NOT NULL,
    summary_json    TEXT    NOT NULL
);

-- The last line of defence: whatever the caller checked, a business entry is never dated in a
-- closed period (the books would no longer match the statements produced at close).
CREATE TRIGGER ledger_entries_open_period BEFORE INSERT ON ledger_entries
WHEN NEW.origin = 0 AND NEW.posted_at < (SELECT MAX(open_from) FROM period_closes)
BEGIN
    SELECT RAISE(ABORT, 'ledger entry dated in a closed period');
END;
