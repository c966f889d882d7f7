-- An employer in arrears (单位欠费) from a month (YYYYMM): the monthly run collects nothing
-- from it until it pays back, and its employees are suspended once the policy's grace months
-- have passed unpaid.
ALTER TABLE employers ADD COLUMN arrears_from INTEGER;
