variable "aws_region" {
  description = "AWS region for every resource."
  type        = string
  default     = "us-east-1"
}

variable "environment" {
  description = "Deployment name (dev, prod); part of every resource name."
  type        = string
  default     = "prod"
}

variable "bucket_name" {
  description = "Name of the S3 bucket that holds the DuckDB file (globally unique)."
  type        = string
}

variable "db_key" {
  description = "Key of the DuckDB file in the bucket."
  type        = string
  default     = "runs.duckdb"
}

variable "tokens_secret_name" {
  description = "Secrets Manager secret with access_token, refresh_token and expires_at (seeded by `myrunstreak auth login --token-store aws`)."
  type        = string
  default     = "myrunstreak/smashrun/tokens"
}

variable "client_secret_name" {
  description = "Secrets Manager secret with the SmashRun app's client_id and client_secret."
  type        = string
  default     = "myrunstreak/smashrun/client"
}

variable "sync_schedule" {
  description = "EventBridge schedule of the daily sync (UTC)."
  type        = string
  default     = "cron(0 11 * * ? *)"
}

variable "lambda_architecture" {
  description = "Instruction set of both functions: x86_64 by default, because scripts/build-lambda builds x86_64 zips (our build machines only have the x86_64 Rust standard library, so they cannot build arm64); arm64 (Graviton) for zips built elsewhere with `cargo lambda build --arm64`."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.lambda_architecture)
    error_message = "lambda_architecture must be \"x86_64\" or \"arm64\"."
  }
}

variable "sync_zip" {
  description = "Path of the sync function's zip (bootstrap inside), built for var.lambda_architecture by scripts/build-lambda, which prints it (`~` is expanded; under $CARGO_TARGET_DIR/lambda when that is set)."
  type        = string
  default     = "~/.cache/myrunstreak/lambda-target/lambda/myrunstreak-sync/bootstrap.zip"
}

variable "api_zip" {
  description = "Path of the API function's zip (bootstrap inside), built like sync_zip by scripts/build-lambda."
  type        = string
  default     = "~/.cache/myrunstreak/lambda-target/lambda/myrunstreak-api/bootstrap.zip"
}

variable "api_concurrency" {
  description = "Most API function instances running at once (reserved concurrency): the read endpoints are public, so this bounds what a flood of requests can cost."
  type        = number
  default     = 10
}

variable "db_version_days" {
  description = "Days a replaced version of the DuckDB file is kept (each sync's upload replaces the last) before it is deleted: how far back a bad upload can be rolled back."
  type        = number
  default     = 90
}

variable "log_retention_days" {
  description = "Days to keep the functions' logs."
  type        = number
  default     = 30
}

variable "alarm_email" {
  description = "Where alarms are sent (an SNS email subscription); empty for none."
  type        = string
  default     = ""
}

variable "streak_rule" {
  description = "Streak rule of the API (usrsa, continuous, any, or a minimum such as 2km)."
  type        = string
  default     = "usrsa"
}

variable "home_timezone" {
  description = "IANA zone to anchor run days to; empty for each run's local clock."
  type        = string
  default     = ""
}

variable "remind_at" {
  description = "Local times (HH:MM) in home_timezone at which the sync function runs `remind --at-due`: a message when today's run is still missing. Empty (the default): no reminders. The channels are the notify_url of the notify secret."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for t in var.remind_at : can(regex("^([01][0-9]|2[0-3]):[0-5][0-9]$", t))])
    error_message = "remind_at holds local times such as \"18:00\" or \"21:30\"."
  }
}

variable "notify_secret_name" {
  description = "Secrets Manager secret whose notify_url holds the reminder channels (ntfy or webhook URLs, comma-separated): the URL can carry a topic or token, so it is not in the environment."
  type        = string
  default     = "myrunstreak/notify"
}

variable "api_token_secret_name" {
  description = "Secrets Manager secret whose api_token is the bearer token of POST /api/v1/ledger (the API's one write, made through the same conditional S3 write as the sync)."
  type        = string
  default     = "myrunstreak/api-token"
}

variable "mail_from" {
  description = "Sender address for reminders to mailto: channels, sent through Amazon SES. Set it to create the SES identity (SES mails the address a verification link) and let the sync send from it alone. Empty (the default): no SES, and mailto: channels fail with that reason."
  type        = string
  default     = ""

  validation {
    condition     = var.mail_from == "" || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.mail_from))
    error_message = "mail_from is an email address such as streak@example.com, or empty."
  }
}

variable "status_bucket_name" {
  description = "A bucket of its own where each sync publishes status.json, badge.svg and streak.ics under status/, readable by anyone (nothing private is in them). Empty (the default): nothing is published."
  type        = string
  default     = ""
}

variable "fanout_zip" {
  description = "Path of the site's fan-out function's zip (bootstrap inside), built like sync_zip by scripts/build-lambda."
  type        = string
  default     = "~/.cache/myrunstreak/lambda-target/lambda/myrunstreak-fanout/bootstrap.zip"
}

variable "worker_zip" {
  description = "Path of the site's worker function's zip (bootstrap inside), built like sync_zip by scripts/build-lambda."
  type        = string
  default     = "~/.cache/myrunstreak/lambda-target/lambda/myrunstreak-worker/bootstrap.zip"
}

variable "site_fanout_schedule" {
  description = "EventBridge Scheduler expression of the site's fan-out: how often the runners due are enqueued, syncs and reminders alike (a reminder goes out at most this long after its time)."
  type        = string
  default     = "rate(15 minutes)"
}

variable "site_sync_every_minutes" {
  description = "How often each runner of the site is synced, in minutes (MYRUNSTREAK_SITE_SYNC_EVERY_MINUTES)."
  type        = number
  default     = 60

  validation {
    condition     = var.site_sync_every_minutes >= 15
    error_message = "site_sync_every_minutes is at least 15: SmashRun's rate limits are shared by all runners."
  }
}

variable "worker_concurrency" {
  description = "The site's global limit on syncs at once: the worker's reserved concurrency, and the most the queue's event source mapping may run (at least 2, as SQS scaling requires)."
  type        = number
  default     = 4

  validation {
    condition     = var.worker_concurrency >= 2 && var.worker_concurrency <= 1000
    error_message = "worker_concurrency is between 2 and 1000 (the event source mapping's maximum_concurrency bounds)."
  }
}

variable "worker_batch_size" {
  description = "Runners per worker invocation, synced one after the other within the function's 900 s."
  type        = number
  default     = 2

  validation {
    condition     = var.worker_batch_size >= 1 && var.worker_batch_size <= 10
    error_message = "worker_batch_size is between 1 and 10."
  }
}

variable "worker_max_receives" {
  description = "Tries of a runner's message before it is moved to the dead-letter queue (and the alarm fires)."
  type        = number
  default     = 3
}

variable "site_zip" {
  description = "Path of the site's web function's zip (bootstrap inside), built like sync_zip by scripts/build-lambda."
  type        = string
  default     = "~/.cache/myrunstreak/lambda-target/lambda/myrunstreak-site/bootstrap.zip"
}

variable "site_url" {
  description = "The site's public address (MYRUNSTREAK_SITE_URL; SmashRun sends runners back to {site_url}/auth/callback). Empty: the HTTP API's own URL."
  type        = string
  default     = ""
}

variable "site_concurrency" {
  description = "The site function's reserved concurrency: the most requests it answers at once."
  type        = number
  default     = 10
}

variable "site_throttle_rate" {
  description = "Requests per second the site's HTTP API lets through (steady rate, all callers together)."
  type        = number
  default     = 50
}

variable "site_throttle_burst" {
  description = "Requests the site's HTTP API lets through in a burst."
  type        = number
  default     = 100
}

variable "site_mirror_check_seconds" {
  description = "How often the site function checks a cached runner's mirror against S3 (MYRUNSTREAK_MIRROR_CHECK_SECONDS)."
  type        = number
  default     = 30
}

variable "site_mirror_copies" {
  description = "How many runners' mirrors one instance of the site function keeps in /tmp (MYRUNSTREAK_MIRROR_COPIES), and how many runners' routers it keeps in memory."
  type        = number
  default     = 50
}

variable "site_max_runners" {
  description = "The cap on sign-ups (MYRUNSTREAK_MAX_RUNNERS)."
  type        = number
  default     = 1000
}
