//! Builds the application's wiring for a command from the settings: the only choice made here is
//! the AWS token store, which lives in `myrunstreak-aws`.

use std::sync::Arc;

use anyhow::Result;
use myrunstreak_app::{Mirror, Settings, TokenStore, Wiring, local_token_store};

/// Where AWS is for the settings (`AWS_REGION`, `AWS_ENDPOINT_URL`, the default credential
/// chain).
fn aws_options(settings: &Settings) -> myrunstreak_aws::AwsOptions {
    myrunstreak_aws::AwsOptions {
        region: settings.aws_region.clone(),
        endpoint_url: settings.aws_endpoint_url.clone(),
        static_credentials: None,
    }
}

/// The token store the settings name.
pub async fn token_store(settings: &Settings) -> Result<Arc<dyn TokenStore>> {
    if let Some(local) = local_token_store(settings)? {
        return Ok(local);
    }
    let config = myrunstreak_aws::sdk_config(&aws_options(settings)).await;
    let client = myrunstreak_aws::secrets_client(&config);
    Ok(Arc::new(myrunstreak_aws::SecretsManagerTokenStore::new(
        client,
        settings.tokens_secret_id.clone(),
    )))
}

/// Settings, tokens, client and store, wired by the application layer.
/// Reminders to `mailto:` channels go through SES when `MYRUNSTREAK_MAIL_FROM` is set.
pub async fn wiring(settings: &Settings) -> Result<Wiring> {
    let mut wiring = Wiring::new(settings.clone(), token_store(settings).await?)?;
    if let Some(from) = &settings.mail_from {
        let ses =
            myrunstreak_aws::ses_client(&myrunstreak_aws::sdk_config(&aws_options(settings)).await);
        wiring = wiring.with_mailer(Arc::new(myrunstreak_aws::SesMailer::new(ses, from)));
    }
    Ok(wiring)
}

/// The database for reading.
pub fn read_store(settings: &Settings) -> Result<Mirror> {
    Ok(Mirror::open(&settings.duckdb_path)?)
}
