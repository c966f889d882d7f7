-- Enrolment, contributions, personal-account history and the funds' period totals.

CREATE TABLE employers (
    credit_code     TEXT    NOT NULL PRIMARY KEY,
    name            TEXT    NOT NULL,
    admdvs          TEXT    NOT NULL,
    registered_on   TEXT    NOT NULL
);

-- One row per person: the columns a contribution run selects on, and the person's whole
-- enrolment history (relationships, status changes, groups, transfers) as one document.
CREATE TABLE enrolments (
    certno          TEXT    NOT NULL PRIMARY KEY,
    person_no       TEXT    NOT NULL UNIQUE REFERENCES persons (person_no),
    insurance       TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    -- the first day of the current status: a monthly run reads the history only of people
    -- whose status changed since the month began
    status_from     TEXT    NOT NULL,
    -- the enrolment domain's person kind (in_service, retired, flexible, student, …)
    person_kind     TEXT    NOT NULL,
    employer        TEXT    REFERENCES employers (credit_code),
    wage_base       INTEGER,
    doc_json        BLOB    NOT NULL,
    updated_at      TEXT    NOT NULL
);
CREATE INDEX enrolments_run ON enrolments (insurance, person_no);

-- A retry never applies twice: one contribution per person, scheme, period and kind.
CREATE TABLE contributions (
    contribution_id TEXT    NOT NULL PRIMARY KEY,
    run_id          TEXT    NOT NULL,
    person_no       TEXT    NOT NULL REFERENCES persons (person_no),
    employer        TEXT,
    insurance       TEXT    NOT NULL,
    period          INTEGER NOT NULL,
    kind            TEXT    NOT NULL,
    base            INTEGER NOT NULL,
    employer_amount INTEGER NOT NULL,
    individual_amount INTEGER NOT NULL,
    pooled_amount   INTEGER NOT NULL,
    account_amount  INTEGER NOT NULL,
    subsidy_amount  INTEGER NOT NULL,
    -- the large-expense (330) premium charged with an employee's contribution
    large_expense_amount INTEGER NOT NULL,
    posted_at       TEXT    NOT NULL,
    UNIQUE (person_no, insurance, period, kind)
);

-- One row per monthly run: the run is done once per scheme and month.
CREATE TABLE contribution_runs (
    run_id          TEXT    NOT NULL,
    insurance       TEXT    NOT NULL,
    period          INTEGER NOT NULL,
    persons         INTEGER NOT NULL,
    employer_amount INTEGER NOT NULL,
    individual_amount INTEGER NOT NULL,
    pooled_amount   INTEGER NOT NULL,
    account_amount  INTEGER NOT NULL,
    run_at          TEXT    NOT NULL,
    PRIMARY KEY (run_id),
    UNIQUE (insurance, period)
);

CREATE TABLE account_entries (
    entry_id        TEXT    NOT NULL PRIMARY KEY,
    person_no       TEXT    NOT NULL REFERENCES persons (person_no),
    posted_at       TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    amount          INTEGER NOT NULL,
    balance_after   INTEGER NOT NULL CHECK (balance_after >= 0),
    reference       TEXT    NOT NULL,
    counterparty    TEXT
);
CREATE INDEX account_entries_person ON account_entries (person_no, posted_at, entry_id);

-- Debits and credits per book, account and month (YYYYMM), kept in the same transaction as the
-- entries: indicators read a few hundred rows instead of every entry of the year.
CREATE TABLE ledger_totals (
    book            TEXT    NOT NULL,
    account         TEXT    NOT NULL,
    period          INTEGER NOT NULL,
    debit           INTEGER NOT NULL,
    credit          INTEGER NOT NULL,
    PRIMARY KEY (book, account, period)
);
INSERT INTO ledger_totals (book, account, period, debit, credit)
    SELECT book, account, CAST(substr(posted_at, 1, 4) || substr(posted_at, 6, 2) AS INTEGER),
           SUM(debit), SUM(credit)
      FROM ledger_entries
     GROUP BY 1, 2, 3;
