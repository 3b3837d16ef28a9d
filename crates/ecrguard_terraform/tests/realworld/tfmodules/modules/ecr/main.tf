# Shaped like terraform-aws-modules/terraform-aws-ecr (main.tf, v2/v3).
data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}

locals {
  create_private_repository = var.create && var.create_repository && var.repository_type == "private"
}

resource "aws_ecr_repository" "this" {
  count = local.create_private_repository ? 1 : 0

  name                 = var.repository_name
  image_tag_mutability = var.repository_image_tag_mutability

  encryption_configuration {
    encryption_type = var.repository_encryption_type
    kms_key         = var.repository_kms_key
  }

  force_delete = var.repository_force_delete

  image_scanning_configuration {
    scan_on_push = var.repository_image_scan_on_push
  }

  tags = var.tags
}

data "aws_iam_policy_document" "repository" {
  count = var.create && var.create_repository && var.create_repository_policy ? 1 : 0

  dynamic "statement" {
    for_each = var.repository_type == "public" ? [1] : []
    content {
      sid = "PublicReadOnly"
      principals {
        type        = "AWS"
        identifiers = coalescelist(var.repository_read_access_arns, ["*"])
      }
      actions = ["ecr-public:BatchGetImage", "ecr-public:GetDownloadUrlForLayer"]
    }
  }

  dynamic "statement" {
    for_each = var.repository_type == "private" ? [1] : []
    content {
      sid = "PrivateReadOnly"
      principals {
        type = "AWS"
        identifiers = coalescelist(
          concat(var.repository_read_access_arns, var.repository_read_write_access_arns),
          ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"],
        )
      }
      actions = [
        "ecr:GetAuthorizationToken",
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchGetImage",
        "ecr:DescribeImageScanFindings",
        "ecr:DescribeImages",
        "ecr:DescribeRepositories",
        "ecr:GetDownloadUrlForLayer",
        "ecr:GetLifecyclePolicy",
        "ecr:GetLifecyclePolicyPreview",
        "ecr:GetRepositoryPolicy",
        "ecr:ListImages",
        "ecr:ListTagsForResource",
      ]
    }
  }

  dynamic "statement" {
    for_each = var.repository_type == "private" && length(var.repository_lambda_read_access_arns) > 0 ? [1] : []
    content {
      sid = "PrivateLambdaReadOnly"
      principals {
        type        = "Service"
        identifiers = ["lambda.amazonaws.com"]
      }
      actions = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
      condition {
        test     = "StringLike"
        variable = "aws:sourceArn"
        values   = var.repository_lambda_read_access_arns
      }
    }
  }

  dynamic "statement" {
    for_each = length(var.repository_read_write_access_arns) > 0 && var.repository_type == "private" ? [var.repository_read_write_access_arns] : []
    content {
      sid = "ReadWrite"
      principals {
        type        = "AWS"
        identifiers = statement.value
      }
      actions = ["ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload"]
    }
  }
}

resource "aws_ecr_repository_policy" "this" {
  count = local.create_private_repository && var.attach_repository_policy ? 1 : 0

  repository = aws_ecr_repository.this[0].name
  policy     = var.create_repository_policy ? data.aws_iam_policy_document.repository[0].json : var.repository_policy
}

resource "aws_ecr_lifecycle_policy" "this" {
  count = local.create_private_repository && var.create_lifecycle_policy ? 1 : 0

  repository = aws_ecr_repository.this[0].name
  policy     = var.repository_lifecycle_policy
}

output "repository_name" {
  value = try(aws_ecr_repository.this[0].name, null)
}
