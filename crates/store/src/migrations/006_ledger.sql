-- Migration 6: the runner's ledger, kept beside the mirror. A sync writes `runs` and never this
-- table: manual runs (kind 'run') and overrides (kind 'override', a day counted without a run
-- record, with the runner's reason). Ids come from a sequence and are never reused.
-- `utc_offset_s` is the offset of the runner's zone at `start_time`, or at noon when there is none.
CREATE SEQUENCE ledger_entry_ids START 1;
CREATE TABLE ledger (
    entry_id     BIGINT    PRIMARY KEY DEFAULT nextval('ledger_entry_ids'),
    kind         VARCHAR   NOT NULL CHECK (kind IN ('run', 'override')),
    run_date     DATE      NOT NULL,
    start_time   TIME,
    utc_offset_s INTEGER   NOT NULL,
    distance_km  DOUBLE,
    duration_s   DOUBLE,
    note         VARCHAR,
    reason       VARCHAR,
    created_utc  TIMESTAMP NOT NULL,
    CHECK ((kind = 'run' AND distance_km > 0 AND reason IS NULL)
        OR (kind = 'override' AND reason IS NOT NULL AND distance_km IS NULL AND duration_s IS NULL AND start_time IS NULL))
);
