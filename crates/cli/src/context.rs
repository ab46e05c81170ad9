//! Builds the adapters a command needs from the settings.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use jiff::Timestamp;
use myrunstreak_app::{
    EnvTokenStore, FileTokenStore, Settings, StoredTokens, TokenStore, TokenStoreKind,
};
use myrunstreak_store::Store;
use smashrun_client::{ClientConfig, OAuthClient, OAuthConfig, SmashRunClient};

/// The HTTP client for SmashRun.
pub fn http() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .user_agent(concat!("myrunstreak/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(10))
        .build()
        .context("building the HTTP client")
}

/// The token store the settings name.
pub async fn token_store(settings: &Settings) -> Result<Arc<dyn TokenStore>> {
    Ok(match settings.token_store {
        TokenStoreKind::File => Arc::new(FileTokenStore::new(
            &settings.token_file,
            settings.allow_insecure_token_file,
        )),
        TokenStoreKind::Env => {
            if settings.access_token.is_none() {
                bail!("MYRUNSTREAK_TOKEN_STORE=env but SMASHRUN_ACCESS_TOKEN is not set");
            }
            Arc::new(EnvTokenStore::new(
                settings.access_token.clone(),
                settings.refresh_token.clone(),
            ))
        }
        TokenStoreKind::Aws => {
            let options = myrunstreak_aws::AwsOptions {
                region: settings.aws_region.clone(),
                endpoint_url: settings.aws_endpoint_url.clone(),
                static_credentials: None,
            };
            let config = myrunstreak_aws::sdk_config(&options).await;
            let client = myrunstreak_aws::secrets_client(&config);
            Arc::new(myrunstreak_aws::SecretsManagerTokenStore::new(
                client,
                settings.tokens_secret_id.clone(),
            ))
        }
    })
}

/// The OAuth client, or an error that says how to register an app.
pub fn oauth(settings: &Settings, http: reqwest::Client) -> Result<OAuthClient> {
    let config = OAuthConfig {
        oauth_url: settings.oauth_url.clone(),
        api_url: settings.api_url.clone(),
        client_id: settings.client_id.clone(),
        client_secret: settings.client_secret.clone(),
        redirect_uri: settings.redirect_uri.clone(),
        pkce: settings.pkce,
    };
    Ok(OAuthClient::new(config, http)?)
}

/// Tokens from the store, refreshed through OAuth when the client id is configured.
pub async fn provider(settings: &Settings, http: reqwest::Client) -> Result<Arc<StoredTokens>> {
    let store = token_store(settings).await?;
    let oauth = oauth(settings, http).ok();
    Ok(Arc::new(StoredTokens::new(
        store,
        oauth,
        Arc::new(Timestamp::now),
    )))
}

/// The SmashRun API client.
pub fn smashrun(
    settings: &Settings,
    http: reqwest::Client,
    tokens: Arc<StoredTokens>,
) -> SmashRunClient {
    let config = ClientConfig::new(settings.api_url.clone()).with_home_zone(settings.home_zone());
    SmashRunClient::new(http, config, tokens)
}

/// The database for reading.
pub fn read_store(settings: &Settings) -> Result<Store> {
    Ok(Store::open_read_only(&settings.duckdb_path)?)
}
