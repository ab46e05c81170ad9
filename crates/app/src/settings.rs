//! Settings, read once per binary from a map of names to values (the binary merges `.env`, the
//! environment and its flags into that map), with the original `.env` names.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::str::FromStr;

use myrunstreak_domain::{Rule, Units};
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
            "file" | "" => Ok(TokenStoreKind::File),
            "env" | "environment" => Ok(TokenStoreKind::Env),
            "aws" | "secretsmanager" => Ok(TokenStoreKind::Aws),
            _ => Err("file, env or aws".into()),
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
    /// `DUCKDB_PATH`.
    pub duckdb_path: PathBuf,
    /// `MYRUNSTREAK_TOKEN_STORE`.
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
    /// `ENVIRONMENT`.
    pub environment: String,
    /// `LOG_LEVEL`.
    pub log_level: String,
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
        Ok(Settings {
            client_id: or("SMASHRUN_CLIENT_ID", ""),
            client_secret: Secret::new(or("SMASHRUN_CLIENT_SECRET", "")),
            redirect_uri: or("SMASHRUN_REDIRECT_URI", "http://localhost:8000/callback"),
            oauth_url: or("SMASHRUN_OAUTH_URL", "https://secure.smashrun.com/oauth2"),
            api_url: or("SMASHRUN_API_URL", "https://api.smashrun.com/v1"),
            duckdb_path: PathBuf::from(or("DUCKDB_PATH", "./data/runs.duckdb")),
            token_store: parse(
                "MYRUNSTREAK_TOKEN_STORE",
                get("MYRUNSTREAK_TOKEN_STORE"),
                TokenStoreKind::File,
                "file, env or aws",
            )?,
            token_file: PathBuf::from(or("MYRUNSTREAK_TOKEN_FILE", "./data/tokens.json")),
            allow_insecure_token_file: flag("MYRUNSTREAK_ALLOW_INSECURE_TOKEN_FILE")?,
            access_token: get("SMASHRUN_ACCESS_TOKEN").map(Secret::new),
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
            environment: or("ENVIRONMENT", "dev"),
            log_level: or("LOG_LEVEL", "info"),
        })
    }

    /// Every setting with its effective value, secrets shown only as set or not set.
    pub fn describe(&self) -> Vec<(&'static str, String)> {
        let secret = |s: Option<&Secret>| match s {
            Some(s) if !s.is_empty() => "[set, redacted]".to_owned(),
            _ => "[not set]".to_owned(),
        };
        let store = match self.token_store {
            TokenStoreKind::File => "file",
            TokenStoreKind::Env => "env",
            TokenStoreKind::Aws => "aws",
        };
        vec![
            ("SMASHRUN_CLIENT_ID", self.client_id.clone()),
            ("SMASHRUN_CLIENT_SECRET", secret(Some(&self.client_secret))),
            ("SMASHRUN_REDIRECT_URI", self.redirect_uri.clone()),
            ("SMASHRUN_OAUTH_URL", self.oauth_url.clone()),
            ("SMASHRUN_API_URL", self.api_url.clone()),
            ("DUCKDB_PATH", self.duckdb_path.display().to_string()),
            ("MYRUNSTREAK_TOKEN_STORE", store.to_owned()),
            (
                "MYRUNSTREAK_TOKEN_FILE",
                self.token_file.display().to_string(),
            ),
            ("SMASHRUN_ACCESS_TOKEN", secret(self.access_token.as_ref())),
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
            ("ENVIRONMENT", self.environment.clone()),
            ("LOG_LEVEL", self.log_level.clone()),
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
}
