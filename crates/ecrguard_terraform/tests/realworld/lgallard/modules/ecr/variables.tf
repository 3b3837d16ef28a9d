variable "name" {}
variable "prevent_destroy" { default = false }
variable "image_tag_mutability" { default = "IMMUTABLE" }
variable "force_delete" { default = false }
variable "scan_on_push" { default = true }
variable "encryption_type" { default = "KMS" }
variable "kms_key" { default = null }
variable "tags" { default = {} }
variable "policy" { default = null }
variable "lifecycle_policy" { default = null }
