-- Migration 8: ledger entries pushed to SmashRun, beside the ledger (which this leaves as it is).
-- A row is written before the POST is sent (`external_id`, the stable id the activity is created
-- with) and completed once SmashRun's answer, or a search by `external_id`, gives the activity's
-- id. A sync never writes here.
CREATE TABLE ledger_pushes (
    entry_id      BIGINT    PRIMARY KEY,
    external_id   VARCHAR   NOT NULL,
    activity_id   BIGINT,
    attempted_utc TIMESTAMP NOT NULL,
    pushed_utc    TIMESTAMP,
    CHECK ((activity_id IS NULL) = (pushed_utc IS NULL))
);
-- Each push with the live mirrored run that is its activity (by the recorded id, else by the
-- external id), if the mirror has one: such an entry is confirmed, and no longer counts on its own.
CREATE VIEW ledger_push_states AS
SELECT p.entry_id, p.external_id, p.activity_id, p.pushed_utc,
       coalesce(
           (SELECT r.activity_id FROM runs r WHERE r.deleted_utc IS NULL AND r.activity_id = p.activity_id),
           (SELECT min(r.activity_id) FROM runs r WHERE r.deleted_utc IS NULL AND r.external_id = p.external_id)
       ) AS mirrored_id
FROM ledger_pushes p;
