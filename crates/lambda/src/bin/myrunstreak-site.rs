//! MyRunStreak.com's web Lambda, behind API Gateway (HTTP API, payload v2): sign-in, the
//! runners' pages and APIs, the account, `/admin`.

use std::sync::Arc;

use jiff::Timestamp;
use lambda_http::Error;
use myrunstreak_lambda::{SiteDeps, init_json_logging, site_web_router};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let deps = SiteDeps::from_vars(&std::env::vars().collect())?;
    init_json_logging(&deps.settings.log_level);
    let router = site_web_router(&deps, Arc::new(Timestamp::now)).await?;
    lambda_http::run(router).await
}
