-- Files exchanged through 9101 文件上传 and 9102 文件下载: what an institution uploaded (a
-- 表200 for 3202 对明细账) and what the platform produced for it (the 表201 answer, catalog
-- downloads). Each belongs to one institution and can be downloaded until it expires.
CREATE TABLE exchange_files (
    file_no         TEXT    NOT NULL PRIMARY KEY,
    institution     TEXT    NOT NULL REFERENCES institutions (code),
    filename        TEXT    NOT NULL,
    origin          TEXT    NOT NULL,
    bytes           BYTEA   NOT NULL,
    created_at      TIMESTAMP     NOT NULL,
    expires_at      TIMESTAMP     NOT NULL
);
-- Expired files are removed when new ones are kept.
CREATE INDEX exchange_files_expiry ON exchange_files (expires_at);
