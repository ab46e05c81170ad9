//! Sealing secrets at rest: runners' SmashRun tokens (and a login's PKCE verifier) are stored
//! only as AEAD ciphertexts, each bound to what it belongs to (the runner's id) so that a sealed
//! value copied onto another runner does not open.
//!
//! [`Sealer`] is the port; [`LocalSealer`] is AES-256-GCM from `aws-lc-rs` with a key from
//! `MYRUNSTREAK_SITE_KEY` or a key file kept outside `./data`, and the KMS sealer of
//! `myrunstreak-aws` is the one for AWS. Rotation: the current key seals, every known key opens
//! (a sealed value names its key), and [`super::Site::reseal`] seals everything again under the
//! current key.

use std::io::Write;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use myrunstreak_store::accounts::Sealed;
use smashrun_client::Secret;
use thiserror::Error;

/// What sealing or opening can fail with. Never carries the secret.
#[derive(Debug, Error)]
pub enum SealError {
    /// The value names a key this site does not have.
    #[error(
        "a sealed value names key {0}, which this site does not have; set MYRUNSTREAK_SITE_KEY_PREVIOUS to the key it was sealed with (see the README's key rotation)"
    )]
    UnknownKey(String),
    /// The value does not open with its key (altered, or moved from another runner).
    #[error("a sealed value does not open with key {0}: it was altered, or belongs elsewhere")]
    Corrupt(String),
    /// The key is not usable.
    #[error("{0}")]
    Key(String),
    /// The key file could not be read or written.
    #[error("{action} the site key file {path}: {source}")]
    Io {
        /// What was attempted.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A remote sealer (KMS) failed.
    #[error("{0}")]
    Remote(String),
}

/// Seals and opens secrets at rest.
#[async_trait]
pub trait Sealer: Send + Sync {
    /// Seals `plain`, bound to `context` (which must be given again to open it).
    async fn seal(&self, plain: &[u8], context: &str) -> Result<Sealed, SealError>;
    /// Opens what [`Sealer::seal`] sealed with the same `context`.
    async fn open(&self, sealed: &Sealed, context: &str) -> Result<Vec<u8>, SealError>;
    /// The id of the key that seals now.
    fn current_key(&self) -> String;
}

/// 32 random bytes from the system's CSPRNG, URL-safe base64 (43 characters): session ids,
/// API tokens, login nonces.
pub fn random_token() -> Result<Secret, SealError> {
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| SealError::Key("the system's random number generator failed".into()))?;
    Ok(Secret::new(URL_SAFE_NO_PAD.encode(bytes)))
}

/// SHA-256 of `value`, hex: how sessions, API tokens and login states are stored.
pub fn hash(value: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, value.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// AES-256-GCM under keys held in memory; the first key seals.
pub struct LocalSealer {
    keys: Vec<(String, LessSafeKey)>,
    random: SystemRandom,
}

impl std::fmt::Debug for LocalSealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<_> = self.keys.iter().map(|(id, _)| id.as_str()).collect();
        f.debug_struct("LocalSealer").field("keys", &ids).finish()
    }
}

/// Where the site's key came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyOrigin {
    /// `MYRUNSTREAK_SITE_KEY`.
    Environment,
    /// An existing key file.
    File(PathBuf),
    /// A key file generated now (mode 0600).
    Generated(PathBuf),
}

fn decode_key(text: &str, what: &str) -> Result<[u8; 32], SealError> {
    let text = text.trim();
    let bytes = STANDARD
        .decode(text)
        .or_else(|_| URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')))
        .map_err(|_| {
            SealError::Key(format!(
                "{what} is not base64; generate a key with `openssl rand -base64 32`"
            ))
        })?;
    bytes.try_into().map_err(|b: Vec<u8>| {
        SealError::Key(format!(
            "{what} is {} bytes long; it must be 32 (generate one with `openssl rand -base64 32`)",
            b.len()
        ))
    })
}

/// A key's id: the first 8 hex digits of the SHA-256 of the key (not secret: it cannot give
/// the key back, and it lets a sealed value name its key).
fn key_id(key: &[u8; 32]) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, key);
    digest.as_ref()[..4]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl LocalSealer {
    /// A sealer whose `current` key seals and whose `previous` keys still open.
    pub fn new(current: [u8; 32], previous: &[[u8; 32]]) -> Result<LocalSealer, SealError> {
        let mut keys = Vec::new();
        for key in std::iter::once(&current).chain(previous) {
            let unbound = UnboundKey::new(&AES_256_GCM, key)
                .map_err(|_| SealError::Key("the site key is not a valid AES-256 key".into()))?;
            keys.push((key_id(key), LessSafeKey::new(unbound)));
        }
        Ok(LocalSealer {
            keys,
            random: SystemRandom::new(),
        })
    }

    /// The site's sealer from its settings: `site_key` (`MYRUNSTREAK_SITE_KEY`) when set, else
    /// the key in `key_file`, generated there (mode 0600, written atomically) on first start;
    /// `previous` (`MYRUNSTREAK_SITE_KEY_PREVIOUS`, comma-separated) still open.
    pub fn load(
        site_key: Option<&Secret>,
        previous: Option<&Secret>,
        key_file: &Path,
    ) -> Result<(LocalSealer, KeyOrigin), SealError> {
        let previous: Vec<[u8; 32]> = previous
            .map(|p| {
                p.expose()
                    .split(',')
                    .filter(|k| !k.trim().is_empty())
                    .map(|k| decode_key(k, "MYRUNSTREAK_SITE_KEY_PREVIOUS"))
                    .collect::<Result<_, _>>()
            })
            .transpose()?
            .unwrap_or_default();
        if let Some(key) = site_key {
            let key = decode_key(key.expose(), "MYRUNSTREAK_SITE_KEY")?;
            return Ok((LocalSealer::new(key, &previous)?, KeyOrigin::Environment));
        }
        match std::fs::read_to_string(key_file) {
            Ok(text) => {
                let key = decode_key(&text, &format!("the key in {}", key_file.display()))?;
                Ok((
                    LocalSealer::new(key, &previous)?,
                    KeyOrigin::File(key_file.to_owned()),
                ))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; 32];
                SystemRandom::new().fill(&mut key).map_err(|_| {
                    SealError::Key("the system's random number generator failed".into())
                })?;
                write_key_file(key_file, &key)?;
                Ok((
                    LocalSealer::new(key, &previous)?,
                    KeyOrigin::Generated(key_file.to_owned()),
                ))
            }
            Err(source) => Err(SealError::Io {
                action: "reading",
                path: key_file.to_owned(),
                source,
            }),
        }
    }
}

/// Writes a new key file with mode 0600: a temporary file in the same folder, fsynced, renamed.
fn write_key_file(path: &Path, key: &[u8; 32]) -> Result<(), SealError> {
    let io = |action| {
        move |source| SealError::Io {
            action,
            path: path.to_owned(),
            source,
        }
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io("creating the folder of"))?;
    let mut file = tempfile::Builder::new()
        .prefix(".site-key")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .tempfile_in(dir)
        .map_err(io("creating"))?;
    writeln!(file, "{}", STANDARD.encode(key)).map_err(io("writing"))?;
    file.as_file().sync_all().map_err(io("writing"))?;
    file.persist_noclobber(path)
        .map_err(|e| io("creating")(e.error))?;
    Ok(())
}

#[async_trait]
impl Sealer for LocalSealer {
    async fn seal(&self, plain: &[u8], context: &str) -> Result<Sealed, SealError> {
        let (id, key) = &self.keys[0];
        let mut nonce = [0u8; NONCE_LEN];
        self.random
            .fill(&mut nonce)
            .map_err(|_| SealError::Key("the system's random number generator failed".into()))?;
        let mut data = plain.to_vec();
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(context.as_bytes()),
            &mut data,
        )
        .map_err(|_| SealError::Corrupt(id.clone()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        Ok(Sealed {
            key: id.clone(),
            data: STANDARD.encode(out),
        })
    }

    async fn open(&self, sealed: &Sealed, context: &str) -> Result<Vec<u8>, SealError> {
        let Some((id, key)) = self.keys.iter().find(|(id, _)| *id == sealed.key) else {
            return Err(SealError::UnknownKey(sealed.key.clone()));
        };
        let corrupt = || SealError::Corrupt(id.clone());
        let bytes = STANDARD.decode(&sealed.data).map_err(|_| corrupt())?;
        if bytes.len() < NONCE_LEN {
            return Err(corrupt());
        }
        let (nonce, rest) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| corrupt())?;
        let mut data = rest.to_vec();
        let plain = key
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut data)
            .map_err(|_| corrupt())?;
        Ok(plain.to_vec())
    }

    fn current_key(&self) -> String {
        self.keys[0].0.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn seals_opens_and_refuses_another_context_or_key() {
        let sealer = LocalSealer::new([7; 32], &[]).unwrap();
        let sealed = sealer.seal(b"refresh-token", "tokens:r-a").await.unwrap();
        assert!(!sealed.data.contains("refresh-token"));
        assert_eq!(
            sealer.open(&sealed, "tokens:r-a").await.unwrap(),
            b"refresh-token"
        );
        // moved onto another runner: refused
        assert!(matches!(
            sealer.open(&sealed, "tokens:r-b").await,
            Err(SealError::Corrupt(_))
        ));
        // a rotated site opens with the previous key and seals with the new one
        let rotated = LocalSealer::new([9; 32], &[[7; 32]]).unwrap();
        assert_eq!(
            rotated.open(&sealed, "tokens:r-a").await.unwrap(),
            b"refresh-token"
        );
        assert_ne!(rotated.current_key(), sealed.key);
        // without the previous key it says which key is missing
        let forgot = LocalSealer::new([9; 32], &[]).unwrap();
        assert!(matches!(
            forgot.open(&sealed, "tokens:r-a").await,
            Err(SealError::UnknownKey(k)) if k == sealed.key
        ));
    }

    #[test]
    fn a_key_file_is_generated_once_with_mode_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys").join("site.key");
        let (first, origin) = LocalSealer::load(None, None, &path).unwrap();
        assert_eq!(origin, KeyOrigin::Generated(path.clone()));
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let (again, origin) = LocalSealer::load(None, None, &path).unwrap();
        assert_eq!(origin, KeyOrigin::File(path.clone()));
        assert_eq!(first.current_key(), again.current_key());
    }

    #[test]
    fn a_bad_key_says_how_to_make_one() {
        let err = LocalSealer::load(
            Some(&Secret::new("c2hvcnQ=")),
            None,
            Path::new("/nonexistent"),
        )
        .unwrap_err();
        assert!(err.to_string().contains("openssl rand -base64 32"), "{err}");
    }
}
