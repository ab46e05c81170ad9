//! Settings, read once per binary from a map of names to values (the binary merges `.env`, the
//! environment and its flags into that map), with the original `.env` names.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::str::FromStr;

use myrunstreak_domain::{PeriodRule, PeriodTarget, Rule, Units};
use smashrun_client::Secret;
use thiserror::Error;

/// A setting that cannot be used, with what is accepted.
#[derive(Debug, Error)]
#[error("setting {name}={value:?} is not valid: {expected}")]
pub struct SettingsError {
    /// The setting's name.
    pub name: &'static str,
    /// What it was set to.
    pub value: String,
    /// What is accepted.
    pub expected: String,
}

/// Where tokens are kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenStoreKind {
    /// A JSON file, mode 0600.
    File,
    /// `SMASHRUN_ACCESS_TOKEN` / `SMASHRUN_REFRESH_TOKEN` (cannot save refreshed tokens).
    Env,
    /// AWS Secrets Manager.
    Aws,
}

impl FromStr for TokenStoreKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "file" => Ok(TokenStoreKind::File),
            "env" | "environment" => Ok(TokenStoreKind::Env),
            "aws" | "secretsmanager" => Ok(TokenStoreKind::Aws),
            _ => Err("file, env or aws".into()),
        }
    }
}

impl TokenStoreKind {
    /// The name `MYRUNSTREAK_TOKEN_STORE` takes.
    pub fn name(self) -> &'static str {
        match self {
            TokenStoreKind::File => "file",
            TokenStoreKind::Env => "env",
            TokenStoreKind::Aws => "aws",
        }
    }

    /// The store used when `MYRUNSTREAK_TOKEN_STORE` is unset (or empty): the environment when
    /// it holds an access token, which a runner who set only that expects to just work; else
    /// the file.
    pub fn default_for(access_token: Option<&Secret>) -> TokenStoreKind {
        match access_token {
            Some(t) if !t.is_empty() => TokenStoreKind::Env,
            _ => TokenStoreKind::File,
        }
    }
}

/// Every setting of `.env.example`.
#[derive(Clone, Debug)]
pub struct Settings {
    /// `SMASHRUN_CLIENT_ID`.
    pub client_id: String,
    /// `SMASHRUN_CLIENT_SECRET`.
    pub client_secret: Secret,
    /// `SMASHRUN_REDIRECT_URI`.
    pub redirect_uri: String,
    /// `SMASHRUN_OAUTH_URL`.
    pub oauth_url: String,
    /// `SMASHRUN_API_URL`.
    pub api_url: String,
    /// `SMASHRUN_PKCE`: send a PKCE (S256) challenge with the login (off unless set).
    pub pkce: bool,
    /// `DUCKDB_PATH`.
    pub duckdb_path: PathBuf,
    /// `MYRUNSTREAK_TOKEN_STORE`; unset, [`TokenStoreKind::default_for`] the access token.
    pub token_store: TokenStoreKind,
    /// `MYRUNSTREAK_TOKEN_FILE`.
    pub token_file: PathBuf,
    /// `MYRUNSTREAK_ALLOW_INSECURE_TOKEN_FILE`: load a token file others can read.
    pub allow_insecure_token_file: bool,
    /// `SMASHRUN_ACCESS_TOKEN`.
    pub access_token: Option<Secret>,
    /// `SMASHRUN_REFRESH_TOKEN`.
    pub refresh_token: Option<Secret>,
    /// `MYRUNSTREAK_RULE`.
    pub rule: Rule,
    /// `MYRUNSTREAK_TIMEZONE`: a home zone, or the local clock of each run.
    pub timezone: Option<String>,
    /// `MYRUNSTREAK_EXCLUDE_TREADMILL`.
    pub exclude_treadmill: bool,
    /// `MYRUNSTREAK_UNITS`.
    pub units: Units,
    /// `MYRUNSTREAK_PERIOD_STREAK`: a weekly or monthly streak to follow beside the daily one,
    /// such as `20mi/week`, `12runs/month` or `3runs/week:sunday`.
    pub period_streak: Option<PeriodRule>,
    /// `MYRUNSTREAK_YEAR_GOAL`: a distance or a number of runs for the calendar year, such as
    /// `1000km` or `300runs`.
    pub year_goal: Option<PeriodTarget>,
    /// `MYRUNSTREAK_API_TOKEN`.
    pub api_token: Option<Secret>,
    /// `MYRUNSTREAK_CORS_ORIGINS`: comma-separated origins allowed by CORS (empty: CORS off).
    pub cors_origins: Vec<String>,
    /// `AWS_REGION`.
    pub aws_region: String,
    /// `AWS_ENDPOINT_URL`.
    pub aws_endpoint_url: Option<String>,
    /// `MYRUNSTREAK_TOKENS_SECRET_ID`.
    pub tokens_secret_id: String,
    /// `MYRUNSTREAK_CLIENT_SECRET_ID`.
    pub client_secret_id: String,
    /// `MYRUNSTREAK_S3_BUCKET`.
    pub s3_bucket: Option<String>,
    /// `MYRUNSTREAK_S3_KEY`.
    pub s3_key: String,
    /// `MYRUNSTREAK_STATUS_BUCKET`: in AWS, where each sync publishes `status.json`,
    /// `badge.svg` and `streak.ics` (unset: not published).
    pub status_bucket: Option<String>,
    /// `MYRUNSTREAK_STATUS_PREFIX`: the folder of those files in that bucket (`status`).
    pub status_prefix: String,
    /// `ENVIRONMENT`.
    pub environment: String,
    /// `LOG_LEVEL`.
    pub log_level: String,
    /// `MYRUNSTREAK_DELETE_GUARD_RUNS` and `MYRUNSTREAK_DELETE_GUARD_PERCENT`: how many runs one
    /// sync may mark deleted on its own (the larger of the two).
    pub deletion_guard: crate::sync::DeletionGuard,
    /// `MYRUNSTREAK_STALE_AFTER`: data whose last successful sync is older cannot be trusted to
    /// say "at risk" or "no streak" (the one limit of the API, the dashboard and `remind`).
    pub stale_after: jiff::SignedDuration,
    /// `MYRUNSTREAK_NOTIFY_URL`: where reminders go, comma-separated (it may hold a token, so it
    /// is a secret; [`crate::remind::Channel`] parses it).
    pub notify_url: Option<Secret>,
    /// `MYRUNSTREAK_NOTIFY_SECRET_ID`: in AWS, the Secrets Manager secret whose `notify_url`
    /// holds the channels (the URL can carry a secret, so it stays out of the environment).
    pub notify_secret_id: Option<String>,
    /// `MYRUNSTREAK_REMIND_AT`: local times of the day to remind at, earliest first.
    pub remind_at: Vec<jiff::civil::Time>,
    /// `MYRUNSTREAK_API_TOKEN_SECRET_ID`: in AWS, the Secrets Manager secret whose `api_token`
    /// is the API's bearer token (so that the token stays out of the environment).
    pub api_token_secret_id: Option<String>,
    /// `MYRUNSTREAK_MAIL_FROM`: the sender, verified in Amazon SES, of reminders to `mailto:`
    /// channels; without it `mailto:` channels cannot be used.
    pub mail_from: Option<String>,
}

impl Settings {
    /// Settings from `vars`; missing names take their defaults, empty values count as missing.
    pub fn from_vars(vars: &BTreeMap<String, String>) -> Result<Settings, SettingsError> {
        let get = |name: &str| {
            vars.get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let or = |name: &str, default: &str| get(name).unwrap_or_else(|| default.to_owned());
        fn parse<T: FromStr>(
            name: &'static str,
            value: Option<String>,
            default: T,
            expected: &str,
        ) -> Result<T, SettingsError> {
            match value {
                None => Ok(default),
                Some(v) => v.parse().map_err(|_| SettingsError {
                    name,
                    value: v,
                    expected: expected.to_owned(),
                }),
            }
        }
        let flag = |name: &'static str| -> Result<bool, SettingsError> {
            match get(name).map(|v| v.to_ascii_lowercase()) {
                None => Ok(false),
                Some(v) if ["1", "true", "yes", "on"].contains(&v.as_str()) => Ok(true),
                Some(v) if ["0", "false", "no", "off"].contains(&v.as_str()) => Ok(false),
                Some(v) => Err(SettingsError {
                    name,
                    value: v,
                    expected: "true or false".into(),
                }),
            }
        };
        let timezone = get("MYRUNSTREAK_TIMEZONE");
        if let Some(zone) = timezone
            .as_ref()
            .filter(|z| jiff::tz::TimeZone::get(z).is_err())
        {
            return Err(SettingsError { name: "MYRUNSTREAK_TIMEZONE", value: zone.clone(), expected: "an IANA time zone such as America/New_York, or empty for each run's local clock".into() });
        }
        let access_token = get("SMASHRUN_ACCESS_TOKEN").map(Secret::new);
        let stale_after = match get("MYRUNSTREAK_STALE_AFTER") {
            None => crate::verdict::DEFAULT_STALE_AFTER,
            Some(v) => v
                .parse::<jiff::SignedDuration>()
                .ok()
                .filter(|d| d.is_positive())
                .ok_or_else(|| SettingsError {
                    name: "MYRUNSTREAK_STALE_AFTER",
                    value: v,
                    expected: "a positive duration such as 6h, 90m or 36h".into(),
                })?,
        };
        let notify_url = get("MYRUNSTREAK_NOTIFY_URL").map(Secret::new);
        if let Some(url) = &notify_url
            && let Err(e) = crate::remind::Channel::parse_list(url.expose())
        {
            return Err(SettingsError {
                name: "MYRUNSTREAK_NOTIFY_URL",
                value: crate::remind::redact_list(url.expose()),
                expected: e.to_string(),
            });
        }
        let remind_at = match get("MYRUNSTREAK_REMIND_AT") {
            None => Vec::new(),
            Some(v) => crate::remind::parse_times(&v).map_err(|_| SettingsError {
                name: "MYRUNSTREAK_REMIND_AT",
                value: v,
                expected: "local times of day, comma-separated, such as 18:00,21:00".into(),
            })?,
        };
        let token_store = parse(
            "MYRUNSTREAK_TOKEN_STORE",
            get("MYRUNSTREAK_TOKEN_STORE"),
            TokenStoreKind::default_for(access_token.as_ref()),
            "file, env or aws (or empty: env when SMASHRUN_ACCESS_TOKEN is set, else file)",
        )?;
        Ok(Settings {
            client_id: or("SMASHRUN_CLIENT_ID", ""),
            client_secret: Secret::new(or("SMASHRUN_CLIENT_SECRET", "")),
            redirect_uri: or("SMASHRUN_REDIRECT_URI", "http://localhost:8000/callback"),
            oauth_url: or("SMASHRUN_OAUTH_URL", "https://secure.smashrun.com/oauth2"),
            api_url: or("SMASHRUN_API_URL", "https://api.smashrun.com/v1"),
            pkce: flag("SMASHRUN_PKCE")?,
            duckdb_path: PathBuf::from(or("DUCKDB_PATH", "./data/runs.duckdb")),
            token_store,
            token_file: PathBuf::from(or("MYRUNSTREAK_TOKEN_FILE", "./data/tokens.json")),
            allow_insecure_token_file: flag("MYRUNSTREAK_ALLOW_INSECURE_TOKEN_FILE")?,
            access_token,
            refresh_token: get("SMASHRUN_REFRESH_TOKEN").map(Secret::new),
            rule: parse(
                "MYRUNSTREAK_RULE",
                get("MYRUNSTREAK_RULE"),
                Rule::Usrsa,
                "usrsa, continuous, any, or a daily minimum such as 2km, 1.5mi, 20min",
            )?,
            timezone,
            exclude_treadmill: flag("MYRUNSTREAK_EXCLUDE_TREADMILL")?,
            units: parse(
                "MYRUNSTREAK_UNITS",
                get("MYRUNSTREAK_UNITS"),
                Units::Imperial,
                "imperial or metric",
            )?,
            period_streak: get("MYRUNSTREAK_PERIOD_STREAK")
                .map(|v| {
                    v.parse().map_err(|_| SettingsError {
                        name: "MYRUNSTREAK_PERIOD_STREAK",
                        value: v,
                        expected: "a target per week or month, such as 20mi/week, 12runs/month or 3runs/week:sunday".into(),
                    })
                })
                .transpose()?,
            year_goal: get("MYRUNSTREAK_YEAR_GOAL")
                .map(|v| {
                    v.parse().map_err(|_| SettingsError {
                        name: "MYRUNSTREAK_YEAR_GOAL",
                        value: v,
                        expected: "a distance or a number of runs for the year, such as 1000km, 600mi or 300runs".into(),
                    })
                })
                .transpose()?,
            api_token: get("MYRUNSTREAK_API_TOKEN").map(Secret::new),
            cors_origins: get("MYRUNSTREAK_CORS_ORIGINS")
                .map(|v| {
                    v.split(',')
                        .map(|o| o.trim().to_owned())
                        .filter(|o| !o.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            aws_region: or("AWS_REGION", "us-east-1"),
            aws_endpoint_url: get("AWS_ENDPOINT_URL"),
            tokens_secret_id: or(
                "MYRUNSTREAK_TOKENS_SECRET_ID",
                "myrunstreak/smashrun/tokens",
            ),
            client_secret_id: or(
                "MYRUNSTREAK_CLIENT_SECRET_ID",
                "myrunstreak/smashrun/client",
            ),
            s3_bucket: get("MYRUNSTREAK_S3_BUCKET"),
            s3_key: or("MYRUNSTREAK_S3_KEY", "runs.duckdb"),
            status_bucket: get("MYRUNSTREAK_STATUS_BUCKET"),
            status_prefix: or("MYRUNSTREAK_STATUS_PREFIX", "status"),
            environment: or("ENVIRONMENT", "dev"),
            log_level: or("LOG_LEVEL", "info"),
            deletion_guard: crate::sync::DeletionGuard {
                min_runs: parse(
                    "MYRUNSTREAK_DELETE_GUARD_RUNS",
                    get("MYRUNSTREAK_DELETE_GUARD_RUNS"),
                    20,
                    "a whole number of runs, such as 20",
                )?,
                share: {
                    let percent: f64 = parse(
                        "MYRUNSTREAK_DELETE_GUARD_PERCENT",
                        get("MYRUNSTREAK_DELETE_GUARD_PERCENT"),
                        5.0,
                        "a percentage from 0 to 100, such as 5",
                    )?;
                    if !(0.0..=100.0).contains(&percent) {
                        return Err(SettingsError {
                            name: "MYRUNSTREAK_DELETE_GUARD_PERCENT",
                            value: percent.to_string(),
                            expected: "a percentage from 0 to 100, such as 5".into(),
                        });
                    }
                    percent / 100.0
                },
                ..crate::sync::DeletionGuard::default()
            },
            stale_after,
            notify_url,
            notify_secret_id: get("MYRUNSTREAK_NOTIFY_SECRET_ID"),
            remind_at,
            mail_from: get("MYRUNSTREAK_MAIL_FROM"),
            api_token_secret_id: get("MYRUNSTREAK_API_TOKEN_SECRET_ID"),
        })
    }

    /// The home zone (`MYRUNSTREAK_TIMEZONE`), when one is set and known. The SmashRun client
    /// reads starts written without an offset as wall times there.
    pub fn home_zone(&self) -> Option<jiff::tz::TimeZone> {
        self.timezone
            .as_deref()
            .and_then(|z| jiff::tz::TimeZone::get(z).ok())
    }

    /// When `SMASHRUN_ACCESS_TOKEN` is set but another store was chosen, says so and why
    /// (never the token itself).
    pub fn ignored_env_token(&self) -> Option<String> {
        let set = self.access_token.as_ref().is_some_and(|t| !t.is_empty());
        (set && self.token_store != TokenStoreKind::Env).then(|| {
            format!(
                "SMASHRUN_ACCESS_TOKEN is set but ignored: MYRUNSTREAK_TOKEN_STORE={} chooses the {} store (leave MYRUNSTREAK_TOKEN_STORE empty, or set it to env, to use the token from the environment)",
                self.token_store.name(),
                match self.token_store {
                    TokenStoreKind::File => "file",
                    TokenStoreKind::Env => "environment",
                    TokenStoreKind::Aws => "AWS Secrets Manager",
                }
            )
        })
    }

    /// Every setting with its effective value, secrets shown only as set or not set.
    pub fn describe(&self) -> Vec<(&'static str, String)> {
        let secret = |s: Option<&Secret>| match s {
            Some(s) if !s.is_empty() => "[set, redacted]".to_owned(),
            _ => "[not set]".to_owned(),
        };
        let store = self.token_store.name();
        let access_token = match self.ignored_env_token() {
            Some(why) => format!("{} ({why})", secret(self.access_token.as_ref())),
            None => secret(self.access_token.as_ref()),
        };
        vec![
            ("SMASHRUN_CLIENT_ID", self.client_id.clone()),
            ("SMASHRUN_CLIENT_SECRET", secret(Some(&self.client_secret))),
            ("SMASHRUN_REDIRECT_URI", self.redirect_uri.clone()),
            ("SMASHRUN_OAUTH_URL", self.oauth_url.clone()),
            ("SMASHRUN_API_URL", self.api_url.clone()),
            ("SMASHRUN_PKCE", self.pkce.to_string()),
            ("DUCKDB_PATH", self.duckdb_path.display().to_string()),
            ("MYRUNSTREAK_TOKEN_STORE", store.to_owned()),
            (
                "MYRUNSTREAK_TOKEN_FILE",
                self.token_file.display().to_string(),
            ),
            ("SMASHRUN_ACCESS_TOKEN", access_token),
            (
                "SMASHRUN_REFRESH_TOKEN",
                secret(self.refresh_token.as_ref()),
            ),
            ("MYRUNSTREAK_RULE", self.rule.to_string()),
            (
                "MYRUNSTREAK_TIMEZONE",
                self.timezone
                    .clone()
                    .unwrap_or_else(|| "(each run's local clock)".into()),
            ),
            (
                "MYRUNSTREAK_EXCLUDE_TREADMILL",
                self.exclude_treadmill.to_string(),
            ),
            (
                "MYRUNSTREAK_UNITS",
                format!("{:?}", self.units).to_lowercase(),
            ),
            (
                "MYRUNSTREAK_PERIOD_STREAK",
                self.period_streak
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
            ),
            (
                "MYRUNSTREAK_YEAR_GOAL",
                self.year_goal
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
            ),
            ("MYRUNSTREAK_API_TOKEN", secret(self.api_token.as_ref())),
            ("MYRUNSTREAK_CORS_ORIGINS", self.cors_origins.join(",")),
            ("AWS_REGION", self.aws_region.clone()),
            (
                "AWS_ENDPOINT_URL",
                self.aws_endpoint_url.clone().unwrap_or_default(),
            ),
            (
                "MYRUNSTREAK_TOKENS_SECRET_ID",
                self.tokens_secret_id.clone(),
            ),
            (
                "MYRUNSTREAK_CLIENT_SECRET_ID",
                self.client_secret_id.clone(),
            ),
            (
                "MYRUNSTREAK_S3_BUCKET",
                self.s3_bucket.clone().unwrap_or_default(),
            ),
            ("MYRUNSTREAK_S3_KEY", self.s3_key.clone()),
            (
                "MYRUNSTREAK_STATUS_BUCKET",
                self.status_bucket.clone().unwrap_or_default(),
            ),
            ("MYRUNSTREAK_STATUS_PREFIX", self.status_prefix.clone()),
            ("ENVIRONMENT", self.environment.clone()),
            ("LOG_LEVEL", self.log_level.clone()),
            (
                "MYRUNSTREAK_DELETE_GUARD_RUNS",
                self.deletion_guard.min_runs.to_string(),
            ),
            (
                "MYRUNSTREAK_DELETE_GUARD_PERCENT",
                (self.deletion_guard.share * 100.0).to_string(),
            ),
            ("MYRUNSTREAK_STALE_AFTER", format!("{:#}", self.stale_after)),
            (
                "MYRUNSTREAK_NOTIFY_URL",
                self.notify_url
                    .as_ref()
                    .map(|u| crate::remind::redact_list(u.expose()))
                    .unwrap_or_else(|| "[not set]".into()),
            ),
            (
                "MYRUNSTREAK_NOTIFY_SECRET_ID",
                self.notify_secret_id.clone().unwrap_or_default(),
            ),
            (
                "MYRUNSTREAK_REMIND_AT",
                self.remind_at
                    .iter()
                    .map(|t| t.strftime("%H:%M").to_string())
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            (
                "MYRUNSTREAK_MAIL_FROM",
                self.mail_from.clone().unwrap_or_default(),
            ),
            (
                "MYRUNSTREAK_API_TOKEN_SECRET_ID",
                self.api_token_secret_id.clone().unwrap_or_default(),
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_follow_the_original_env() {
        let s = Settings::from_vars(&BTreeMap::new()).unwrap();
        assert_eq!(s.redirect_uri, "http://localhost:8000/callback");
        assert_eq!(s.duckdb_path, PathBuf::from("./data/runs.duckdb"));
        assert_eq!(s.rule, Rule::Usrsa);
        assert_eq!(s.units, Units::Imperial);
    }

    #[test]
    fn bad_values_say_what_is_accepted() {
        let e = Settings::from_vars(&vars(&[("MYRUNSTREAK_RULE", "fast")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("MYRUNSTREAK_RULE") && e.contains("usrsa"), "{e}");
        let e = Settings::from_vars(&vars(&[("MYRUNSTREAK_TIMEZONE", "Mars/Olympus")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("IANA"), "{e}");
    }

    #[test]
    fn an_access_token_in_the_environment_chooses_the_env_store() {
        let store = |pairs: &[(&str, &str)]| Settings::from_vars(&vars(pairs)).unwrap();
        // nothing set: the file
        assert_eq!(store(&[]).token_store, TokenStoreKind::File);
        assert_eq!(
            store(&[("MYRUNSTREAK_TOKEN_STORE", "")]).token_store,
            TokenStoreKind::File
        );
        // only the token: the environment, with or without an empty store setting
        for pairs in [
            vec![("SMASHRUN_ACCESS_TOKEN", "tok")],
            vec![
                ("SMASHRUN_ACCESS_TOKEN", "tok"),
                ("MYRUNSTREAK_TOKEN_STORE", ""),
            ],
            vec![
                ("SMASHRUN_ACCESS_TOKEN", "tok"),
                ("MYRUNSTREAK_TOKEN_STORE", "  "),
            ],
        ] {
            let s = store(&pairs);
            assert_eq!(s.token_store, TokenStoreKind::Env, "{pairs:?}");
            assert!(s.ignored_env_token().is_none());
        }
        // an empty token counts as unset
        for pairs in [
            vec![("SMASHRUN_ACCESS_TOKEN", "")],
            vec![
                ("SMASHRUN_ACCESS_TOKEN", " "),
                ("MYRUNSTREAK_TOKEN_STORE", ""),
            ],
        ] {
            let s = store(&pairs);
            assert_eq!(s.token_store, TokenStoreKind::File, "{pairs:?}");
            assert!(s.access_token.is_none());
            assert!(s.ignored_env_token().is_none());
        }
        // a store chosen explicitly wins, and says that the token is ignored
        for (chosen, kind, named) in [
            ("file", TokenStoreKind::File, "file store"),
            ("aws", TokenStoreKind::Aws, "AWS Secrets Manager"),
        ] {
            let s = store(&[
                ("SMASHRUN_ACCESS_TOKEN", "tok-123"),
                ("MYRUNSTREAK_TOKEN_STORE", chosen),
            ]);
            assert_eq!(s.token_store, kind);
            let why = s.ignored_env_token().unwrap();
            assert!(
                why.contains("ignored")
                    && why.contains(&format!("MYRUNSTREAK_TOKEN_STORE={chosen}"))
                    && why.contains(named),
                "{why}"
            );
            let described: BTreeMap<_, _> = s.describe().into_iter().collect();
            let shown = &described["SMASHRUN_ACCESS_TOKEN"];
            assert!(
                shown.contains("[set, redacted]") && shown.contains("ignored"),
                "{shown}"
            );
            assert!(!format!("{described:?}").contains("tok-123"));
            assert_eq!(described["MYRUNSTREAK_TOKEN_STORE"], chosen);
        }
        let env = store(&[
            ("SMASHRUN_ACCESS_TOKEN", "tok"),
            ("MYRUNSTREAK_TOKEN_STORE", "env"),
        ]);
        assert_eq!(env.token_store, TokenStoreKind::Env);
        assert!(env.ignored_env_token().is_none());
        // no token, a chosen store: nothing to say
        assert!(
            store(&[("MYRUNSTREAK_TOKEN_STORE", "aws")])
                .ignored_env_token()
                .is_none()
        );
        let e = Settings::from_vars(&vars(&[("MYRUNSTREAK_TOKEN_STORE", "vault")]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("MYRUNSTREAK_TOKEN_STORE") && e.contains("file, env or aws"),
            "{e}"
        );
    }

    #[test]
    fn pkce_is_off_unless_asked_for() {
        let pkce =
            |value: &str| Settings::from_vars(&vars(&[("SMASHRUN_PKCE", value)])).map(|s| s.pkce);
        assert!(!Settings::from_vars(&BTreeMap::new()).unwrap().pkce);
        for on in ["true", "1", "yes", "TRUE", " Yes "] {
            assert!(pkce(on).unwrap(), "{on}");
        }
        for off in ["false", "0", "no", "", "No"] {
            assert!(!pkce(off).unwrap(), "{off}");
        }
        let e = pkce("maybe").unwrap_err().to_string();
        assert!(
            e.contains("SMASHRUN_PKCE") && e.contains("true or false"),
            "{e}"
        );
        let described: BTreeMap<_, _> = Settings::from_vars(&vars(&[("SMASHRUN_PKCE", "1")]))
            .unwrap()
            .describe()
            .into_iter()
            .collect();
        assert_eq!(described["SMASHRUN_PKCE"], "true");
    }

    #[test]
    fn secrets_are_redacted() {
        let s = Settings::from_vars(&vars(&[
            ("SMASHRUN_CLIENT_SECRET", "hunter2"),
            ("MYRUNSTREAK_API_TOKEN", "tok"),
        ]))
        .unwrap();
        let text = format!("{:?} {:?}", s, s.describe());
        assert!(
            !text.contains("hunter2") && !text.contains("\"tok\""),
            "{text}"
        );
        assert!(text.contains("[set, redacted]"));
    }

    #[test]
    fn notify_urls_are_redacted_and_reminder_settings_parse() {
        let s = Settings::from_vars(&vars(&[
            (
                "MYRUNSTREAK_NOTIFY_URL",
                "ntfy://ntfy.sh/sam-secret-topic, https://hooks.example.com/t/abc123?key=k9",
            ),
            ("MYRUNSTREAK_REMIND_AT", "21:00, 18:00"),
            ("MYRUNSTREAK_STALE_AFTER", "6h"),
        ]))
        .unwrap();
        let text = format!("{:?} {:?}", s, s.describe());
        for secret in ["sam-secret-topic", "abc123", "k9"] {
            assert!(!text.contains(secret), "{text}");
        }
        let described: BTreeMap<_, _> = s.describe().into_iter().collect();
        assert!(described["MYRUNSTREAK_NOTIFY_URL"].contains("ntfy.sh"));
        assert_eq!(described["MYRUNSTREAK_REMIND_AT"], "18:00,21:00");
        assert_eq!(s.stale_after, jiff::SignedDuration::from_hours(6));
        assert_eq!(
            Settings::from_vars(&BTreeMap::new()).unwrap().stale_after,
            jiff::SignedDuration::from_hours(36)
        );
        let e = Settings::from_vars(&vars(&[("MYRUNSTREAK_NOTIFY_URL", "gopher://x/tok-77")]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("MYRUNSTREAK_NOTIFY_URL") && !e.contains("tok-77"),
            "{e}"
        );
        for bad in [
            ("MYRUNSTREAK_STALE_AFTER", "soon"),
            ("MYRUNSTREAK_REMIND_AT", "25:00"),
        ] {
            assert!(Settings::from_vars(&vars(&[bad])).is_err(), "{bad:?}");
        }
    }
}
