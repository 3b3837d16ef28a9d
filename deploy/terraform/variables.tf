variable "organization_id" {
  description = "The organization whose accounts may put events on the bus (aws:PrincipalOrgID)."
  type        = string
  validation {
    condition     = can(regex("^o-[a-z0-9]{10,32}$", var.organization_id))
    error_message = "An organization id looks like o-abcdefghij."
  }
}

variable "package_path" {
  description = "dist/ecrguard-lambda-<arch>.zip, made by scripts/package-lambda.sh."
  type        = string
}

variable "architecture" {
  description = "The architecture the package was built for."
  type        = string
  default     = "arm64"
  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "arm64 or x86_64."
  }
}

variable "apply" {
  description = "false: report only (dry run); true: act per the packaged ecrguard.toml."
  type        = bool
  default     = false
}

variable "allow_repository_deletion" {
  description = "Whether a delete-if-new control may delete a repository."
  type        = bool
  default     = false
}

variable "member_role_name" {
  description = "The remediation role's name in every member account."
  type        = string
  default     = "ecrguard-remediation"
}

variable "external_id" {
  description = "The external id the member roles' trust policies require."
  type        = string
  sensitive   = true
}

variable "journal_table_name" {
  description = "The DynamoDB journal table's name."
  type        = string
  default     = "ecrguard-journal"
}

variable "alarm_topic_arn" {
  description = "An SNS topic for the alarms (empty for none)."
  type        = string
  default     = ""
}
