# ecrguard guardrail, one member account: what deploy/cloudformation/member-stackset.yaml
# makes. Instantiate once per region with a provider for that account and region; the IAM
# roles are made where `create_roles` is true (one region per account).

terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  partition     = data.aws_partition.current.partition
  account       = data.aws_caller_identity.current.account_id
  forwarder_arn = "arn:${local.partition}:iam::${local.account}:role/${var.forwarder_role_name}"
}

resource "aws_iam_role" "forwarder" {
  count = var.create_roles ? 1 : 0
  name  = var.forwarder_role_name
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = local.account } }
    }]
  })
}

resource "aws_iam_role_policy" "forwarder" {
  count = var.create_roles ? 1 : 0
  name  = "put-on-the-central-bus"
  role  = aws_iam_role.forwarder[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = "events:PutEvents"
      Resource = var.central_event_bus_arn
    }]
  })
}

resource "aws_cloudwatch_event_rule" "ecr" {
  name          = "ecrguard-forward-ecr-events"
  description   = "ECR calls that can change who can reach a repository, to the ecrguard bus"
  event_pattern = file("${path.module}/../../../docs/eventbridge-rule.json")
}

resource "aws_cloudwatch_event_target" "central_bus" {
  rule     = aws_cloudwatch_event_rule.ecr.name
  arn      = var.central_event_bus_arn
  role_arn = local.forwarder_arn
}

# ECR Public's API, and so its events, live in us-east-1 only.
resource "aws_cloudwatch_event_rule" "ecr_public" {
  count         = data.aws_region.current.name == "us-east-1" ? 1 : 0
  name          = "ecrguard-forward-ecr-public-events"
  description   = "ECR Public calls that can publish a repository or change who may push to it, to the ecrguard bus"
  event_pattern = file("${path.module}/../../../docs/eventbridge-rule-public.json")
}

resource "aws_cloudwatch_event_target" "central_bus_public" {
  count    = data.aws_region.current.name == "us-east-1" ? 1 : 0
  rule     = aws_cloudwatch_event_rule.ecr_public[0].name
  arn      = var.central_event_bus_arn
  role_arn = local.forwarder_arn
}

resource "aws_iam_role" "remediation" {
  count                = var.create_roles ? 1 : 0
  name                 = var.member_role_name
  max_session_duration = 3600
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { AWS = var.central_function_role_arn }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "sts:ExternalId" = var.external_id } }
    }]
  })
}

resource "aws_iam_role_policy" "remediation" {
  count = var.create_roles ? 1 : 0
  name  = "ecrguard-remediation"
  role  = aws_iam_role.remediation[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid    = "Read"
        Effect = "Allow"
        Action = [
          "ecr:DescribeRepositories",
          "ecr:GetRepositoryPolicy",
          "ecr:GetLifecyclePolicy",
          "ecr:ListTagsForResource",
          "ecr:DescribeImages",
          "ecr:GetRegistryPolicy",
          "ecr:GetRegistryScanningConfiguration",
          "ecr:DescribeRepositoryCreationTemplates",
          "ecr:DescribePullThroughCacheRules",
          "ecr:DescribeRegistry",
          "ecr-public:DescribeRepositories",
          "ecr-public:GetRepositoryPolicy",
          "sts:GetCallerIdentity",
        ]
        Resource = "*"
      },
      # ecrguard:ignore[ECR005] the remediation role must rewrite repository policies to take public statements out; only the central function's role may assume it, with the external id
      {
        Sid    = "Change"
        Effect = "Allow"
        Action = [
          "ecr:SetRepositoryPolicy",
          "ecr:DeleteRepositoryPolicy",
          "ecr:DeleteRepository",
          "ecr:PutImageTagMutability",
          "ecr:PutImageScanningConfiguration",
          "ecr:PutLifecyclePolicy",
          "ecr:DeleteLifecyclePolicy",
          "ecr:CreateRepository",
          "ecr:TagResource",
          "ecr:BatchDeleteImage",
        ]
        Resource = "arn:${local.partition}:ecr:*:${local.account}:repository/*"
      },
    ]
  })
}
