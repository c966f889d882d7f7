-- Person rows are rewritten by every balance change (a monthly run changes a million at once).
-- With room left on each page, PostgreSQL updates them in place (HOT: the balance is in no
-- index), without new index entries for the row.
ALTER TABLE persons SET (fillfactor = 70);
