-- yibao schema, version 1 (PostgreSQL). Keep in step with ../sqlite/0001_init.sql: the same tables,
-- columns, keys and indexes. Conventions:
--   money          BIGINT fen (yibao_money::Money)
--   price          BIGINT millionths of a yuan (Price), quantity BIGINT ten-thousandths (Quantity)
--   dates          DATE; times TIMESTAMP (local wall-clock time of the pooling region, to the µs)
--   coded values   TEXT national code (InsuranceType::code() …), parsed back by yibao-codes
-- Identifiers and codes use COLLATE "C" so that ordering (and the indexes serving it) is byte
-- order, as on SQLite, whatever the database's default collation.

CREATE TABLE institutions (
    code        TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    name        TEXT    NOT NULL,
    hosp_lv     TEXT COLLATE "C" NOT NULL,
    admdvs      TEXT COLLATE "C" NOT NULL,
    paas_id     TEXT    NOT NULL,
    secret      TEXT    NOT NULL,
    active      BOOLEAN NOT NULL
);

CREATE TABLE persons (
    person_no       TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    certno          TEXT COLLATE "C" NOT NULL,
    name            TEXT    NOT NULL,
    sex             TEXT COLLATE "C" NOT NULL,
    birth_date      DATE    NOT NULL,
    ethnicity       TEXT COLLATE "C" NOT NULL,
    insurance       TEXT COLLATE "C" NOT NULL,
    person_type     TEXT COLLATE "C" NOT NULL,
    tier            BIGINT,
    -- special groups: their codes joined by ',' in the record's order; '' for none
    special_groups  TEXT    NOT NULL,
    civil_servant   BOOLEAN NOT NULL,
    insured_admdvs  TEXT COLLATE "C" NOT NULL,
    employer_name   TEXT    NOT NULL,
    status          TEXT COLLATE "C" NOT NULL,
    enrolled_on     DATE    NOT NULL,
    benefits_from   DATE,
    account_balance BIGINT  NOT NULL
);
CREATE UNIQUE INDEX persons_certno ON persons (certno);

CREATE TABLE accumulators (
    person_no   TEXT COLLATE "C" NOT NULL REFERENCES persons (person_no),
    year        BIGINT  NOT NULL,
    acc_key     TEXT COLLATE "C" NOT NULL,
    deductible  BIGINT  NOT NULL,
    fund        BIGINT  NOT NULL,
    base        BIGINT  NOT NULL,
    visits      BIGINT  NOT NULL CHECK (visits BETWEEN 0 AND 4294967295),
    admissions  BIGINT  NOT NULL CHECK (admissions BETWEEN 0 AND 4294967295),
    PRIMARY KEY (person_no, year, acc_key)
);

CREATE TABLE visits (
    visit_id        TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    person_no       TEXT COLLATE "C" NOT NULL REFERENCES persons (person_no),
    institution     TEXT COLLATE "C" NOT NULL REFERENCES institutions (code),
    insurance       TEXT COLLATE "C" NOT NULL,
    medical_type    TEXT COLLATE "C" NOT NULL,
    begin_time      TIMESTAMP NOT NULL,
    end_time        TIMESTAMP,
    his_visit_no    TEXT COLLATE "C" NOT NULL,
    disease_code    TEXT COLLATE "C",
    diagnosis_code  TEXT COLLATE "C",
    status          TEXT COLLATE "C" NOT NULL,
    in_county       BOOLEAN NOT NULL
);
CREATE INDEX visits_person_begin ON visits (person_no, begin_time);
CREATE INDEX visits_institution_begin ON visits (institution, begin_time);

CREATE TABLE settlements (
    settlement_id   TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    visit_id        TEXT COLLATE "C" NOT NULL REFERENCES visits (visit_id),
    person_no       TEXT COLLATE "C" NOT NULL REFERENCES persons (person_no),
    institution     TEXT COLLATE "C" NOT NULL REFERENCES institutions (code),
    insurance       TEXT COLLATE "C" NOT NULL,
    medical_type    TEXT COLLATE "C" NOT NULL,
    clearing_type   TEXT COLLATE "C" NOT NULL,
    settled_at      TIMESTAMP NOT NULL,
    msgid           TEXT COLLATE "C" NOT NULL UNIQUE,
    policy_id       TEXT COLLATE "C" NOT NULL,
    year            BIGINT  NOT NULL,
    total           BIGINT  NOT NULL,
    fund_total      BIGINT  NOT NULL,
    account_pay     BIGINT  NOT NULL,
    cash_pay        BIGINT  NOT NULL,
    status          TEXT COLLATE "C" NOT NULL,
    cancelled_at    TIMESTAMP,
    cancel_msgid    TEXT COLLATE "C",
    -- JSON kept as the exact text answered (jsonb would reorder keys and normalise numbers)
    output_json     BYTEA    NOT NULL,
    inputs_json     BYTEA    NOT NULL,
    deltas_json     BYTEA    NOT NULL
);
-- Reconciliation (3201/3202): one institution's settlements over a date range.
CREATE INDEX settlements_institution_settled ON settlements (institution, settled_at);
CREATE INDEX settlements_person_settled ON settlements (person_no, settled_at);
CREATE INDEX settlements_visit ON settlements (visit_id);

-- seq: insertion order, so a visit's lines come back in the order they were uploaded.
CREATE TABLE fee_lines (
    visit_id        TEXT COLLATE "C" NOT NULL REFERENCES visits (visit_id),
    sn              TEXT COLLATE "C" NOT NULL,
    seq             BIGINT  NOT NULL GENERATED ALWAYS AS IDENTITY,
    batch_no        TEXT COLLATE "C" NOT NULL,
    code            TEXT COLLATE "C" NOT NULL,
    local_code      TEXT COLLATE "C" NOT NULL,
    quantity        BIGINT  NOT NULL,
    price           BIGINT  NOT NULL,
    amount          BIGINT  NOT NULL,
    occurred_at     TIMESTAMP NOT NULL,
    disease_code    TEXT COLLATE "C",
    refund_of       TEXT COLLATE "C",
    settlement_id   TEXT COLLATE "C" REFERENCES settlements (settlement_id),
    PRIMARY KEY (visit_id, sn)
);
CREATE UNIQUE INDEX fee_lines_seq ON fee_lines (seq);
CREATE INDEX fee_lines_settlement ON fee_lines (settlement_id);

CREATE TABLE ledger_entries (
    entry_id        BIGINT  NOT NULL GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    posting_id      TEXT COLLATE "C" NOT NULL,
    book            TEXT COLLATE "C" NOT NULL,
    account         TEXT COLLATE "C" NOT NULL,
    debit           BIGINT  NOT NULL,
    credit          BIGINT  NOT NULL,
    settlement_id   TEXT COLLATE "C" NOT NULL,
    posted_at       TIMESTAMP NOT NULL
);
CREATE INDEX ledger_entries_book_posted ON ledger_entries (book, posted_at);
CREATE INDEX ledger_entries_settlement ON ledger_entries (settlement_id);

CREATE TABLE messages (
    msgid           TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    infno           TEXT COLLATE "C" NOT NULL,
    institution     TEXT COLLATE "C" NOT NULL,
    received_at     TIMESTAMP NOT NULL,
    response_json   BYTEA    NOT NULL
);

CREATE TABLE audit_log (
    entry_id        BIGINT  NOT NULL GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    msgid           TEXT COLLATE "C" NOT NULL,
    infno           TEXT COLLATE "C" NOT NULL,
    institution     TEXT COLLATE "C" NOT NULL,
    infcode         BIGINT  NOT NULL,
    duration_us     BIGINT  NOT NULL,
    logged_at       TIMESTAMP NOT NULL,
    message         TEXT    NOT NULL
);
CREATE INDEX audit_log_institution_logged ON audit_log (institution, logged_at);

CREATE TABLE chronic_filings (
    filing_id       TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    person_no       TEXT COLLATE "C" NOT NULL REFERENCES persons (person_no),
    disease_code    TEXT COLLATE "C" NOT NULL,
    disease_name    TEXT    NOT NULL,
    institution     TEXT COLLATE "C" NOT NULL,
    begin_date      DATE    NOT NULL,
    end_date        DATE,
    active          BOOLEAN NOT NULL
);
CREATE INDEX chronic_filings_person ON chronic_filings (person_no, begin_date);

-- Used by batched commits: raises (SQLSTATE YB001, the whole batch rolls back) when an update
-- that must hit rows did not hit them all. `what` says which write; the missing keys follow.
CREATE FUNCTION yibao_expect_keys(p_what TEXT, p_expected TEXT[], p_found TEXT[]) RETURNS VOID
LANGUAGE plpgsql AS $fn$
DECLARE
    missing TEXT;
BEGIN
    SELECT string_agg(e, ', ' ORDER BY n) INTO missing
      FROM unnest(p_expected) WITH ORDINALITY AS x (e, n)
     WHERE NOT (e = ANY (p_found));
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'YB001', MESSAGE = p_what || ': ' || missing;
    END IF;
END
$fn$;

-- Used by batched commits for MarkFeeLinesSettled: given the lines that were not marked (op
-- number, visit, sn, in order), raises with the first such op's visit and lines.
CREATE FUNCTION yibao_expect_fee_lines(p_before TEXT, p_after TEXT, p_op INT[], p_visit TEXT[],
                                       p_sn TEXT[]) RETURNS VOID
LANGUAGE plpgsql AS $fn$
DECLARE
    missing TEXT;
BEGIN
    IF cardinality(p_op) = 0 THEN
        RETURN;
    END IF;
    SELECT string_agg(x.sn, ', ' ORDER BY x.i) INTO missing
      FROM unnest(p_op, p_sn) WITH ORDINALITY AS x (op, sn, i)
     WHERE x.op = p_op[1];
    RAISE EXCEPTION USING ERRCODE = 'YB001',
        MESSAGE = p_before || p_visit[1] || p_after || ': ' || missing;
END
$fn$;
