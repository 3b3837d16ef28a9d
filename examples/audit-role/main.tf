# The role `ecrguard audit` runs as, with the least privilege it needs (read-only; no image
# layers, no write). `ecrguard scan examples/audit-role` must be clean: a test checks it.

variable "auditor_account_id" {
  description = "The account whose principals may assume the audit role."
  type        = string
  default     = "111111111111"
}

resource "aws_iam_role" "ecrguard_audit" {
  name = "ecrguard-audit"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { AWS = "arn:aws:iam::${var.auditor_account_id}:root" }
    }]
  })
}

resource "aws_iam_role_policy" "ecrguard_audit" {
  name   = "ecrguard-audit"
  role   = aws_iam_role.ecrguard_audit.id
  policy = file("${path.module}/../../docs/audit-iam-policy.json")
}
