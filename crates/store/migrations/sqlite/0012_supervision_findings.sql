-- Supervision findings (智能监控): the warnings 3101 事前 and 3102 事中 answered (their id is the
-- jr_id a HIS feeds back on with 3103) and the suspicions (疑点) after-the-fact screening
-- records. Screening keys each suspicion by rule, visit and lines (dedupe_key), so that
-- screening a period twice adds nothing.
CREATE TABLE supervision_findings (
    finding_id      TEXT    NOT NULL PRIMARY KEY,
    origin          TEXT    NOT NULL,
    dedupe_key      TEXT    NOT NULL UNIQUE,
    institution     TEXT    NOT NULL,
    person_no       TEXT    NOT NULL,
    visit_id        TEXT    NOT NULL,
    rule_id         TEXT    NOT NULL,
    severity        TEXT    NOT NULL,
    action          TEXT    NOT NULL,
    amount          BIGINT  NOT NULL,
    found_at        TEXT    NOT NULL,
    detail_json     TEXT    NOT NULL,
    feedback_way    TEXT,
    feedback_reason TEXT,
    feedback_at     TEXT
);
-- Screening and case work read a period's findings by institution.
CREATE INDEX supervision_findings_found ON supervision_findings (found_at);
