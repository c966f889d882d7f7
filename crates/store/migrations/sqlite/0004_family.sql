-- Family mutual aid (家庭共济): whose account pays the part of a person's burden their own
-- account leaves, and what a settlement took from it.
ALTER TABLE persons ADD COLUMN family_payer TEXT;
ALTER TABLE settlements ADD COLUMN mutual_aid_pay INTEGER NOT NULL DEFAULT 0;
