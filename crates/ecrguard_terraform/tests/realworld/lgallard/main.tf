data "aws_caller_identity" "current" {}

module "ecr" {
  source  = "./modules/ecr"
  name    = "ecr-repo-dev"
  kms_key = "arn:aws:kms:us-east-1:111111111111:key/abcd"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "LimitedPull"
      Effect    = "Allow"
      Principal = { AWS = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"] }
      Action    = ["ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage", "ecr:BatchCheckLayerAvailability"]
    }]
  })
  lifecycle_policy = jsonencode({ rules = [{ rulePriority = 1, selection = { tagStatus = "any", countType = "imageCountMoreThan", countNumber = 30 }, action = { type = "expire" } }] })
}
