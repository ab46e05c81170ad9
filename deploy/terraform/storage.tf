# The DuckDB file: versioned (every sync's upload can be rolled back for var.db_version_days),
# encrypted, private, reachable over TLS only.
resource "aws_s3_bucket" "data" {
  #checkov:skip=CKV_AWS_18:server access logs would need a second bucket, itself flagged by these same checks, to log the requests of the only principals iam.tf lets in: the two functions' roles
  #checkov:skip=CKV2_AWS_62:nothing reacts to an upload: the sync is the only writer and the API reads the object when asked
  #checkov:skip=CKV_AWS_144:the file is a mirror of SmashRun, which stays the source of truth (a full sync rebuilds it) and versioning undoes a bad upload; a replica in a second region would double the cost for neither
  bucket = var.bucket_name
}

resource "aws_s3_bucket_versioning" "data" {
  bucket = aws_s3_bucket.data.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "data" {
  bucket = aws_s3_bucket.data.id
  rule {
    apply_server_side_encryption_by_default {
      # SSE-KMS with S3's AWS managed key (aws/s3): usable by the roles without a key policy of
      # ours, and every decryption shows in CloudTrail; the bucket key keeps KMS requests (and
      # their cost) to a few a day
      sse_algorithm = "aws:kms"
    }
    bucket_key_enabled = true
  }
}

# Each sync's upload becomes the current version: the replaced ones are kept for
# var.db_version_days, not forever.
resource "aws_s3_bucket_lifecycle_configuration" "data" {
  bucket = aws_s3_bucket.data.id
  rule {
    id     = "expire-replaced-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = var.db_version_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

resource "aws_s3_bucket_public_access_block" "data" {
  bucket                  = aws_s3_bucket.data.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

data "aws_iam_policy_document" "tls_only" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.data.arn,
      "${aws_s3_bucket.data.arn}/*",
    ]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "data" {
  bucket = aws_s3_bucket.data.id
  policy = data.aws_iam_policy_document.tls_only.json
}

# Values are seeded by people (auth login --token-store aws), never by Terraform.
resource "aws_secretsmanager_secret" "tokens" {
  #checkov:skip=CKV_AWS_149:Secrets Manager's AWS managed key encrypts it; only the sync role reads it (iam.tf), and a CMK would add a key a month and KMS grants for the operator's `auth login` but no separation IAM does not already give
  #checkov:skip=CKV2_AWS_57:the sync rotates these itself: every token refresh writes the new tokens back (PutSecretValue), which a rotation function would race
  name        = var.tokens_secret_name
  description = "SmashRun tokens of the runner (access_token, refresh_token, expires_at)."
}

resource "aws_secretsmanager_secret" "client" {
  #checkov:skip=CKV_AWS_149:Secrets Manager's AWS managed key encrypts it; only the sync role reads it (iam.tf), and a CMK would add a key a month but no separation IAM does not already give
  #checkov:skip=CKV2_AWS_57:SmashRun issues the app's client id and secret by hand; there is no API a rotation function could call to change them
  name        = var.client_secret_name
  description = "SmashRun app credentials (client_id, client_secret)."
}

resource "aws_secretsmanager_secret" "notify" {
  #checkov:skip=CKV_AWS_149:Secrets Manager's AWS managed key encrypts it; only the sync role reads it (iam.tf), and a CMK would add a key a month but no separation IAM does not already give
  #checkov:skip=CKV2_AWS_57:the runner sets the channel's URL by hand (an ntfy topic, a webhook); there is nothing a rotation function could change
  name        = var.notify_secret_name
  description = "Reminder channels of the runner: {\"notify_url\": \"ntfy://ntfy.sh/topic,https://...\"}."
}

resource "aws_secretsmanager_secret" "api_token" {
  #checkov:skip=CKV_AWS_149:Secrets Manager's AWS managed key encrypts it; only the API role reads it (iam.tf), and a CMK would add a key a month but no separation IAM does not already give
  #checkov:skip=CKV2_AWS_57:the runner sets the bearer token by hand and puts it in their own scripts; a rotation function would break them without telling
  name        = var.api_token_secret_name
  description = "Bearer token of the API's one write, POST /api/v1/ledger: {\"api_token\": \"...\"}. Unset value: writes stay disabled."
}
