//! The daily sync Lambda, for an EventBridge scheduled event.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use myrunstreak_lambda::{Deps, handle_sync, init_json_logging};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let deps = Deps::from_env()?;
    init_json_logging(&deps.settings.log_level);
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let deps = deps.clone();
        async move { handle_sync(&deps, event).await }
    }))
    .await
}
