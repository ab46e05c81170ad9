-- Migration 7: a ledger run may come from a file (GPX, TCX, FIT). `source` says where an entry
-- came from ('manual' for one entered by hand, and every override); an imported run keeps its
-- file's name, the SHA-256 of its bytes (so that the same file imported twice is one entry) and
-- the sport the file names. DuckDB adds no column with a constraint, so the table is rebuilt with
-- the same ids (the sequence stays) and the same rows.
CREATE TEMP TABLE ledger_6 AS SELECT * FROM ledger;
DROP TABLE ledger;
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
    source       VARCHAR   NOT NULL DEFAULT 'manual' CHECK (source IN ('manual', 'gpx', 'tcx', 'fit')),
    file_name    VARCHAR,
    file_sha256  VARCHAR   UNIQUE,
    sport        VARCHAR,
    CHECK ((kind = 'run' AND distance_km > 0 AND reason IS NULL)
        OR (kind = 'override' AND reason IS NOT NULL AND distance_km IS NULL AND duration_s IS NULL AND start_time IS NULL)),
    CHECK ((source = 'manual' AND file_name IS NULL AND file_sha256 IS NULL AND sport IS NULL)
        OR (source <> 'manual' AND kind = 'run' AND file_name IS NOT NULL AND file_sha256 IS NOT NULL))
);
INSERT INTO ledger (entry_id, kind, run_date, start_time, utc_offset_s, distance_km, duration_s, note, reason, created_utc)
    SELECT entry_id, kind, run_date, start_time, utc_offset_s, distance_km, duration_s, note, reason, created_utc
    FROM ledger_6;
DROP TABLE ledger_6;
