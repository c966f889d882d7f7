-- Enrolment, contributions, personal-account history and the funds' period totals.

CREATE TABLE employers (
    credit_code     TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    name            TEXT    NOT NULL,
    admdvs          TEXT COLLATE "C" NOT NULL,
    registered_on   DATE    NOT NULL
);

-- One row per person: the columns a contribution run selects on, and the person's whole
-- enrolment history (relationships, status changes, groups, transfers) as one document.
CREATE TABLE enrolments (
    certno          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    person_no       TEXT COLLATE "C" NOT NULL UNIQUE REFERENCES persons (person_no),
    insurance       TEXT COLLATE "C" NOT NULL,
    status          TEXT COLLATE "C" NOT NULL,
    -- the first day of the current status: a monthly run reads the history only of people
    -- whose status changed since the month began
    status_from     DATE    NOT NULL,
    -- the enrolment domain's person kind (in_service, retired, flexible, student, …)
    person_kind     TEXT COLLATE "C" NOT NULL,
    employer        TEXT COLLATE "C" REFERENCES employers (credit_code),
    wage_base       BIGINT,
    doc_json        BYTEA   NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);
CREATE INDEX enrolments_run ON enrolments (insurance, person_no);

-- A retry never applies twice: one contribution per person, scheme, period and kind.
CREATE TABLE contributions (
    contribution_id TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    run_id          TEXT COLLATE "C" NOT NULL,
    person_no       TEXT COLLATE "C" NOT NULL REFERENCES persons (person_no),
    employer        TEXT COLLATE "C",
    insurance       TEXT COLLATE "C" NOT NULL,
    period          BIGINT  NOT NULL,
    kind            TEXT COLLATE "C" NOT NULL,
    base            BIGINT  NOT NULL,
    employer_amount BIGINT  NOT NULL,
    individual_amount BIGINT NOT NULL,
    pooled_amount   BIGINT  NOT NULL,
    account_amount  BIGINT  NOT NULL,
    subsidy_amount  BIGINT  NOT NULL,
    -- the large-expense (330) premium charged with an employee's contribution
    large_expense_amount BIGINT NOT NULL,
    posted_at       TIMESTAMP NOT NULL,
    UNIQUE (person_no, insurance, period, kind)
);

-- One row per monthly run: the run is done once per scheme and month.
CREATE TABLE contribution_runs (
    run_id          TEXT COLLATE "C" NOT NULL,
    insurance       TEXT COLLATE "C" NOT NULL,
    period          BIGINT NOT NULL,
    persons         BIGINT NOT NULL,
    employer_amount BIGINT NOT NULL,
    individual_amount BIGINT NOT NULL,
    pooled_amount   BIGINT NOT NULL,
    account_amount  BIGINT NOT NULL,
    run_at          TIMESTAMP NOT NULL,
    PRIMARY KEY (run_id),
    UNIQUE (insurance, period)
);

CREATE TABLE account_entries (
    entry_id        TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    person_no       TEXT COLLATE "C" NOT NULL REFERENCES persons (person_no),
    posted_at       TIMESTAMP NOT NULL,
    kind            TEXT COLLATE "C" NOT NULL,
    amount          BIGINT  NOT NULL,
    balance_after   BIGINT  NOT NULL CHECK (balance_after >= 0),
    reference       TEXT COLLATE "C" NOT NULL,
    counterparty    TEXT COLLATE "C"
);
CREATE INDEX account_entries_person ON account_entries (person_no, posted_at, entry_id);

-- Debits and credits per book, account and month (YYYYMM), kept in the same transaction as the
-- entries: indicators read a few hundred rows instead of every entry of the year.
CREATE TABLE ledger_totals (
    book            TEXT COLLATE "C" NOT NULL,
    account         TEXT COLLATE "C" NOT NULL,
    period          BIGINT  NOT NULL,
    debit           BIGINT  NOT NULL,
    credit          BIGINT  NOT NULL,
    PRIMARY KEY (book, account, period)
);
INSERT INTO ledger_totals (book, account, period, debit, credit)
    SELECT book, account, CAST(EXTRACT(YEAR FROM posted_at) * 100 + EXTRACT(MONTH FROM posted_at) AS BIGINT),
           SUM(debit), SUM(credit)
      FROM ledger_entries
     GROUP BY 1, 2, 3;
