-- DRG: imported reference table sets and uploaded settlement lists (4101) with their groups.

CREATE TABLE reference_tables (
    kind            TEXT    NOT NULL,
    version         TEXT    NOT NULL,
    imported_at     TEXT    NOT NULL,
    files_json      BLOB    NOT NULL,
    PRIMARY KEY (kind, version)
);

CREATE TABLE settlement_lists (
    settlement_id   TEXT    NOT NULL PRIMARY KEY REFERENCES settlements (settlement_id),
    visit_id        TEXT    NOT NULL,
    person_no       TEXT    NOT NULL,
    institution     TEXT    NOT NULL,
    -- the patient's scheme (险种), which decides the payment standard in some cities
    insurance       TEXT    NOT NULL,
    discharge_date  TEXT    NOT NULL,
    drg_version     TEXT    NOT NULL,
    drg             TEXT    NOT NULL,
    total           INTEGER NOT NULL,
    fund_total      INTEGER NOT NULL,
    grouping_json   BLOB    NOT NULL,
    list_json       BLOB    NOT NULL,
    uploaded_at     TEXT    NOT NULL,
    msgid           TEXT    NOT NULL
);
-- The annual settlement reads a year's lists, per institution.
CREATE INDEX settlement_lists_discharge ON settlement_lists (discharge_date, institution);
