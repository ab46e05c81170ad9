//! PKCE (RFC 7636) as the sandbox can play it: a server that ignores it (what SmashRun may well
//! be), one that insists on S256, and one that refuses any request carrying a challenge.
//!
//! SHA-256 and base64url come from `sha2` and `base64`, the versions the oauth2 crate already
//! builds for the client.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How the sandbox treats PKCE.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PkceMode {
    /// Accept `code_challenge` and `code_verifier` and ignore them, like a server that does not
    /// implement PKCE.
    #[default]
    Ignore,
    /// An S256 `code_challenge` must come with the authorization and the matching
    /// `code_verifier` with the exchange, else `invalid_grant`; the plain method is refused.
    Enforce,
    /// An authorization request that carries a `code_challenge` is refused with
    /// `error=invalid_request`.
    Reject,
}

impl FromStr for PkceMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ignore" => Ok(PkceMode::Ignore),
            "enforce" => Ok(PkceMode::Enforce),
            "reject" => Ok(PkceMode::Reject),
            other => Err(format!(
                "PKCE mode {other:?} is not one of ignore, enforce, reject"
            )),
        }
    }
}

impl fmt::Display for PkceMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PkceMode::Ignore => "ignore",
            PkceMode::Enforce => "enforce",
            PkceMode::Reject => "reject",
        })
    }
}

/// Whether `verifier` is a well-formed code verifier (RFC 7636 §4.1): 43 to 128 characters of
/// `A-Z a-z 0-9 - . _ ~`.
pub(crate) fn well_formed_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// The S256 challenge of a verifier: `BASE64URL(SHA256(verifier))`, unpadded.
pub(crate) fn s256_challenge(verifier: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_7636_example() {
        // RFC 7636, Appendix B
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert!(well_formed_verifier(verifier));
        assert_eq!(
            s256_challenge(verifier),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert!(!well_formed_verifier("short"));
        assert!(!well_formed_verifier(&format!("{verifier}!")));
        assert!(!well_formed_verifier(&"a".repeat(129)));
    }

    #[test]
    fn modes_parse_and_print() {
        for mode in [PkceMode::Ignore, PkceMode::Enforce, PkceMode::Reject] {
            assert_eq!(mode.to_string().parse::<PkceMode>(), Ok(mode));
        }
        assert_eq!(" Enforce ".parse::<PkceMode>(), Ok(PkceMode::Enforce));
        assert!("plain".parse::<PkceMode>().is_err());
        assert_eq!(PkceMode::default(), PkceMode::Ignore);
    }
}
