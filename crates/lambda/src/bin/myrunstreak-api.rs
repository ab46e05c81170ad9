//! The API Lambda, behind API Gateway (HTTP API, payload v2).

use std::time::Duration;

use lambda_http::Error;
use myrunstreak_lambda::{Deps, api_router, init_json_logging};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let deps = Deps::from_env()?;
    init_json_logging(&deps.settings.log_level);
    let router = api_router(&deps, Duration::from_secs(60)).await?;
    lambda_http::run(router).await
}
