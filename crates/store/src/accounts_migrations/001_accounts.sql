-- The many-runner site's accounts: one row per runner, their sync health, sessions, personal API
-- tokens and logins in progress. Instants are microseconds since the epoch (UTC). Secrets are
-- never stored in the clear: tokens are sealed (AEAD) by the app, and sessions, API tokens and
-- login states are stored as SHA-256 hashes of the value the browser or script holds.
CREATE TABLE runners (
    id VARCHAR PRIMARY KEY,
    smashrun_id BIGINT NOT NULL UNIQUE,
    user_name VARCHAR,
    display_name VARCHAR,
    created_us BIGINT NOT NULL,
    time_zone VARCHAR,
    rule VARCHAR,
    handle VARCHAR UNIQUE,
    public BOOLEAN NOT NULL DEFAULT false,
    tokens_key VARCHAR,
    tokens_sealed VARCHAR
);
CREATE TABLE runner_health (
    runner_id VARCHAR PRIMARY KEY,
    last_attempt_us BIGINT,
    last_success_us BIGINT,
    last_full_us BIGINT,
    last_error VARCHAR,
    token_problem VARCHAR,
    requests BIGINT NOT NULL DEFAULT 0,
    runs BIGINT NOT NULL DEFAULT 0,
    pending_deletions BIGINT NOT NULL DEFAULT 0,
    current_streak BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE sessions (
    id_hash VARCHAR PRIMARY KEY,
    runner_id VARCHAR NOT NULL,
    created_us BIGINT NOT NULL,
    expires_us BIGINT NOT NULL
);
CREATE TABLE api_tokens (
    id_hash VARCHAR PRIMARY KEY,
    runner_id VARCHAR NOT NULL,
    label VARCHAR NOT NULL,
    created_us BIGINT NOT NULL
);
CREATE TABLE pending_logins (
    state_hash VARCHAR PRIMARY KEY,
    browser_hash VARCHAR NOT NULL,
    verifier_key VARCHAR,
    verifier_sealed VARCHAR,
    created_us BIGINT NOT NULL
);
