-- Indexes no query reads. Each cost a B-tree insertion on every visit (and on PostgreSQL every
-- settlement), at a place chosen by institution or person, so a page of its own in nearly every
-- committed batch: about a sixth of the bytes a settled visit wrote to the log. Visits are read
-- by id and by person, settlements by id, msgid, visit and institution and date, and the audit
-- log is appended to and counted; a reader that needs one of these back adds it with its query.
DROP INDEX IF EXISTS visits_institution_begin;
DROP INDEX IF EXISTS settlements_person_settled;
DROP INDEX IF EXISTS audit_log_institution_logged;
