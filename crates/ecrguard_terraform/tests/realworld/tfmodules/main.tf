resource "aws_kms_key" "ecr" {}

module "app" {
  source = "./modules/ecr"

  repository_name                   = "app"
  repository_encryption_type        = "KMS"
  repository_kms_key                = aws_kms_key.ecr.arn
  repository_read_write_access_arns = ["arn:aws:iam::111111111111:role/ci"]
  repository_lambda_read_access_arns = ["arn:aws:lambda:us-east-1:111111111111:function:app"]
  repository_lifecycle_policy = jsonencode({
    rules = [{ rulePriority = 1, selection = { tagStatus = "untagged", countType = "sinceImagePushed", countUnit = "days", countNumber = 14 }, action = { type = "expire" } }]
  })
}

module "defaults" {
  source                      = "./modules/ecr"
  repository_name             = "defaults"
  repository_encryption_type  = "KMS"
  repository_kms_key          = aws_kms_key.ecr.arn
  repository_lifecycle_policy = jsonencode({ rules = [] })
}
