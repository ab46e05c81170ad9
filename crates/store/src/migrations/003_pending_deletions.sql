-- Migration 3: deletions that need more evidence. A run missing from a complete, verified
-- listing is first held as pending (missing_since_utc); it still counts until a later complete
-- listing, at least a day after the first, still lacks it (or the runner confirms).
ALTER TABLE runs ADD COLUMN missing_since_utc TIMESTAMP;
-- What each sync observed of SmashRun's listing behaviour, and what it held back.
ALTER TABLE sync_log ADD COLUMN pending_deletions BIGINT DEFAULT 0;
ALTER TABLE sync_log ADD COLUMN listing_note VARCHAR;
