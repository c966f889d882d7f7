-- PostgreSQL leaves room on person pages for in-place balance updates; SQLite has no such
-- setting. Kept so that both backends number their migrations alike.
SELECT 1;
