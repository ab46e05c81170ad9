//! Tokens in AWS Secrets Manager, as a JSON object with `access_token`, `refresh_token` and
//! `expires_at` (UTC, RFC 3339). Saving rewrites those keys only: whatever else the secret holds
//! is kept (the original implementation dropped it).

use async_trait::async_trait;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::ProvideErrorMetadata;
use jiff::Timestamp;
use myrunstreak_app::smashrun::{Secret, TokenSet};
use myrunstreak_app::{TokenStore, TokenStoreError};
use serde_json::{Map, Value, json};

/// The token keys this store owns inside the secret.
const TOKEN_KEYS: [&str; 5] = [
    "access_token",
    "refresh_token",
    "expires_at",
    "issued_at",
    "scope",
];

/// A [`TokenStore`] on one Secrets Manager secret.
#[derive(Clone, Debug)]
pub struct SecretsManagerTokenStore {
    client: Client,
    secret_id: String,
}

impl SecretsManagerTokenStore {
    /// The store on `secret_id` (default `myrunstreak/smashrun/tokens`).
    pub fn new(client: Client, secret_id: impl Into<String>) -> Self {
        SecretsManagerTokenStore {
            client,
            secret_id: secret_id.into(),
        }
    }

    fn remote(
        &self,
        what: &str,
        e: impl ProvideErrorMetadata + std::fmt::Display,
    ) -> TokenStoreError {
        let code = e.code().unwrap_or("unknown");
        TokenStoreError::Remote(format!(
            "Secrets Manager {what} of {}: {code}: {}",
            self.secret_id,
            e.message().unwrap_or("no message")
        ))
    }

    /// The secret's JSON object, or `None` when the secret does not exist.
    async fn object(&self) -> Result<Option<Map<String, Value>>, TokenStoreError> {
        match self
            .client
            .get_secret_value()
            .secret_id(&self.secret_id)
            .send()
            .await
        {
            Ok(out) => {
                let text = out.secret_string().unwrap_or("{}");
                match serde_json::from_str::<Value>(text) {
                    Ok(Value::Object(map)) => Ok(Some(map)),
                    _ => Err(TokenStoreError::Corrupt {
                        place: format!("secret {}", self.secret_id),
                        detail: "not a JSON object".into(),
                    }),
                }
            }
            Err(e) => {
                let service = e.into_service_error();
                if service.is_resource_not_found_exception() {
                    Ok(None)
                } else {
                    Err(self.remote("read", service))
                }
            }
        }
    }

    async fn write(&self, object: Map<String, Value>, exists: bool) -> Result<(), TokenStoreError> {
        let text = Value::Object(object).to_string();
        if exists {
            self.client
                .put_secret_value()
                .secret_id(&self.secret_id)
                .secret_string(text)
                .send()
                .await
                .map_err(|e| self.remote("write", e.into_service_error()))?;
        } else {
            self.client
                .create_secret()
                .name(&self.secret_id)
                .secret_string(text)
                .send()
                .await
                .map_err(|e| self.remote("creation", e.into_service_error()))?;
        }
        Ok(())
    }
}

#[async_trait]
impl TokenStore for SecretsManagerTokenStore {
    async fn load(&self) -> Result<Option<TokenSet>, TokenStoreError> {
        let Some(object) = self.object().await? else {
            return Ok(None);
        };
        let text = |k: &str| {
            object
                .get(k)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let Some(access) = text("access_token") else {
            return Ok(None);
        };
        let corrupt = |detail: String| TokenStoreError::Corrupt {
            place: format!("secret {}", self.secret_id),
            detail,
        };
        let expires_at: Timestamp = text("expires_at")
            .ok_or_else(|| corrupt("expires_at is missing".into()))?
            .parse()
            .map_err(|_| corrupt("expires_at is not an RFC 3339 instant".into()))?;
        Ok(Some(TokenSet {
            access_token: Secret::new(access),
            refresh_token: text("refresh_token").map(Secret::new),
            expires_at,
            issued_at: text("issued_at").and_then(|t| t.parse().ok()),
            scope: text("scope"),
        }))
    }

    async fn save(&self, tokens: &TokenSet) -> Result<(), TokenStoreError> {
        let current = self.object().await?;
        let exists = current.is_some();
        let mut object = current.unwrap_or_default();
        object.insert("access_token".into(), json!(tokens.access_token.expose()));
        match &tokens.refresh_token {
            Some(r) => object.insert("refresh_token".into(), json!(r.expose())),
            None => object.remove("refresh_token"),
        };
        object.insert("expires_at".into(), json!(tokens.expires_at.to_string()));
        match tokens.issued_at {
            Some(t) => object.insert("issued_at".into(), json!(t.to_string())),
            None => object.remove("issued_at"),
        };
        if let Some(scope) = &tokens.scope {
            object.insert("scope".into(), json!(scope));
        }
        self.write(object, exists).await
    }

    async fn clear(&self) -> Result<(), TokenStoreError> {
        let Some(mut object) = self.object().await? else {
            return Ok(());
        };
        for key in TOKEN_KEYS {
            object.remove(key);
        }
        self.write(object, true).await
    }

    fn describe(&self) -> String {
        format!("AWS Secrets Manager secret {}", self.secret_id)
    }
}

/// The SmashRun app's credentials, kept in their own secret.
#[derive(Clone, Debug)]
pub struct ClientCredentials {
    /// `client_id`.
    pub client_id: String,
    /// `client_secret`.
    pub client_secret: Secret,
}

/// Reads `{"client_id", "client_secret"}` from `secret_id`.
pub async fn load_client_credentials(
    client: &Client,
    secret_id: &str,
) -> Result<ClientCredentials, TokenStoreError> {
    let store = SecretsManagerTokenStore::new(client.clone(), secret_id);
    let object = store.object().await?.ok_or_else(|| {
        TokenStoreError::Remote(format!(
            "the secret {secret_id} with the SmashRun client credentials does not exist"
        ))
    })?;
    let field = |k: &str| {
        object
            .get(k)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| TokenStoreError::Corrupt {
                place: format!("secret {secret_id}"),
                detail: format!("{k} is missing"),
            })
    };
    Ok(ClientCredentials {
        client_id: field("client_id")?,
        client_secret: Secret::new(field("client_secret")?),
    })
}

/// Reads the string `field` of the JSON secret `secret_id`, such as `{"notify_url": "…"}`.
pub async fn load_secret_field(
    client: &Client,
    secret_id: &str,
    field: &str,
) -> Result<Secret, TokenStoreError> {
    let store = SecretsManagerTokenStore::new(client.clone(), secret_id);
    let object = store
        .object()
        .await?
        .ok_or_else(|| TokenStoreError::Remote(format!("the secret {secret_id} does not exist")))?;
    object
        .get(field)
        .and_then(Value::as_str)
        .map(Secret::new)
        .ok_or_else(|| TokenStoreError::Corrupt {
            place: format!("secret {secret_id}"),
            detail: format!("{field} is missing"),
        })
}
