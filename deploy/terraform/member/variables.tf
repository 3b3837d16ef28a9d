variable "central_event_bus_arn" {
  description = "The central module's event_bus_arn."
  type        = string
}

variable "central_function_role_arn" {
  description = "The central module's function_role_arn: the only principal the remediation role trusts."
  type        = string
}

variable "external_id" {
  description = "The same external id as the central module's."
  type        = string
  sensitive   = true
}

variable "member_role_name" {
  type    = string
  default = "ecrguard-remediation"
}

variable "forwarder_role_name" {
  type    = string
  default = "ecrguard-event-forwarder"
}

variable "create_roles" {
  description = "Make the account's IAM roles here (true in exactly one region per account)."
  type        = bool
  default     = true
}
