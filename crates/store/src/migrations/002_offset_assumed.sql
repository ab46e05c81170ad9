-- Migration 2: starts written without a UTC offset are kept, not rejected. Their wall time and
-- date are as written; the offset (and so start_utc) is an assumption, flagged here.
ALTER TABLE runs ADD COLUMN offset_assumed BOOLEAN DEFAULT false;
ALTER TABLE staging_runs ADD COLUMN offset_assumed BOOLEAN;
