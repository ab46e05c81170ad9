-- Migration 1: the mirror of a runner's SmashRun history.
-- Columns ending in _utc are instants in UTC (TIMESTAMP holding UTC); local wall times always
-- travel with their offset (start_local_wall + utc_offset_s, and start_local as SmashRun wrote it).

CREATE TABLE runs (
    activity_id            BIGINT PRIMARY KEY,
    start_local            VARCHAR NOT NULL,
    start_utc              TIMESTAMP NOT NULL,
    start_local_wall       TIMESTAMP NOT NULL,
    utc_offset_s           INTEGER NOT NULL,
    run_date               DATE NOT NULL,
    distance_km            DECIMAL(12, 5) NOT NULL,
    duration_s             DOUBLE,
    activity_type          VARCHAR,
    calories               BIGINT,
    notes                  VARCHAR,
    external_id            VARCHAR,
    source                 VARCHAR,
    app_version            VARCHAR,
    device_type            VARCHAR,
    has_details            BOOLEAN,
    has_details_gps        BOOLEAN,
    start_latitude         DOUBLE,
    start_longitude        DOUBLE,
    heart_rate_min         DOUBLE,
    heart_rate_max         DOUBLE,
    heart_rate_average     DOUBLE,
    cadence_min            DOUBLE,
    cadence_max            DOUBLE,
    cadence_average        DOUBLE,
    weather_type           VARCHAR,
    temperature            DOUBLE,
    temperature_apparent   DOUBLE,
    temperature_wind_chill DOUBLE,
    humidity               DOUBLE,
    wind_speed             DOUBLE,
    how_felt               VARCHAR,
    terrain                VARCHAR,
    is_race                BOOLEAN,
    is_treadmill           BOOLEAN,
    is_bad_hr              BOOLEAN,
    is_bad_elevation       BOOLEAN,
    synced_utc             TIMESTAMP,
    created_utc            TIMESTAMP,
    updated_utc            TIMESTAMP,
    raw_json               VARCHAR NOT NULL,
    first_seen_utc         TIMESTAMP NOT NULL,
    last_seen_utc          TIMESTAMP NOT NULL,
    deleted_utc            TIMESTAMP
);

-- Where a batch lands before one merge into runs; emptied by every batch.
CREATE TABLE staging_runs (
    activity_id            BIGINT,
    start_local            VARCHAR,
    start_utc_us           BIGINT,
    start_local_wall_us    BIGINT,
    utc_offset_s           INTEGER,
    run_date               VARCHAR,
    distance_km            VARCHAR,
    duration_s             DOUBLE,
    activity_type          VARCHAR,
    calories               BIGINT,
    notes                  VARCHAR,
    external_id            VARCHAR,
    source                 VARCHAR,
    app_version            VARCHAR,
    device_type            VARCHAR,
    has_details            BOOLEAN,
    has_details_gps        BOOLEAN,
    start_latitude         DOUBLE,
    start_longitude        DOUBLE,
    heart_rate_min         DOUBLE,
    heart_rate_max         DOUBLE,
    heart_rate_average     DOUBLE,
    cadence_min            DOUBLE,
    cadence_max            DOUBLE,
    cadence_average        DOUBLE,
    weather_type           VARCHAR,
    temperature            DOUBLE,
    temperature_apparent   DOUBLE,
    temperature_wind_chill DOUBLE,
    humidity               DOUBLE,
    wind_speed             DOUBLE,
    how_felt               VARCHAR,
    terrain                VARCHAR,
    is_race                BOOLEAN,
    is_treadmill           BOOLEAN,
    is_bad_hr              BOOLEAN,
    is_bad_elevation       BOOLEAN,
    synced_us              BIGINT,
    created_us             BIGINT,
    updated_us             BIGINT,
    raw_json               VARCHAR
);

CREATE SEQUENCE sync_ids START 1;

CREATE TABLE sync_log (
    sync_id        BIGINT PRIMARY KEY,
    mode           VARCHAR NOT NULL,
    started_utc    TIMESTAMP NOT NULL,
    finished_utc   TIMESTAMP,
    status         VARCHAR NOT NULL,   -- running, ok, failed, interrupted
    requests       BIGINT NOT NULL DEFAULT 0,
    added          BIGINT NOT NULL DEFAULT 0,
    updated        BIGINT NOT NULL DEFAULT 0,
    deleted        BIGINT NOT NULL DEFAULT 0,
    rejected       BIGINT NOT NULL DEFAULT 0,
    unchanged      BIGINT NOT NULL DEFAULT 0,
    watermark_utc  TIMESTAMP,          -- runs updated since then were asked for
    error          VARCHAR
);

-- Activities that could not be read: kept raw with the reason, never dropped silently.
CREATE TABLE rejected_runs (
    reject_key     VARCHAR PRIMARY KEY, -- the activity id, or a hash of the raw text
    activity_id    BIGINT,
    reason         VARCHAR NOT NULL,
    raw_json       VARCHAR NOT NULL,
    first_seen_utc TIMESTAMP NOT NULL,
    last_seen_utc  TIMESTAMP NOT NULL
);

-- The full activity (recording arrays, laps) and splits, fetched by `sync --details`.
CREATE TABLE activity_details (
    activity_id    BIGINT PRIMARY KEY,
    full_json      VARCHAR NOT NULL,
    fetched_utc    TIMESTAMP NOT NULL
);

CREATE TABLE splits (
    activity_id    BIGINT NOT NULL,
    unit           VARCHAR NOT NULL,
    split_index    INTEGER NOT NULL,
    distance       DOUBLE NOT NULL,
    seconds        DOUBLE NOT NULL,
    speed          DOUBLE,
    heart_rate     DOUBLE,
    elevation_gain DOUBLE,
    elevation_loss DOUBLE,
    PRIMARY KEY (activity_id, unit, split_index)
);

CREATE TABLE meta (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);
