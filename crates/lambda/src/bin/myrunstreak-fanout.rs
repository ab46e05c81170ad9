//! The site's fan-out Lambda, for an EventBridge Scheduler schedule: one SQS message per runner
//! due.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use myrunstreak_lambda::{FanOut, SiteDeps, handle_fanout, init_json_logging};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let deps = SiteDeps::from_vars(&std::env::vars().collect())?;
    init_json_logging(&deps.settings.log_level);
    let fanout = FanOut::from_deps(&deps).await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let fanout = &fanout;
        async move { handle_fanout(fanout, event).await }
    }))
    .await
}
