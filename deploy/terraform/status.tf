# The published status (status.json, badge.svg, streak.ics) in a bucket of its own, readable by
# anyone under status/: what a phone calendar subscribes to and a page embeds. Nothing private is
# in these files (the app's publish use-case keeps notes, ids and errors out, and tests it).
# Unset var.status_bucket_name (the default): nothing is published.
resource "aws_s3_bucket" "status" {
  #checkov:skip=CKV_AWS_18:server access logs would need another bucket for three public files that every sync replaces
  #checkov:skip=CKV2_AWS_62:nothing reacts to a publish
  #checkov:skip=CKV_AWS_144:the files are rebuilt by every sync from the DuckDB file; a replica would copy what the next sync rewrites
  #checkov:skip=CKV_AWS_21:each sync replaces the files with the current status; old versions would only keep stale ones
  #checkov:skip=CKV2_AWS_61:three small files replaced by every sync leave nothing to expire
  #checkov:skip=CKV_AWS_145:public files that anyone may read gain nothing from a KMS key; S3 encrypts them at rest (SSE-S3)
  #checkov:skip=CKV2_AWS_6:the bucket exists to be read publicly under status/ (its policy); ACLs stay blocked
  count  = var.status_bucket_name == "" ? 0 : 1
  bucket = var.status_bucket_name
}

resource "aws_s3_bucket_public_access_block" "status" {
  #checkov:skip=CKV_AWS_54:this bucket's policy makes status/* public on purpose (the published status); public ACLs stay blocked and ignored
  #checkov:skip=CKV_AWS_56:as above: the bucket serves the public status files, and only its own policy grants that
  count                   = length(aws_s3_bucket.status)
  bucket                  = aws_s3_bucket.status[0].id
  block_public_acls       = true
  ignore_public_acls      = true
  block_public_policy     = false
  restrict_public_buckets = false
}

data "aws_iam_policy_document" "status_public" {
  count = length(aws_s3_bucket.status)
  statement {
    sid       = "PublicStatusFiles"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.status[0].arn}/status/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
  }
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.status[0].arn,
      "${aws_s3_bucket.status[0].arn}/*",
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

resource "aws_s3_bucket_policy" "status" {
  count      = length(aws_s3_bucket.status)
  bucket     = aws_s3_bucket.status[0].id
  policy     = data.aws_iam_policy_document.status_public[0].json
  depends_on = [aws_s3_bucket_public_access_block.status]
}

# The sync role may write the three files and nothing else of that bucket.
data "aws_iam_policy_document" "status_write" {
  count = length(aws_s3_bucket.status)
  statement {
    sid       = "PublishStatus"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.status[0].arn}/status/*"]
  }
}

resource "aws_iam_role_policy" "sync_status" {
  count  = length(aws_s3_bucket.status)
  name   = "${local.name}-sync-status"
  role   = aws_iam_role.sync.id
  policy = data.aws_iam_policy_document.status_write[0].json
}

output "status_urls" {
  description = "The published status files (empty when var.status_bucket_name is unset)."
  value = [for f in ["status.json", "badge.svg", "streak.ics"] :
  "https://${aws_s3_bucket.status[0].bucket_regional_domain_name}/status/${f}" if length(aws_s3_bucket.status) > 0]
}
