//! The site's worker Lambda, for the SQS queue of runners: each message syncs one runner into
//! their own S3 object; the answer names the messages that failed (partial batch response).

use lambda_runtime::{Error, LambdaEvent, service_fn};
use myrunstreak_lambda::{SiteDeps, Worker, handle_worker, init_json_logging};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let deps = SiteDeps::from_vars(&std::env::vars().collect())?;
    init_json_logging(&deps.settings.log_level);
    let worker = Worker::from_deps(&deps).await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let worker = &worker;
        async move { handle_worker(worker, event).await }
    }))
    .await
}
