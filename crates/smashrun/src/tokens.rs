use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

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
    /// A token set issued at `now` that lives `expires_in`.
    pub fn issued(
        access_token: Secret,
        refresh_token: Option<Secret>,
        now: Timestamp,
        expires_in: SignedDuration,
    ) -> Self {
        TokenSet {
            access_token,
            refresh_token,
            expires_at: now + expires_in,
            issued_at: Some(now),
            scope: None,
        }
    }

    /// When a refresh becomes due: half-way through the lifetime. Without an issue time, 6 weeks
    /// before expiry (half of SmashRun's 12 weeks).
    pub fn refresh_due_at(&self) -> Timestamp {
        match self.issued_at {
            Some(issued) if issued < self.expires_at => {
                issued + self.expires_at.duration_since(issued) / 2
            }
            _ => self.expires_at - SignedDuration::from_hours(24 * 7 * 6),
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
