//! Builds the application's wiring for a command from the settings: the only choice made here is
//! the AWS token store, which lives in `myrunstreak-aws`.

use std::sync::Arc;

use anyhow::Result;
use myrunstreak_app::{Mirror, Settings, TokenStore, Wiring, local_token_store};

/// The token store the settings name.
pub async fn token_store(settings: &Settings) -> Result<Arc<dyn TokenStore>> {
    if let Some(local) = local_token_store(settings)? {
        return Ok(local);
    }
    let options = myrunstreak_aws::AwsOptions {
        region: settings.aws_region.clone(),
        endpoint_url: settings.aws_endpoint_url.clone(),
        static_credentials: None,
    };
    let config = myrunstreak_aws::sdk_config(&options).await;
    let client = myrunstreak_aws::secrets_client(&config);
    Ok(Arc::new(myrunstreak_aws::SecretsManagerTokenStore::new(
        client,
        settings.tokens_secret_id.clone(),
    )))
}

/// Settings, tokens, client and store, wired by the application layer.
pub async fn wiring(settings: &Settings) -> Result<Wiring> {
    Ok(Wiring::new(settings.clone(), token_store(settings).await?)?)
}

/// The database for reading.
pub fn read_store(settings: &Settings) -> Result<Mirror> {
    Ok(Mirror::open(&settings.duckdb_path)?)
}
