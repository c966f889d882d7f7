-- Supervision cases (案件): suspicions gathered into a clue, reviewed and decided. The row holds
-- the decision in force (recovery, fine, the doctor's points) for queries; record_json holds the
-- whole history of steps with their actors, which only grows. `steps` counts them, so a write
-- made from a stale read is refused.
CREATE TABLE supervision_cases (
    case_id         TEXT    NOT NULL PRIMARY KEY,
    institution     TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    opened_at       TIMESTAMP    NOT NULL,
    updated_at      TIMESTAMP    NOT NULL,
    steps           BIGINT  NOT NULL,
    amount_at_stake BIGINT  NOT NULL,
    recovery        BIGINT  NOT NULL,
    penalty         BIGINT  NOT NULL,
    doctor          TEXT,
    doctor_points   BIGINT  NOT NULL,
    credit_points   BIGINT  NOT NULL,
    decided_at      TIMESTAMP,
    record_json     TEXT    NOT NULL,
    -- 暂停医保服务: the institution serves no insured visit until then (decision in force).
    suspended_until TIMESTAMP
);
-- 医保医师记分: a doctor's points in force, by decision time.
CREATE INDEX supervision_cases_doctor ON supervision_cases (doctor, decided_at);
