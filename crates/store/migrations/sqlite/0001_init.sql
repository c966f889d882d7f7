-- yibao schema, version 1 (SQLite). Keep in step with ../postgres/0001_init.sql: the same tables,
-- columns, keys and indexes. Conventions:
--   money          INTEGER fen (yibao_money::Money)
--   price          INTEGER millionths of a yuan (Price), quantity INTEGER ten-thousandths (Quantity)
--   dates          TEXT 'YYYY-MM-DD'
--   times          TEXT 'YYYY-MM-DD HH:MM:SS.ffffff' (fixed width, so text order is time order)
--   booleans       INTEGER 0/1
--   coded values   TEXT national code (InsuranceType::code() …), parsed back by yibao-codes

CREATE TABLE institutions (
    code        TEXT    NOT NULL PRIMARY KEY,
    name        TEXT    NOT NULL,
    hosp_lv     TEXT    NOT NULL,
    admdvs      TEXT    NOT NULL,
    paas_id     TEXT    NOT NULL,
    secret      TEXT    NOT NULL,
    active      INTEGER NOT NULL CHECK (active IN (0, 1))
);

CREATE TABLE persons (
    person_no       TEXT    NOT NULL PRIMARY KEY,
    certno          TEXT    NOT NULL,
    name            TEXT    NOT NULL,
    sex             TEXT    NOT NULL,
    birth_date      TEXT    NOT NULL,
    ethnicity       TEXT    NOT NULL,
    insurance       TEXT    NOT NULL,
    person_type     TEXT    NOT NULL,
    tier            INTEGER,
    -- special groups: their codes joined by ',' in the record's order; '' for none
    special_groups  TEXT    NOT NULL,
    civil_servant   INTEGER NOT NULL CHECK (civil_servant IN (0, 1)),
    insured_admdvs  TEXT    NOT NULL,
    employer_name   TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    enrolled_on     TEXT    NOT NULL,
    benefits_from   TEXT,
    account_balance INTEGER NOT NULL
);
CREATE UNIQUE INDEX persons_certno ON persons (certno);

CREATE TABLE accumulators (
    person_no   TEXT    NOT NULL REFERENCES persons (person_no),
    year        INTEGER NOT NULL,
    acc_key     TEXT    NOT NULL,
    deductible  INTEGER NOT NULL,
    fund        INTEGER NOT NULL,
    base        INTEGER NOT NULL,
    visits      INTEGER NOT NULL CHECK (visits BETWEEN 0 AND 4294967295),
    admissions  INTEGER NOT NULL CHECK (admissions BETWEEN 0 AND 4294967295),
    PRIMARY KEY (person_no, year, acc_key)
);

CREATE TABLE visits (
    visit_id        TEXT    NOT NULL PRIMARY KEY,
    person_no       TEXT    NOT NULL REFERENCES persons (person_no),
    institution     TEXT    NOT NULL REFERENCES institutions (code),
    insurance       TEXT    NOT NULL,
    medical_type    TEXT    NOT NULL,
    begin_time      TEXT    NOT NULL,
    end_time        TEXT,
    his_visit_no    TEXT    NOT NULL,
    disease_code    TEXT,
    diagnosis_code  TEXT,
    status          TEXT    NOT NULL,
    in_county       INTEGER NOT NULL CHECK (in_county IN (0, 1))
);
CREATE INDEX visits_person_begin ON visits (person_no, begin_time);
CREATE INDEX visits_institution_begin ON visits (institution, begin_time);

CREATE TABLE settlements (
    settlement_id   TEXT    NOT NULL PRIMARY KEY,
    visit_id        TEXT    NOT NULL REFERENCES visits (visit_id),
    person_no       TEXT    NOT NULL REFERENCES persons (person_no),
    institution     TEXT    NOT NULL REFERENCES institutions (code),
    insurance       TEXT    NOT NULL,
    medical_type    TEXT    NOT NULL,
    clearing_type   TEXT    NOT NULL,
    settled_at      TEXT    NOT NULL,
    msgid           TEXT    NOT NULL UNIQUE,
    policy_id       TEXT    NOT NULL,
    year            INTEGER NOT NULL,
    total           INTEGER NOT NULL,
    fund_total      INTEGER NOT NULL,
    account_pay     INTEGER NOT NULL,
    cash_pay        INTEGER NOT NULL,
    status          TEXT    NOT NULL,
    cancelled_at    TEXT,
    cancel_msgid    TEXT,
    output_json     BLOB    NOT NULL,
    inputs_json     BLOB    NOT NULL,
    deltas_json     BLOB    NOT NULL
);
-- Reconciliation (3201/3202): one institution's settlements over a date range.
CREATE INDEX settlements_institution_settled ON settlements (institution, settled_at);
CREATE INDEX settlements_person_settled ON settlements (person_no, settled_at);
CREATE INDEX settlements_visit ON settlements (visit_id);

-- seq: insertion order, so a visit's lines come back in the order they were uploaded.
CREATE TABLE fee_lines (
    visit_id        TEXT    NOT NULL REFERENCES visits (visit_id),
    sn              TEXT    NOT NULL,
    seq             INTEGER NOT NULL,
    batch_no        TEXT    NOT NULL,
    code            TEXT    NOT NULL,
    local_code      TEXT    NOT NULL,
    quantity        INTEGER NOT NULL,
    price           INTEGER NOT NULL,
    amount          INTEGER NOT NULL,
    occurred_at     TEXT    NOT NULL,
    disease_code    TEXT,
    refund_of       TEXT,
    settlement_id   TEXT    REFERENCES settlements (settlement_id),
    PRIMARY KEY (visit_id, sn)
);
CREATE UNIQUE INDEX fee_lines_seq ON fee_lines (seq);
CREATE INDEX fee_lines_settlement ON fee_lines (settlement_id);

CREATE TABLE ledger_entries (
    entry_id        INTEGER NOT NULL PRIMARY KEY,
    posting_id      TEXT    NOT NULL,
    book            TEXT    NOT NULL,
    account         TEXT    NOT NULL,
    debit           INTEGER NOT NULL,
    credit          INTEGER NOT NULL,
    settlement_id   TEXT    NOT NULL,
    posted_at       TEXT    NOT NULL
);
CREATE INDEX ledger_entries_book_posted ON ledger_entries (book, posted_at);
CREATE INDEX ledger_entries_settlement ON ledger_entries (settlement_id);

CREATE TABLE messages (
    msgid           TEXT    NOT NULL PRIMARY KEY,
    infno           TEXT    NOT NULL,
    institution     TEXT    NOT NULL,
    received_at     TEXT    NOT NULL,
    response_json   BLOB    NOT NULL
);

CREATE TABLE audit_log (
    entry_id        INTEGER NOT NULL PRIMARY KEY,
    msgid           TEXT    NOT NULL,
    infno           TEXT    NOT NULL,
    institution     TEXT    NOT NULL,
    infcode         INTEGER NOT NULL,
    duration_us     INTEGER NOT NULL,
    logged_at       TEXT    NOT NULL,
    message         TEXT    NOT NULL
);
CREATE INDEX audit_log_institution_logged ON audit_log (institution, logged_at);

CREATE TABLE chronic_filings (
    filing_id       TEXT    NOT NULL PRIMARY KEY,
    person_no       TEXT    NOT NULL REFERENCES persons (person_no),
    disease_code    TEXT    NOT NULL,
    disease_name    TEXT    NOT NULL,
    institution     TEXT    NOT NULL,
    begin_date      TEXT    NOT NULL,
    end_date        TEXT,
    active          INTEGER NOT NULL CHECK (active IN (0, 1))
);
CREATE INDEX chronic_filings_person ON chronic_filings (person_no, begin_date);
