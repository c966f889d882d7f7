-- A msgid names one request: the digest of the request (its infno and input) is kept beside the
-- answer, so that a reuse of the msgid for another request is refused instead of being answered
-- with the first request's answer. Messages stored before this migration have an empty digest
-- and are told apart by their infno only.
ALTER TABLE messages ADD COLUMN request_digest BYTEA NOT NULL DEFAULT '\x';
