-- Migration 5: the reminders `remind` has sent, so that one (run day, reminder time) pair is
-- never sent twice, whichever process or timer asks. `slot` is the local reminder time (HH:MM),
-- or `any` for a reminder asked for outside the configured times.
CREATE TABLE reminders_sent (
    day      DATE      NOT NULL,
    slot     VARCHAR   NOT NULL,
    sent_utc TIMESTAMP NOT NULL,
    channels INTEGER   NOT NULL,
    message  VARCHAR   NOT NULL,
    PRIMARY KEY (day, slot)
);
