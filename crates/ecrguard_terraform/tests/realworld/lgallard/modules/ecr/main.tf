# Shaped like lgallard/terraform-aws-ecr (main.tf).
locals {
  image_scanning_configuration = var.scan_on_push == null ? [] : [{ scan_on_push = var.scan_on_push }]
  encryption_configuration     = var.encryption_type == "KMS" ? [{ encryption_type = "KMS", kms_key = var.kms_key }] : []
}

resource "aws_ecr_repository" "repo" {
  count                = var.prevent_destroy ? 0 : 1
  name                 = var.name
  image_tag_mutability = var.image_tag_mutability
  force_delete         = var.force_delete

  dynamic "image_scanning_configuration" {
    for_each = local.image_scanning_configuration
    content {
      scan_on_push = lookup(image_scanning_configuration.value, "scan_on_push", null)
    }
  }

  dynamic "encryption_configuration" {
    for_each = local.encryption_configuration
    content {
      encryption_type = lookup(encryption_configuration.value, "encryption_type", null)
      kms_key         = lookup(encryption_configuration.value, "kms_key", null)
    }
  }
  tags = var.tags
}

resource "aws_ecr_repository_policy" "policy" {
  count      = var.policy == null ? 0 : 1
  repository = var.prevent_destroy ? aws_ecr_repository.repo_protected[0].name : aws_ecr_repository.repo[0].name
  policy     = var.policy
}

resource "aws_ecr_lifecycle_policy" "lifecycle" {
  count      = var.lifecycle_policy == null ? 0 : 1
  repository = aws_ecr_repository.repo[0].name
  policy     = var.lifecycle_policy
}
