use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use oauth2::basic::BasicTokenType;
use oauth2::{AccessToken, RefreshToken, TokenResponse};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;

use crate::Secret;

/// An access token with its refresh token and absolute expiry.
///
/// SmashRun's refresh tokens die with the access token (about 12 weeks), so a token set is due
/// for refresh at half of its lifetime, not the day before it expires.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TokenSet {
    /// The bearer token.
    pub access_token: Secret,
    /// The refresh token, when SmashRun gave one (personal tokens have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Secret>,
    /// When the access token expires, as a UTC instant (RFC 3339 when serialized).
    pub expires_at: Timestamp,
    /// When it was issued; with `expires_at` it gives the half-life.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_at: Option<Timestamp>,
    /// Granted scopes, space-separated, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

impl TokenSet {
    /// SmashRun's token lifetime, 12 weeks: assumed when a token response does not say, and the
    /// longest believed when it does. Refresh tokens die with the access token, so trusting a
    /// longer claim would put the half-life refresh after the refresh token's death.
    pub const MAX_LIFETIME: SignedDuration = SignedDuration::from_secs(7_257_600);

    /// A token set issued at `now` that lives `expires_in`, clamped to
    /// `0..=`[`TokenSet::MAX_LIFETIME`]: a negative lifetime is an expired token, a huge one is
    /// 12 weeks. Never overflows, whatever `now` and `expires_in` are.
    pub fn issued(
        access_token: Secret,
        refresh_token: Option<Secret>,
        now: Timestamp,
        expires_in: SignedDuration,
    ) -> Self {
        TokenSet {
            access_token,
            refresh_token,
            expires_at: expiry(now, expires_in),
            issued_at: Some(now),
            scope: None,
        }
    }

    /// When a refresh becomes due: half-way through the lifetime. Without an issue time, 6 weeks
    /// before expiry (half of SmashRun's 12 weeks).
    pub fn refresh_due_at(&self) -> Timestamp {
        match self.issued_at {
            Some(issued) if issued < self.expires_at => issued
                .checked_add(self.expires_at.duration_since(issued) / 2)
                .unwrap_or(self.expires_at),
            _ => self
                .expires_at
                .checked_sub(Self::MAX_LIFETIME / 2)
                .unwrap_or(Timestamp::MIN),
        }
    }

    /// Whether it should be refreshed at `now` (and can be).
    pub fn needs_refresh(&self, now: Timestamp) -> bool {
        self.refresh_token.is_some() && now >= self.refresh_due_at()
    }

    /// Whether the access token has expired at `now`.
    pub fn is_expired(&self, now: Timestamp) -> bool {
        now >= self.expires_at
    }

    /// The set after a refresh answered with `fresh`: a refresh response without a refresh token
    /// keeps the old one.
    pub fn merged_with_refresh(&self, mut fresh: TokenSet) -> TokenSet {
        if fresh.refresh_token.is_none() {
            fresh.refresh_token = self.refresh_token.clone();
        }
        if fresh.scope.is_none() {
            fresh.scope = self.scope.clone();
        }
        fresh
    }
}

impl TokenSet {
    /// Reads a token endpoint's JSON answer (code exchange or refresh) the way the login and the
    /// refresh do, as issued at `now`. Only `access_token` is required; `expires_in` is read by
    /// [`token_lifetime`]; an odd `token_type`, `refresh_token` or `scope` is ignored. Fails only
    /// when the body is not a JSON object with a string `access_token`. Never panics.
    pub fn from_token_response(body: &[u8], now: Timestamp) -> Result<TokenSet, serde_json::Error> {
        let response: TokenAnswer = serde_json::from_slice(body)?;
        Ok(response.to_token_set(now))
    }
}

/// The lifetime an `expires_in` of a token response grants. `expires_in` is the JSON text of the
/// value as received (`7257600`, `1e30`, `"3600"`, `-5`), `None` when the key is absent:
///
/// - absent, `null`, `0`, `NaN` or not a number at all: SmashRun's 12 weeks
///   ([`TokenSet::MAX_LIFETIME`]), which it is known to grant;
/// - negative: zero, an already expired token (refreshed before its next use);
/// - beyond 12 weeks, up to infinity: 12 weeks;
/// - otherwise the seconds given, fractions included; numbers may come as strings.
///
/// Never panics, whatever the text.
pub fn token_lifetime(expires_in: Option<&str>) -> SignedDuration {
    match expires_in.and_then(seconds_in) {
        None => TokenSet::MAX_LIFETIME,
        Some(s) if s.is_nan() || s == 0.0 => TokenSet::MAX_LIFETIME,
        Some(s) if s < 0.0 => SignedDuration::ZERO,
        Some(s) if s >= TokenSet::MAX_LIFETIME.as_secs_f64() => TokenSet::MAX_LIFETIME,
        Some(s) => SignedDuration::try_from_secs_f64(s).unwrap_or(TokenSet::MAX_LIFETIME),
    }
}

/// The number in the JSON text of a value: a JSON number (as large as it is written: `1e400` is
/// infinity) or a numeric string. `None` for anything else.
pub(crate) fn seconds_in(json: &str) -> Option<f64> {
    let json = json.trim();
    if json.starts_with('"') {
        serde_json::from_str::<String>(json)
            .ok()?
            .trim()
            .parse()
            .ok()
    } else {
        json.parse().ok()
    }
}

/// A token endpoint's answer, read leniently: the `oauth2` crate's own response type refuses a
/// whole login over an `expires_in` that is not a `u64` (a float, a string, a negative number).
#[derive(Clone, Debug, Deserialize, Serialize)]
pub(crate) struct TokenAnswer {
    access_token: AccessToken,
    #[serde(default = "bearer", deserialize_with = "any_token_type")]
    token_type: BasicTokenType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_in: Option<Box<RawValue>>,
    #[serde(
        default,
        deserialize_with = "any_refresh_token",
        skip_serializing_if = "Option::is_none"
    )]
    refresh_token: Option<RefreshToken>,
    #[serde(
        default,
        rename = "scope",
        deserialize_with = "any_scopes",
        skip_serializing_if = "Option::is_none"
    )]
    scopes: Option<Vec<oauth2::Scope>>,
}

impl TokenAnswer {
    fn lifetime(&self) -> SignedDuration {
        token_lifetime(self.expires_in.as_deref().map(RawValue::get))
    }

    /// The token set this answer grants, issued at `now`.
    pub(crate) fn to_token_set(&self, now: Timestamp) -> TokenSet {
        let mut set = TokenSet::issued(
            Secret::new(self.access_token.secret().clone()),
            self.refresh_token
                .as_ref()
                .map(|r| Secret::new(r.secret().clone())),
            now,
            self.lifetime(),
        );
        set.scope = self
            .scopes
            .as_ref()
            .map(|s| s.iter().map(|x| x.as_str()).collect::<Vec<_>>().join(" "));
        set
    }
}

impl TokenResponse for TokenAnswer {
    type TokenType = BasicTokenType;

    fn access_token(&self) -> &AccessToken {
        &self.access_token
    }

    fn token_type(&self) -> &BasicTokenType {
        &self.token_type
    }

    /// The lifetime [`token_lifetime`] reads (12 weeks when the answer does not say).
    fn expires_in(&self) -> Option<Duration> {
        Some(self.lifetime().unsigned_abs())
    }

    fn refresh_token(&self) -> Option<&RefreshToken> {
        self.refresh_token.as_ref()
    }

    fn scopes(&self) -> Option<&Vec<oauth2::Scope>> {
        self.scopes.as_ref()
    }
}

fn bearer() -> BasicTokenType {
    BasicTokenType::Bearer
}

/// The JSON string a value holds, if it is one.
fn any_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let raw = Option::<Box<RawValue>>::deserialize(d)?;
    Ok(raw.and_then(|r| serde_json::from_str::<String>(r.get()).ok()))
}

fn any_token_type<'de, D: Deserializer<'de>>(d: D) -> Result<BasicTokenType, D::Error> {
    Ok(
        match any_string(d)?.map(|s| s.to_ascii_lowercase()).as_deref() {
            Some("bearer") | None => BasicTokenType::Bearer,
            Some("mac") => BasicTokenType::Mac,
            Some(other) => BasicTokenType::Extension(other.to_owned()),
        },
    )
}

fn any_refresh_token<'de, D: Deserializer<'de>>(d: D) -> Result<Option<RefreshToken>, D::Error> {
    Ok(any_string(d)?
        .filter(|s| !s.is_empty())
        .map(RefreshToken::new))
}

fn any_scopes<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<oauth2::Scope>>, D::Error> {
    Ok(any_string(d)?.map(|s| {
        s.split_whitespace()
            .map(|x| oauth2::Scope::new(x.to_owned()))
            .collect()
    }))
}

/// The answer of SmashRun's token status (`/auth/{token}`).
#[derive(Debug, Deserialize)]
pub(crate) struct TokenStatus {
    #[serde(default)]
    expires_in: Option<Box<RawValue>>,
}

impl TokenStatus {
    /// Whole seconds left, saturating; 0 (expired) when the answer does not say.
    pub(crate) fn seconds_left(&self) -> i64 {
        self.expires_in
            .as_deref()
            .and_then(|r| seconds_in(r.get()))
            .filter(|s| !s.is_nan())
            // `as` saturates: 1e30 is i64::MAX, -inf is i64::MIN
            .map_or(0, |s| s as i64)
    }
}

/// `now + lifetime`, with `lifetime` clamped to `0..=`[`TokenSet::MAX_LIFETIME`] and the sum
/// saturated at the end of time.
pub(crate) fn expiry(now: Timestamp, lifetime: SignedDuration) -> Timestamp {
    let lifetime = lifetime.clamp(SignedDuration::ZERO, TokenSet::MAX_LIFETIME);
    now.checked_add(lifetime).unwrap_or(Timestamp::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn twelve_weeks(now: Timestamp) -> TokenSet {
        TokenSet::issued(
            Secret::new("a"),
            Some(Secret::new("r")),
            now,
            SignedDuration::from_secs(7_257_600),
        )
    }

    #[test]
    fn due_at_half_life() {
        let now: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let t = twelve_weeks(now);
        assert_eq!(t.refresh_due_at().to_string(), "2026-02-12T00:00:00Z");
        assert!(!t.needs_refresh(now + SignedDuration::from_hours(24 * 41)));
        assert!(t.needs_refresh(now + SignedDuration::from_hours(24 * 42)));
        assert!(!t.is_expired(now + SignedDuration::from_hours(24 * 83)));
        assert!(t.is_expired(now + SignedDuration::from_hours(24 * 84)));
    }

    #[test]
    fn refresh_without_new_refresh_token_keeps_the_old_one() {
        let now: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let old = twelve_weeks(now);
        let fresh = TokenSet::issued(Secret::new("b"), None, now, SignedDuration::from_secs(100));
        assert_eq!(
            old.merged_with_refresh(fresh).refresh_token,
            Some(Secret::new("r"))
        );
        let rotated = TokenSet::issued(
            Secret::new("b"),
            Some(Secret::new("r2")),
            now,
            SignedDuration::from_secs(100),
        );
        assert_eq!(
            old.merged_with_refresh(rotated).refresh_token,
            Some(Secret::new("r2"))
        );
    }

    #[test]
    fn lifetimes_are_clamped_and_never_overflow() {
        let now: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let issue = |d| TokenSet::issued(Secret::new("a"), Some(Secret::new("r")), now, d);
        let huge = issue(SignedDuration::MAX);
        assert_eq!(huge.expires_at, now + TokenSet::MAX_LIFETIME);
        assert_eq!(huge.refresh_due_at().to_string(), "2026-02-12T00:00:00Z");
        let negative = issue(SignedDuration::MIN);
        assert_eq!(negative.expires_at, now);
        assert!(negative.is_expired(now) && negative.needs_refresh(now));
        let late = TokenSet::issued(Secret::new("a"), None, Timestamp::MAX, SignedDuration::MAX);
        assert_eq!(late.expires_at, Timestamp::MAX);
        let early = TokenSet {
            expires_at: Timestamp::MIN,
            issued_at: None,
            ..late
        };
        assert_eq!(early.refresh_due_at(), Timestamp::MIN);
    }

    #[test]
    fn token_lifetimes_from_any_expires_in() {
        let twelve = TokenSet::MAX_LIFETIME;
        for (text, expected) in [
            (None, twelve),
            (Some("null"), twelve),
            (Some("0"), twelve),
            (Some("\"soon\""), twelve),
            (Some("true"), twelve),
            (Some("[1]"), twelve),
            (Some("3600"), SignedDuration::from_secs(3600)),
            (Some("\" 3600 \""), SignedDuration::from_secs(3600)),
            (Some("1.5"), SignedDuration::from_millis(1500)),
            (Some("7257600"), twelve),
            (Some("7257601"), twelve),
            (Some("1e30"), twelve),
            (Some("1e400"), twelve),
            (Some("9223372036854775807"), twelve),
            (Some("18446744073709551616"), twelve),
            (Some("\"Infinity\""), twelve),
            (Some("\"NaN\""), twelve),
            (Some("-1"), SignedDuration::ZERO),
            (Some("-9223372036854775808"), SignedDuration::ZERO),
            (Some("-1e400"), SignedDuration::ZERO),
        ] {
            assert_eq!(token_lifetime(text), expected, "{text:?}");
        }
    }

    #[test]
    fn token_responses_with_odd_fields_still_log_in() {
        let now: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let set = TokenSet::from_token_response(
            br#"{"access_token":"a","token_type":"Bearer","expires_in":1e30,"refresh_token":"r","scope":"read_activity write_activity"}"#,
            now,
        )
        .unwrap();
        assert_eq!(set.expires_at, now + TokenSet::MAX_LIFETIME);
        assert_eq!(set.refresh_token, Some(Secret::new("r")));
        assert_eq!(set.scope.as_deref(), Some("read_activity write_activity"));
        let odd = TokenSet::from_token_response(
            br#"{"access_token":"a","token_type":7,"expires_in":"-5","refresh_token":12,"scope":{}}"#,
            now,
        )
        .unwrap();
        assert!(
            odd.is_expired(now),
            "a negative lifetime is an expired token"
        );
        assert_eq!(odd.refresh_token, None);
        assert_eq!(odd.scope, None);
        assert!(TokenSet::from_token_response(br#"{"expires_in":5}"#, now).is_err());
        assert!(TokenSet::from_token_response(b"[1]", now).is_err());
    }

    #[test]
    fn token_status_seconds_saturate() {
        let left = |body: &str| {
            serde_json::from_str::<TokenStatus>(body)
                .unwrap()
                .seconds_left()
        };
        assert_eq!(left(r#"{"expires_in":3600}"#), 3600);
        assert_eq!(left(r#"{"expires_in":1e30}"#), i64::MAX);
        assert_eq!(left(r#"{"expires_in":"12.9"}"#), 12);
        assert_eq!(left(r#"{"expires_in":-5}"#), -5);
        assert_eq!(left(r#"{"expires_in":"never"}"#), 0);
        assert_eq!(left(r#"{}"#), 0);
    }

    #[test]
    fn serializes_expiry_as_rfc3339_and_never_debugs_secrets() {
        let now: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let t = twelve_weeks(now);
        let json = serde_json::to_string(&t).unwrap();
        assert!(
            json.contains("\"expires_at\":\"2026-03-26T00:00:00Z\""),
            "{json}"
        );
        assert!(!format!("{t:?}").contains("\"a\""));
    }
}
