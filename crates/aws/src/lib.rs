//! AWS adapters for MyRunStreak: the runner's tokens in Secrets Manager, the DuckDB file in S3
//! with conditional writes so that two overlapping writers never lose an update, and reminders by
//! mail through SES.
//!
//! Both speak to AWS through the real `aws-sdk-*` clients; tests point them at a local emulator
//! with an endpoint override. Nothing here logs a token.
//!
//! What it may not do: know the store or the SmashRun client (it implements the application's
//! `TokenStore` port and moves files), or hold any rule of the product.

mod s3;
mod secrets;
mod ses;

use aws_config::BehaviorVersion;
use aws_sdk_s3::config::{Credentials, Region};

pub use s3::{DatabaseObject, S3Error, StatusPrefix};
pub use secrets::{
    ClientCredentials, SecretsManagerTokenStore, load_client_credentials, load_secret_field,
};
pub use ses::SesMailer;

/// Where AWS is.
#[derive(Clone, Debug, Default)]
pub struct AwsOptions {
    /// The region (`AWS_REGION`).
    pub region: String,
    /// An endpoint override (`AWS_ENDPOINT_URL`), for a local emulator.
    pub endpoint_url: Option<String>,
    /// Fixed credentials instead of the default chain (tests).
    pub static_credentials: Option<(String, String)>,
}

/// The SDK configuration for `options`: the default credential chain (Lambda's role, the
/// environment, profiles) unless fixed credentials are given.
pub async fn sdk_config(options: &AwsOptions) -> aws_config::SdkConfig {
    let mut loader =
        aws_config::defaults(BehaviorVersion::latest()).region(Region::new(options.region.clone()));
    if let Some(url) = &options.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    if let Some((id, secret)) = &options.static_credentials {
        loader = loader.credentials_provider(Credentials::new(
            id,
            secret,
            None,
            None,
            "myrunstreak-static",
        ));
    }
    loader.load().await
}

/// An S3 client; path-style addressing when an endpoint override is set (emulators want it).
pub fn s3_client(config: &aws_config::SdkConfig, options: &AwsOptions) -> aws_sdk_s3::Client {
    let s3 = aws_sdk_s3::config::Builder::from(config)
        .force_path_style(options.endpoint_url.is_some())
        .build();
    aws_sdk_s3::Client::from_conf(s3)
}

/// An SES (API v2) client, for reminders by mail.
pub fn ses_client(config: &aws_config::SdkConfig) -> aws_sdk_sesv2::Client {
    aws_sdk_sesv2::Client::new(config)
}

/// A Secrets Manager client.
pub fn secrets_client(config: &aws_config::SdkConfig) -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::new(config)
}
