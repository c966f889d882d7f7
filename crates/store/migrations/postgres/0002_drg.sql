-- DRG: imported reference table sets and uploaded settlement lists (4101) with their groups.

CREATE TABLE reference_tables (
    kind            TEXT COLLATE "C" NOT NULL,
    version         TEXT COLLATE "C" NOT NULL,
    imported_at     TIMESTAMP NOT NULL,
    files_json      BYTEA   NOT NULL,
    PRIMARY KEY (kind, version)
);

CREATE TABLE settlement_lists (
    settlement_id   TEXT COLLATE "C" NOT NULL PRIMARY KEY REFERENCES settlements (settlement_id),
    visit_id        TEXT COLLATE "C" NOT NULL,
    person_no       TEXT COLLATE "C" NOT NULL,
    institution     TEXT COLLATE "C" NOT NULL,
    -- the patient's scheme (险种), which decides the payment standard in some cities
    insurance       TEXT COLLATE "C" NOT NULL,
    discharge_date  DATE    NOT NULL,
    drg_version     TEXT COLLATE "C" NOT NULL,
    drg             TEXT COLLATE "C" NOT NULL,
    total           BIGINT  NOT NULL,
    fund_total      BIGINT  NOT NULL,
    grouping_json   BYTEA   NOT NULL,
    list_json       BYTEA   NOT NULL,
    uploaded_at     TIMESTAMP NOT NULL,
    msgid           TEXT COLLATE "C" NOT NULL
);
-- The annual settlement reads a year's lists, per institution.
CREATE INDEX settlement_lists_discharge ON settlement_lists (discharge_date, institution);
