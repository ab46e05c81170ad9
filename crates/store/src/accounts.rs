//! The many-runner site's accounts, in a DuckDB file of their own (default
//! `./data/site.duckdb`), apart from every runner's mirror: one row per runner (who they are on
//! SmashRun, their settings, their sealed tokens), their sync health, sessions, personal API
//! tokens and logins in progress.
//!
//! This module stores what it is given: sealing tokens and hashing session ids is the app's
//! work, and nothing here can tell a sealed value from any other text.

use std::path::{Path, PathBuf};

use duckdb::{Connection, OptionalExt, params};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::StoreError;
use crate::time::{from_micros, micros};

const MIGRATIONS: [(i64, &str); 2] = [
    (1, include_str!("accounts_migrations/001_accounts.sql")),
    (2, include_str!("accounts_migrations/002_reminders.sql")),
];

/// A value sealed by the app (an AEAD ciphertext as text) with the id of the key that sealed it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sealed {
    /// Which key sealed it (rotation keeps old keys readable).
    pub key: String,
    /// The ciphertext, as the app encoded it.
    pub data: String,
}

/// A runner of the site.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunnerAccount {
    /// The site's own opaque id (never SmashRun's).
    pub id: String,
    /// SmashRun's user id: one account per SmashRun runner.
    pub smashrun_id: i64,
    /// SmashRun's `userName`.
    pub user_name: Option<String>,
    /// First and last name, for the page's greeting.
    pub display_name: Option<String>,
    /// When the account was made.
    pub created: Timestamp,
    /// The runner's IANA zone, when they set one.
    pub time_zone: Option<String>,
    /// Their streak rule (`MYRUNSTREAK_RULE`'s words), when they chose one.
    pub rule: Option<String>,
    /// The public page's handle (`/r/{handle}`), when they chose one.
    pub handle: Option<String>,
    /// Whether the public page and the leaderboard may show them.
    pub public: bool,
    /// Their SmashRun tokens, sealed; `None` after a revocation or a sign-out everywhere.
    pub tokens: Option<Sealed>,
    /// Their reminder times, local (`MYRUNSTREAK_REMIND_AT`'s form: `18:00,21:00`).
    #[serde(default)]
    pub remind_at: Option<String>,
    /// Where their reminders go (`MYRUNSTREAK_NOTIFY_URL`'s form), sealed like their tokens.
    #[serde(default)]
    pub reminder_channels: Option<Sealed>,
}

/// How a runner's syncs are going.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncHealth {
    /// The last sync started.
    pub last_attempt: Option<Timestamp>,
    /// The last sync that finished well.
    pub last_success: Option<Timestamp>,
    /// The last full sync that finished well (the weekly reconcile's clock).
    pub last_full: Option<Timestamp>,
    /// What the last sync failed with, when it failed.
    pub last_error: Option<String>,
    /// Why the runner must sign in again (tokens revoked, a refresh refused), if they must.
    pub token_problem: Option<String>,
    /// Requests sent to SmashRun for this runner, in all.
    pub requests: i64,
    /// Runs in the mirror after the last sync.
    pub runs: i64,
    /// Deletions waiting for the runner's confirmation.
    pub pending_deletions: i64,
    /// The current streak after the last sync (for the leaderboard).
    pub current_streak: i64,
    /// The last reminder time handled (`YYYY-MM-DD HH:MM`, the runner's local day and time):
    /// sent, or found unneeded. A time that failed is not handled, and is tried again.
    #[serde(default)]
    pub reminded: Option<String>,
    /// What became of the last reminder time tried, for the runner to read.
    #[serde(default)]
    pub reminder_note: Option<String>,
}

/// A signed-in browser, by the hash of its cookie.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionRecord {
    /// SHA-256 of the session id, hex.
    pub id_hash: String,
    /// Whose session.
    pub runner_id: String,
    /// When it began.
    pub created: Timestamp,
    /// When it ends.
    pub expires: Timestamp,
}

/// A personal API token, by its hash.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiTokenRecord {
    /// SHA-256 of the token, hex.
    pub id_hash: String,
    /// Whose token.
    pub runner_id: String,
    /// The runner's name for it.
    pub label: String,
    /// When it was made.
    pub created: Timestamp,
}

/// A sign-in between `/auth/login` and SmashRun's redirect back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PendingLogin {
    /// SHA-256 of the `state` sent to SmashRun, hex.
    pub state_hash: String,
    /// SHA-256 of the nonce in the browser's login cookie, hex: the state is bound to it.
    pub browser_hash: String,
    /// The PKCE verifier, sealed, when the login sent a challenge.
    pub verifier: Option<Sealed>,
    /// When it began (old ones are refused and purged).
    pub created: Timestamp,
}

/// The accounts file, open for reading and writing.
pub struct Accounts {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for Accounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accounts")
            .field("path", &self.path)
            .finish()
    }
}

const RUNNER_COLUMNS: &str = "id, smashrun_id, user_name, display_name, created_us, time_zone, rule, handle, public, tokens_key, tokens_sealed, remind_at, reminder_key, reminder_sealed";

const HEALTH_COLUMNS: &str = "last_attempt_us, last_success_us, last_full_us, last_error, token_problem, requests, runs, pending_deletions, current_streak, reminded, reminder_note";

fn runner_row(r: &duckdb::Row<'_>) -> duckdb::Result<RunnerAccount> {
    let key: Option<String> = r.get(9)?;
    let data: Option<String> = r.get(10)?;
    let reminder_key: Option<String> = r.get(12)?;
    let reminder_data: Option<String> = r.get(13)?;
    Ok(RunnerAccount {
        id: r.get(0)?,
        smashrun_id: r.get(1)?,
        user_name: r.get(2)?,
        display_name: r.get(3)?,
        created: from_micros(r.get(4)?),
        time_zone: r.get(5)?,
        rule: r.get(6)?,
        handle: r.get(7)?,
        public: r.get(8)?,
        tokens: key.zip(data).map(|(key, data)| Sealed { key, data }),
        remind_at: r.get(11)?,
        reminder_channels: reminder_key
            .zip(reminder_data)
            .map(|(key, data)| Sealed { key, data }),
    })
}

fn health_row(r: &duckdb::Row<'_>) -> duckdb::Result<SyncHealth> {
    let at = |i| -> duckdb::Result<Option<Timestamp>> {
        Ok(r.get::<_, Option<i64>>(i)?.map(from_micros))
    };
    Ok(SyncHealth {
        last_attempt: at(0)?,
        last_success: at(1)?,
        last_full: at(2)?,
        last_error: r.get(3)?,
        token_problem: r.get(4)?,
        requests: r.get(5)?,
        runs: r.get(6)?,
        pending_deletions: r.get(7)?,
        current_streak: r.get(8)?,
        reminded: r.get(9)?,
        reminder_note: r.get(10)?,
    })
}

impl Accounts {
    /// Opens (creating it and its folder if needed) the accounts file and brings its schema up
    /// to date.
    pub fn open(path: impl AsRef<Path>, now: Timestamp) -> Result<Accounts, StoreError> {
        let path = path.as_ref().to_owned();
        crate::open::create_folder_of(&path)?;
        let conn = Connection::open(&path).map_err(|e| crate::open::classify(e, &path))?;
        conn.execute_batch("SET threads = 1; SET memory_limit = '64MB'")?;
        let mut accounts = Accounts { conn, path };
        accounts.migrate(now)?;
        Ok(accounts)
    }

    fn migrate(&mut self, now: Timestamp) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute_batch("CREATE TABLE IF NOT EXISTS accounts_schema (version BIGINT NOT NULL, applied_us BIGINT NOT NULL)")?;
        let applied: Vec<i64> = {
            let mut stmt = tx.prepare("SELECT version FROM accounts_schema")?;
            stmt.query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?
        };
        if let Some(&newest) = applied.iter().max()
            && newest > MIGRATIONS.len() as i64
        {
            return Err(StoreError::NewerSchema {
                path: self.path.clone(),
                found: newest,
                supported: MIGRATIONS.len() as i64,
            });
        }
        for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| !applied.contains(v)) {
            tx.execute_batch(sql)?;
            tx.execute(
                "INSERT INTO accounts_schema VALUES (?, ?)",
                params![version, micros(now)],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Adds a runner (with their tokens), or updates the identity and settings of the runner
    /// with the same id. An existing runner's tokens change only through
    /// [`Accounts::set_tokens`], so that saving settings never writes back tokens a refresh has
    /// replaced meanwhile.
    pub fn put_runner(&self, r: &RunnerAccount) -> Result<(), StoreError> {
        let updated = self.conn.execute(
            "UPDATE runners SET smashrun_id = ?, user_name = ?, display_name = ?, time_zone = ?, rule = ?, handle = ?, public = ?, remind_at = ?, reminder_key = ?, reminder_sealed = ? WHERE id = ?",
            params![
                r.smashrun_id,
                r.user_name,
                r.display_name,
                r.time_zone,
                r.rule,
                r.handle,
                r.public,
                r.remind_at,
                r.reminder_channels.as_ref().map(|t| t.key.as_str()),
                r.reminder_channels.as_ref().map(|t| t.data.as_str()),
                r.id
            ],
        )?;
        if updated > 0 {
            return Ok(());
        }
        self.conn.execute(
            &format!(
                "INSERT INTO runners ({RUNNER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            ),
            params![
                r.id,
                r.smashrun_id,
                r.user_name,
                r.display_name,
                micros(r.created),
                r.time_zone,
                r.rule,
                r.handle,
                r.public,
                r.tokens.as_ref().map(|t| t.key.as_str()),
                r.tokens.as_ref().map(|t| t.data.as_str()),
                r.remind_at,
                r.reminder_channels.as_ref().map(|t| t.key.as_str()),
                r.reminder_channels.as_ref().map(|t| t.data.as_str()),
            ],
        )?;
        Ok(())
    }

    fn runner_where(
        &self,
        clause: &str,
        value: &dyn duckdb::ToSql,
    ) -> Result<Option<RunnerAccount>, StoreError> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {RUNNER_COLUMNS} FROM runners WHERE {clause} = ?"),
                [value],
                runner_row,
            )
            .optional()?)
    }

    /// The runner with this id.
    pub fn runner(&self, id: &str) -> Result<Option<RunnerAccount>, StoreError> {
        self.runner_where("id", &id)
    }

    /// The runner who is this SmashRun user.
    pub fn runner_by_smashrun_id(
        &self,
        smashrun_id: i64,
    ) -> Result<Option<RunnerAccount>, StoreError> {
        self.runner_where("smashrun_id", &smashrun_id)
    }

    /// The runner with this public handle.
    pub fn runner_by_handle(&self, handle: &str) -> Result<Option<RunnerAccount>, StoreError> {
        self.runner_where("handle", &handle)
    }

    /// Every runner, oldest account first.
    pub fn runners(&self) -> Result<Vec<RunnerAccount>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {RUNNER_COLUMNS} FROM runners ORDER BY created_us, id"
        ))?;
        Ok(stmt.query_map([], runner_row)?.collect::<Result<_, _>>()?)
    }

    /// How many runners there are.
    pub fn count_runners(&self) -> Result<usize, StoreError> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM runners", [], |r| r.get(0))?;
        Ok(n as usize)
    }

    /// Replaces a runner's sealed tokens (`None` forgets them).
    pub fn set_tokens(&self, id: &str, tokens: Option<&Sealed>) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE runners SET tokens_key = ?, tokens_sealed = ? WHERE id = ?",
            params![
                tokens.map(|t| t.key.as_str()),
                tokens.map(|t| t.data.as_str()),
                id
            ],
        )?;
        Ok(())
    }

    /// A runner's sync health (the default when they never synced).
    pub fn health(&self, id: &str) -> Result<SyncHealth, StoreError> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {HEALTH_COLUMNS} FROM runner_health WHERE runner_id = ?"),
                [id],
                health_row,
            )
            .optional()?
            .unwrap_or_default())
    }

    /// Replaces a runner's sync health.
    pub fn put_health(&self, id: &str, h: &SyncHealth) -> Result<(), StoreError> {
        let us = |t: Option<Timestamp>| t.map(micros);
        self.conn.execute(
            &format!("INSERT OR REPLACE INTO runner_health (runner_id, {HEALTH_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
            params![
                id,
                us(h.last_attempt),
                us(h.last_success),
                us(h.last_full),
                h.last_error,
                h.token_problem,
                h.requests,
                h.runs,
                h.pending_deletions,
                h.current_streak,
                h.reminded,
                h.reminder_note,
            ],
        )?;
        Ok(())
    }

    /// Removes a runner and everything of theirs in this file (sessions, API tokens, health).
    pub fn delete_runner(&mut self, id: &str) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        for table in ["sessions", "api_tokens", "runner_health"] {
            tx.execute(&format!("DELETE FROM {table} WHERE runner_id = ?"), [id])?;
        }
        tx.execute("DELETE FROM runners WHERE id = ?", [id])?;
        tx.commit()?;
        Ok(())
    }

    /// Records a session.
    pub fn put_session(&self, s: &SessionRecord) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT OR REPLACE INTO sessions VALUES (?, ?, ?, ?)",
            params![s.id_hash, s.runner_id, micros(s.created), micros(s.expires)],
        )?;
        Ok(())
    }

    /// The session with this hash, if it has not ended by `now`.
    pub fn session(
        &self,
        id_hash: &str,
        now: Timestamp,
    ) -> Result<Option<SessionRecord>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT id_hash, runner_id, created_us, expires_us FROM sessions WHERE id_hash = ? AND expires_us > ?",
                params![id_hash, micros(now)],
                |r| {
                    Ok(SessionRecord {
                        id_hash: r.get(0)?,
                        runner_id: r.get(1)?,
                        created: from_micros(r.get(2)?),
                        expires: from_micros(r.get(3)?),
                    })
                },
            )
            .optional()?)
    }

    /// Ends a session.
    pub fn delete_session(&self, id_hash: &str) -> Result<(), StoreError> {
        self.conn
            .execute("DELETE FROM sessions WHERE id_hash = ?", [id_hash])?;
        Ok(())
    }

    /// Ends every session of a runner.
    pub fn delete_sessions_of(&self, runner_id: &str) -> Result<(), StoreError> {
        self.conn
            .execute("DELETE FROM sessions WHERE runner_id = ?", [runner_id])?;
        Ok(())
    }

    /// Forgets sessions and logins that ended before `now` (and logins begun before
    /// `logins_since`).
    pub fn purge(&self, now: Timestamp, logins_since: Timestamp) -> Result<(), StoreError> {
        self.conn
            .execute("DELETE FROM sessions WHERE expires_us <= ?", [micros(now)])?;
        self.conn.execute(
            "DELETE FROM pending_logins WHERE created_us < ?",
            [micros(logins_since)],
        )?;
        Ok(())
    }

    /// Records a personal API token.
    pub fn put_api_token(&self, t: &ApiTokenRecord) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO api_tokens VALUES (?, ?, ?, ?)",
            params![t.id_hash, t.runner_id, t.label, micros(t.created)],
        )?;
        Ok(())
    }

    /// The personal API token with this hash.
    pub fn api_token(&self, id_hash: &str) -> Result<Option<ApiTokenRecord>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT id_hash, runner_id, label, created_us FROM api_tokens WHERE id_hash = ?",
                [id_hash],
                |r| {
                    Ok(ApiTokenRecord {
                        id_hash: r.get(0)?,
                        runner_id: r.get(1)?,
                        label: r.get(2)?,
                        created: from_micros(r.get(3)?),
                    })
                },
            )
            .optional()?)
    }

    /// A runner's personal API tokens, oldest first.
    pub fn api_tokens_of(&self, runner_id: &str) -> Result<Vec<ApiTokenRecord>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT id_hash, runner_id, label, created_us FROM api_tokens WHERE runner_id = ? ORDER BY created_us, id_hash",
        )?;
        let rows = stmt.query_map([runner_id], |r| {
            Ok(ApiTokenRecord {
                id_hash: r.get(0)?,
                runner_id: r.get(1)?,
                label: r.get(2)?,
                created: from_micros(r.get(3)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Revokes a runner's personal API token; whether it was theirs (another's is left alone).
    pub fn delete_api_token(&self, runner_id: &str, id_hash: &str) -> Result<bool, StoreError> {
        let deleted = self.conn.execute(
            "DELETE FROM api_tokens WHERE id_hash = ? AND runner_id = ?",
            [id_hash, runner_id],
        )?;
        Ok(deleted > 0)
    }

    /// Records a login in progress.
    pub fn put_login(&self, l: &PendingLogin) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO pending_logins VALUES (?, ?, ?, ?, ?)",
            params![
                l.state_hash,
                l.browser_hash,
                l.verifier.as_ref().map(|v| v.key.as_str()),
                l.verifier.as_ref().map(|v| v.data.as_str()),
                micros(l.created)
            ],
        )?;
        Ok(())
    }

    /// Takes (reads and removes, so that a state is good once) the login with this state hash.
    pub fn take_login(&self, state_hash: &str) -> Result<Option<PendingLogin>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "DELETE FROM pending_logins WHERE state_hash = ? RETURNING state_hash, browser_hash, verifier_key, verifier_sealed, created_us",
                [state_hash],
                |r| {
                    let key: Option<String> = r.get(2)?;
                    let data: Option<String> = r.get(3)?;
                    Ok(PendingLogin {
                        state_hash: r.get(0)?,
                        browser_hash: r.get(1)?,
                        verifier: key.zip(data).map(|(key, data)| Sealed { key, data }),
                        created: from_micros(r.get(4)?),
                    })
                },
            )
            .optional()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-11-29T12:00:00Z".parse().unwrap()
    }

    fn runner(id: &str, smashrun_id: i64) -> RunnerAccount {
        RunnerAccount {
            id: id.into(),
            smashrun_id,
            user_name: Some(format!("user{smashrun_id}")),
            display_name: None,
            created: now(),
            time_zone: Some("Europe/Berlin".into()),
            rule: None,
            handle: None,
            public: false,
            tokens: Some(Sealed {
                key: "k1".into(),
                data: "c2VhbGVk".into(),
            }),
            remind_at: None,
            reminder_channels: None,
        }
    }

    #[test]
    fn runners_sessions_and_logins_round_trip_and_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("site.duckdb");
        {
            let accounts = Accounts::open(&path, now()).unwrap();
            accounts.put_runner(&runner("r-a", 1)).unwrap();
            accounts.put_runner(&runner("r-b", 2)).unwrap();
            accounts
                .put_session(&SessionRecord {
                    id_hash: "s1".into(),
                    runner_id: "r-a".into(),
                    created: now(),
                    expires: now() + jiff::SignedDuration::from_hours(1),
                })
                .unwrap();
            accounts
                .put_login(&PendingLogin {
                    state_hash: "st".into(),
                    browser_hash: "br".into(),
                    verifier: None,
                    created: now(),
                })
                .unwrap();
        }
        let mut accounts = Accounts::open(&path, now()).unwrap();
        assert_eq!(accounts.count_runners().unwrap(), 2);
        assert_eq!(
            accounts.runner_by_smashrun_id(2).unwrap().unwrap().id,
            "r-b"
        );
        assert_eq!(accounts.runner("r-a").unwrap(), Some(runner("r-a", 1)));
        // a session is good until it expires
        assert!(accounts.session("s1", now()).unwrap().is_some());
        let later = now() + jiff::SignedDuration::from_hours(2);
        assert!(accounts.session("s1", later).unwrap().is_none());
        // a login's state is good once
        assert!(accounts.take_login("st").unwrap().is_some());
        assert!(accounts.take_login("st").unwrap().is_none());
        // an update keeps the tokens stored (they change only through set_tokens)
        let mut renamed = runner("r-a", 1);
        renamed.handle = Some("sam".into());
        renamed.tokens = None;
        accounts.put_runner(&renamed).unwrap();
        let stored = accounts.runner("r-a").unwrap().unwrap();
        assert_eq!(stored.handle.as_deref(), Some("sam"));
        assert_eq!(stored.tokens, runner("r-a", 1).tokens);
        assert_eq!(accounts.runner_by_handle("sam").unwrap().unwrap().id, "r-a");
        // a handle is one runner's
        let mut taken = runner("r-b", 2);
        taken.handle = Some("sam".into());
        assert!(accounts.put_runner(&taken).is_err());
        // the same SmashRun runner cannot have two accounts
        assert!(accounts.put_runner(&runner("r-c", 1)).is_err());
        accounts.delete_runner("r-a").unwrap();
        assert!(accounts.runner("r-a").unwrap().is_none());
        assert!(accounts.session("s1", now()).unwrap().is_none());
        assert_eq!(accounts.count_runners().unwrap(), 1);
    }

    #[test]
    fn api_tokens_are_listed_and_revoked_by_their_runner_only() {
        let dir = tempfile::tempdir().unwrap();
        let accounts = Accounts::open(dir.path().join("site.duckdb"), now()).unwrap();
        let token = |id: &str, runner: &str, second: i64| ApiTokenRecord {
            id_hash: id.into(),
            runner_id: runner.into(),
            label: format!("{id} of {runner}"),
            created: now() + jiff::SignedDuration::from_secs(second),
        };
        for t in [
            token("t2", "r-a", 2),
            token("t1", "r-a", 1),
            token("t3", "r-b", 0),
        ] {
            accounts.put_api_token(&t).unwrap();
        }
        assert_eq!(
            accounts.api_tokens_of("r-a").unwrap(),
            vec![token("t1", "r-a", 1), token("t2", "r-a", 2)],
            "theirs, oldest first"
        );
        assert!(
            !accounts.delete_api_token("r-a", "t3").unwrap(),
            "not theirs"
        );
        assert!(accounts.api_token("t3").unwrap().is_some());
        assert!(accounts.delete_api_token("r-a", "t1").unwrap());
        assert!(accounts.api_token("t1").unwrap().is_none());
        assert!(!accounts.delete_api_token("r-a", "t1").unwrap(), "once");
        assert_eq!(
            accounts.api_tokens_of("r-a").unwrap(),
            vec![token("t2", "r-a", 2)]
        );
    }

    #[test]
    fn health_defaults_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let accounts = Accounts::open(dir.path().join("site.duckdb"), now()).unwrap();
        assert_eq!(accounts.health("r-a").unwrap(), SyncHealth::default());
        let h = SyncHealth {
            last_attempt: Some(now()),
            last_error: Some("refused".into()),
            requests: 3,
            reminded: Some("2026-11-29 18:00".into()),
            reminder_note: Some("sent".into()),
            ..SyncHealth::default()
        };
        accounts.put_health("r-a", &h).unwrap();
        assert_eq!(accounts.health("r-a").unwrap(), h);
    }

    /// Reminder settings are the runner's settings: saved with them, kept by a reopen, and
    /// changed (or cleared) by the next save; the sealed channels are stored as given.
    #[test]
    fn reminder_settings_round_trip_and_clear() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("site.duckdb");
        let mut r = runner("r-a", 1);
        r.remind_at = Some("18:00,21:00".into());
        r.reminder_channels = Some(Sealed {
            key: "k1".into(),
            data: "Y2hhbm5lbHM=".into(),
        });
        Accounts::open(&path, now())
            .unwrap()
            .put_runner(&r)
            .unwrap();
        let accounts = Accounts::open(&path, now()).unwrap();
        assert_eq!(accounts.runner("r-a").unwrap(), Some(r.clone()));
        r.remind_at = None;
        r.reminder_channels = None;
        accounts.put_runner(&r).unwrap();
        assert_eq!(accounts.runner("r-a").unwrap(), Some(r));
    }
}
