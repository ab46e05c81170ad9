-- Migration 4: a batch is now staged in a temporary table that each write builds from the one
-- declaration of the run columns (src/columns.rs, the domain's RunAttributes), so that a column
-- is named once; the persistent staging table of migrations 1 and 2 is no longer used.
DROP TABLE staging_runs;
