terraform {
  # Tested with 1.11; nothing here needs a newer language feature than 1.5.
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # What the tests apply (5.100.x, patch releases only). .terraform.lock.hcl pins the exact
      # release and its checksums; widen this only with a tested lock (`make tf-lock`).
      version = "~> 5.100.0"
    }
  }
}

provider "aws" {
  region = var.aws_region

  default_tags {
    tags = merge(
      {
        Project     = "sentiment-dashboard"
        Environment = var.environment
        ManagedBy   = "terraform"
      },
      var.tags,
    )
  }
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}
