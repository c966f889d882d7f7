-- The attending doctor (医保医师代码, `atddr_no` of 2201/2401) of each visit: supervision compares
-- doctors with their peers and finds groups of persons seeing one doctor on the same days.
ALTER TABLE visits ADD COLUMN doctor TEXT;
