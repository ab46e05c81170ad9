output "api_url" {
  description = "The API and dashboard URL."
  value       = aws_apigatewayv2_stage.default.invoke_url
}

output "bucket" {
  description = "The bucket holding the DuckDB file."
  value       = aws_s3_bucket.data.bucket
}

output "sync_function" {
  description = "The daily sync function (invoke it by hand with `aws lambda invoke`)."
  value       = aws_lambda_function.sync.function_name
}

output "tokens_secret" {
  description = "The secret to seed with `myrunstreak auth login --token-store aws`."
  value       = aws_secretsmanager_secret.tokens.name
}

output "site_url" {
  description = "MyRunStreak.com's address (the site's HTTP API, or var.site_url); register {site_url}/auth/callback as the SmashRun app's redirect URI."
  value       = local.site_url
}

output "site_admin_secret" {
  description = "The secret holding the operator's bearer token for /admin ({\"admin_token\": \"...\"})."
  value       = aws_secretsmanager_secret.site_admin.name
}
