//! Sealing with AWS KMS: the application's [`Sealer`] port, for AWS.
//!
//! Each value is encrypted by KMS (`Encrypt`, `Decrypt`) under one key, with what it belongs to
//! (the `context` the site gives: `smashrun-tokens:{runner id}`, say) as the KMS **encryption
//! context** `{"myrunstreak": context}`. KMS binds the ciphertext to it, so a sealed value copied
//! onto another runner does not open, CloudTrail logs the context of every decryption, and an IAM
//! policy can limit a role to some contexts (`kms:EncryptionContext:myrunstreak`).
//!
//! A sealed value names the key it was sealed with ([`Sealed::key`], the configured key id), and
//! is KMS's ciphertext blob in hex. Rotation: KMS's automatic rotation keeps the key's ARN and
//! still opens older values, so nothing is resealed; moving to another key is setting
//! `MYRUNSTREAK_KMS_KEY_ID` to it, while the role may still decrypt with the old one, then
//! `Site::reseal`.
//!
//! Errors carry KMS's error code only: never the plaintext, the ciphertext or KMS's message.

use async_trait::async_trait;
use aws_sdk_kms::Client;
use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kms::primitives::Blob;
use myrunstreak_app::site::{SealError, Sealed, Sealer};

/// The key of the KMS encryption context that carries what a value belongs to.
pub const ENCRYPTION_CONTEXT_KEY: &str = "myrunstreak";

/// A [`Sealer`] on one KMS key.
#[derive(Clone, Debug)]
pub struct KmsSealer {
    client: Client,
    key_id: String,
}

impl KmsSealer {
    /// Seals with `key_id` (a key id, key ARN or alias; the ARN is best: IAM grants name it).
    pub fn new(client: Client, key_id: impl Into<String>) -> Self {
        KmsSealer {
            client,
            key_id: key_id.into(),
        }
    }
}

/// KMS's error code for `e`, or what kind of failure it was.
fn code<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> String {
    match e {
        SdkError::ServiceError(service) => service
            .err()
            .code()
            .unwrap_or("an unnamed error")
            .to_owned(),
        SdkError::TimeoutError(_) => "no answer in time".into(),
        SdkError::DispatchFailure(_) => "KMS could not be reached".into(),
        SdkError::ResponseError(_) => "an answer that could not be read".into(),
        SdkError::ConstructionFailure(_) => "a request that could not be built".into(),
        _ => "an unknown failure".into(),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

#[async_trait]
impl Sealer for KmsSealer {
    async fn seal(&self, plain: &[u8], context: &str) -> Result<Sealed, SealError> {
        let out = self
            .client
            .encrypt()
            .key_id(&self.key_id)
            .plaintext(Blob::new(plain))
            .encryption_context(ENCRYPTION_CONTEXT_KEY, context)
            .send()
            .await
            .map_err(|e| {
                let code = code(&e);
                match e.as_service_error() {
                    Some(s) if s.is_not_found_exception() => SealError::Key(format!(
                        "the KMS key {} does not exist (check MYRUNSTREAK_KMS_KEY_ID)",
                        self.key_id
                    )),
                    Some(s) if s.is_disabled_exception() || s.is_kms_invalid_state_exception() => {
                        SealError::Key(format!(
                            "the KMS key {} cannot be used now ({code})",
                            self.key_id
                        ))
                    }
                    _ => SealError::Remote(format!(
                        "KMS Encrypt with key {} failed: {code}",
                        self.key_id
                    )),
                }
            })?;
        let blob = out
            .ciphertext_blob()
            .ok_or_else(|| SealError::Remote("KMS Encrypt answered without a ciphertext".into()))?;
        Ok(Sealed {
            key: self.key_id.clone(),
            data: hex(blob.as_ref()),
        })
    }

    async fn open(&self, sealed: &Sealed, context: &str) -> Result<Vec<u8>, SealError> {
        let bytes = unhex(&sealed.data).ok_or_else(|| SealError::Corrupt(sealed.key.clone()))?;
        let out = self
            .client
            .decrypt()
            .key_id(&sealed.key)
            .ciphertext_blob(Blob::new(bytes))
            .encryption_context(ENCRYPTION_CONTEXT_KEY, context)
            .send()
            .await
            .map_err(|e| {
                let code = code(&e);
                match e.as_service_error() {
                    // another context, another key, or altered: KMS does not say which
                    Some(s)
                        if s.is_invalid_ciphertext_exception()
                            || s.is_incorrect_key_exception() =>
                    {
                        SealError::Corrupt(sealed.key.clone())
                    }
                    Some(s) if s.is_not_found_exception() => {
                        SealError::UnknownKey(sealed.key.clone())
                    }
                    Some(s) if s.is_disabled_exception() || s.is_kms_invalid_state_exception() => {
                        SealError::Key(format!(
                            "the KMS key {} cannot be used now ({code})",
                            sealed.key
                        ))
                    }
                    _ => SealError::Remote(format!(
                        "KMS Decrypt with key {} failed: {code}",
                        sealed.key
                    )),
                }
            })?;
        let plain = out
            .plaintext()
            .ok_or_else(|| SealError::Remote("KMS Decrypt answered without a plaintext".into()))?;
        Ok(plain.as_ref().to_vec())
    }

    fn current_key(&self) -> String {
        self.key_id.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_refuses_what_is_not_hex() {
        let bytes = [0u8, 1, 0xab, 0xff];
        assert_eq!(hex(&bytes), "0001abff");
        assert_eq!(unhex("0001abff").as_deref(), Some(&bytes[..]));
        assert_eq!(unhex("0001ABFF").as_deref(), Some(&bytes[..]));
        assert_eq!(unhex("abc"), None);
        assert_eq!(unhex("zz"), None);
        assert_eq!(unhex("é0"), None);
    }
}
