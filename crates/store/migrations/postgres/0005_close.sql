-- Period close (结账). Closing entries carry income and expense into fund balance; they are kept
-- in ledger_entries with origin 1 and, unlike business entries (origin 0), are not added to
-- ledger_totals, so indicators keep reading a period's income and expenditure.
ALTER TABLE ledger_entries ADD COLUMN origin SMALLINT NOT NULL DEFAULT 0 CHECK (origin IN (0, 1));

CREATE TABLE period_closes (
    -- `2026-03` for a month, `2026` for a year.
    period          TEXT      NOT NULL PRIMARY KEY,
    -- The last month the close covers, YYYYMM.
    through_month   BIGINT    NOT NULL,
    -- The first day still open: business entries dated before it are refused.
    open_from       DATE      NOT NULL,
    closed_at       TIMESTAMP NOT NULL,
    summary_json    TEXT      NOT NULL
);

-- The last line of defence: whatever the caller checked, a business entry is never dated in a
-- closed period. One check per statement (a transition table), not per row: settlement batches
-- insert many entries at once.
CREATE FUNCTION ledger_entries_open_period() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM inserted
                WHERE origin = 0 AND posted_at < (SELECT MAX(open_from) FROM period_closes)) THEN
        RAISE EXCEPTION 'ledger entry dated in a closed period' USING ERRCODE = '23514';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER ledger_entries_open_period AFTER INSERT ON ledger_entries
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_open_period();
