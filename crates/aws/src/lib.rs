//! AWS adapters for MyRunStreak: the runner's tokens in Secrets Manager, the DuckDB file in S3
//! with conditional writes so that two overlapping writers never lose an update, and reminders by
//! mail through SES. For the many-runner site: the accounts in DynamoDB ([`DynamoAccounts`]),
//! tokens sealed by KMS ([`KmsSealer`]), the queue of runners to sync in SQS ([`RunnerQueue`]),
//! the runners' mirrors in S3 with a bounded local cache and conditional writes
//! ([`S3Mirrors`]), and the removal of every version of a runner's objects
//! ([`delete_runner_objects`]).
//!
//! All speak to AWS through the real `aws-sdk-*` clients; tests point them at a local emulator
//! with an endpoint override. Nothing here logs a token, and errors carry AWS's error codes, not
//! its messages or the data.
//!
//! What it may not do: know the store or the SmashRun client (it implements the application's
//! ports and moves files), or hold any rule of the product.

mod dynamo;
mod kms;
mod mirrors;
mod s3;
mod secrets;
mod ses;
mod sqs;

use aws_config::BehaviorVersion;
use aws_sdk_s3::config::{Credentials, Region};

pub use aws_config::SdkConfig;
pub use aws_sdk_s3::Client as S3Client;
pub use dynamo::{
    DynamoAccounts, PARTITION_KEY, RUNNERS_INDEX, RUNNERS_INDEX_KEY, RUNNERS_INDEX_SORT, SORT_KEY,
    TTL_ATTRIBUTE,
};
pub use kms::{ENCRYPTION_CONTEXT_KEY, KmsSealer};
pub use mirrors::{S3Mirrors, plausible_runner_id, runner_key, runner_prefix};
pub use s3::{DatabaseObject, S3Error, StatusPrefix, delete_runner_objects};
pub use secrets::{
    ClientCredentials, SecretsManagerTokenStore, load_client_credentials, load_secret_field,
};
pub use ses::SesMailer;
pub use sqs::{Enqueued, FailedJob, JobError, RunnerJob, RunnerQueue};

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

/// A DynamoDB client (the site's accounts).
pub fn dynamodb_client(config: &aws_config::SdkConfig) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(config)
}

/// A KMS client (sealing the site's tokens).
pub fn kms_client(config: &aws_config::SdkConfig) -> aws_sdk_kms::Client {
    aws_sdk_kms::Client::new(config)
}

/// An SQS client (the queue of runners to sync).
pub fn sqs_client(config: &aws_config::SdkConfig) -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::new(config)
}
