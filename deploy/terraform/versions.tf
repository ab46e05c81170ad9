terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

provider "aws" {
  region = var.aws_region
  default_tags {
    tags = {
      Project     = "myrunstreak"
      Environment = var.environment
    }
  }
}

locals {
  name       = "myrunstreak-${var.environment}"
  object_arn = "${aws_s3_bucket.data.arn}/${var.db_key}"
}
