-- Reminders per runner: their local reminder times, their channels (sealed by the app, like their
-- tokens: an ntfy topic or a webhook URL is a secret), and in their health the last reminder time
-- handled (`YYYY-MM-DD HH:MM`, local) with what became of it.
ALTER TABLE runners ADD COLUMN remind_at VARCHAR;
ALTER TABLE runners ADD COLUMN reminder_key VARCHAR;
ALTER TABLE runners ADD COLUMN reminder_sealed VARCHAR;
ALTER TABLE runner_health ADD COLUMN reminded VARCHAR;
ALTER TABLE runner_health ADD COLUMN reminder_note VARCHAR;
