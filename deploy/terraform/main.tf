# ecrguard guardrail, central account: what deploy/cloudformation/central.yaml makes, as a
# Terraform module. Members use ./member (one instance per account and region).

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

locals {
  partition = data.aws_partition.current.partition
  account   = data.aws_caller_identity.current.account_id
  # The ECR calls the handler makes (docs/enforce-iam-policy.json): reads, then changes.
  ecr_read = [
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
  ]
  ecr_change = [
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
}

resource "aws_cloudwatch_event_bus" "ecrguard" {
  name = "ecrguard"
}

# Only the organization's accounts may put events on the bus.
resource "aws_cloudwatch_event_bus_policy" "organization" {
  event_bus_name = aws_cloudwatch_event_bus.ecrguard.name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "EcrguardOrganization"
      Effect    = "Allow"
      Principal = "*"
      Action    = "events:PutEvents"
      Resource  = aws_cloudwatch_event_bus.ecrguard.arn
      Condition = { StringEquals = { "aws:PrincipalOrgID" = var.organization_id } }
    }]
  })
}

resource "aws_sqs_queue" "dead_letter" {
  name                      = "ecrguard-dead-letter"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
}

resource "aws_sqs_queue" "events" {
  name = "ecrguard-events"
  # Six times the function's timeout, as Lambda asks of an event source queue.
  visibility_timeout_seconds = 1800
  sqs_managed_sse_enabled    = true
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dead_letter.arn
    maxReceiveCount     = 5
  })
}

resource "aws_cloudwatch_event_rule" "ecr" {
  name           = "ecrguard-ecr-events"
  event_bus_name = aws_cloudwatch_event_bus.ecrguard.name
  description    = "ECR calls that can change who can reach a repository"
  event_pattern  = file("${path.module}/../../docs/eventbridge-rule.json")
}

resource "aws_cloudwatch_event_target" "queue" {
  rule           = aws_cloudwatch_event_rule.ecr.name
  event_bus_name = aws_cloudwatch_event_bus.ecrguard.name
  arn            = aws_sqs_queue.events.arn
}

# ECR Public's calls, forwarded from us-east-1.
resource "aws_cloudwatch_event_rule" "ecr_public" {
  name           = "ecrguard-ecr-public-events"
  event_bus_name = aws_cloudwatch_event_bus.ecrguard.name
  description    = "ECR Public calls that can publish a repository or change who may push to it"
  event_pattern  = file("${path.module}/../../docs/eventbridge-rule-public.json")
}

resource "aws_cloudwatch_event_target" "public_queue" {
  rule           = aws_cloudwatch_event_rule.ecr_public.name
  event_bus_name = aws_cloudwatch_event_bus.ecrguard.name
  arn            = aws_sqs_queue.events.arn
}

resource "aws_sqs_queue_policy" "events" {
  queue_url = aws_sqs_queue.events.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "FromTheEcrguardRule"
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sqs:SendMessage"
      Resource  = aws_sqs_queue.events.arn
      Condition = { ArnEquals = { "aws:SourceArn" = [aws_cloudwatch_event_rule.ecr.arn, aws_cloudwatch_event_rule.ecr_public.arn] } }
    }]
  })
}

resource "aws_dynamodb_table" "journal" {
  name         = var.journal_table_name
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  attribute {
    name = "id"
    type = "S"
  }
  point_in_time_recovery {
    enabled = true
  }
  server_side_encryption {
    enabled = true
  }
  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_cloudwatch_log_group" "handler" {
  name              = "/aws/lambda/ecrguard-handler"
  retention_in_days = 365
}

resource "aws_iam_role" "handler" {
  name = "ecrguard-handler"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy" "handler" {
  name = "ecrguard-handler"
  role = aws_iam_role.handler.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "Logs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = "${aws_cloudwatch_log_group.handler.arn}:*"
      },
      {
        Sid      = "Queue"
        Effect   = "Allow"
        Action   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
        Resource = aws_sqs_queue.events.arn
      },
      {
        Sid      = "Journal"
        Effect   = "Allow"
        Action   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Scan"]
        Resource = aws_dynamodb_table.journal.arn
      },
      {
        Sid       = "MemberRoles"
        Effect    = "Allow"
        Action    = "sts:AssumeRole"
        Resource  = "arn:${local.partition}:iam::*:role/${var.member_role_name}"
        Condition = { StringEquals = { "aws:ResourceOrgID" = var.organization_id } }
      },
      {
        Sid      = "Organization"
        Effect   = "Allow"
        Action   = ["organizations:DescribeOrganization", "organizations:ListAccounts"]
        Resource = "*"
      },
      {
        Sid      = "Identity"
        Effect   = "Allow"
        Action   = "sts:GetCallerIdentity"
        Resource = "*"
      },
      # Events from this account itself are handled with the function's own credentials.
      {
        Sid      = "OwnEcrRead"
        Effect   = "Allow"
        Action   = local.ecr_read
        Resource = "*"
      },
      # ecrguard:ignore[ECR005] the guardrail rewrites this account's repository policies to take public statements out; only the handler function holds this role
      {
        Sid      = "OwnEcrChange"
        Effect   = "Allow"
        Action   = local.ecr_change
        Resource = "arn:${local.partition}:ecr:*:${local.account}:repository/*"
      },
    ]
  })
}

resource "aws_lambda_function" "handler" {
  function_name = "ecrguard-handler"
  description   = "ecrguard handle-event for the organization's ECR events"
  runtime       = "provided.al2023"
  handler       = "bootstrap"
  architectures = [var.architecture]
  filename      = var.package_path
  # Changes when the package does.
  source_code_hash               = filebase64sha256(var.package_path)
  memory_size                    = 256
  timeout                        = 300
  reserved_concurrent_executions = 10
  role                           = aws_iam_role.handler.arn
  environment {
    variables = {
      ECRGUARD_APPLY        = var.apply ? "true" : "false"
      ECRGUARD_YES          = var.allow_repository_deletion ? "true" : "false"
      ECRGUARD_JOURNAL      = "dynamodb://${aws_dynamodb_table.journal.name}"
      ECRGUARD_MEMBER_ROLE  = var.member_role_name
      ECRGUARD_EXTERNAL_ID  = var.external_id
      ECRGUARD_ALLOWED_ORG  = "true"
    }
  }
  depends_on = [aws_cloudwatch_log_group.handler]
}

resource "aws_lambda_event_source_mapping" "queue" {
  event_source_arn                   = aws_sqs_queue.events.arn
  function_name                      = aws_lambda_function.handler.arn
  batch_size                         = 10
  maximum_batching_window_in_seconds = 5
  function_response_types            = ["ReportBatchItemFailures"]
  scaling_config {
    maximum_concurrency = 10
  }
}

resource "aws_cloudwatch_metric_alarm" "dead_letter" {
  alarm_name          = "ecrguard-dead-letter"
  alarm_description   = "ECR events ecrguard could not handle are in the dead-letter queue."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.dead_letter.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_topic_arn == "" ? [] : [var.alarm_topic_arn]
}

resource "aws_cloudwatch_metric_alarm" "errors" {
  alarm_name          = "ecrguard-handler-errors"
  alarm_description   = "The ecrguard handler failed whole invocations."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.handler.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_topic_arn == "" ? [] : [var.alarm_topic_arn]
}
