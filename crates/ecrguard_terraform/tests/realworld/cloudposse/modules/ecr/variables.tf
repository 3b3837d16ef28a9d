variable "enabled" { default = true }
variable "image_names" { default = [] }
variable "image_tag_mutability" { default = "IMMUTABLE" }
variable "encryption_configuration" { default = null }
variable "scan_images_on_push" { default = true }
variable "principals_readonly_access" { default = [] }
variable "principals_full_access" { default = [] }
variable "enable_lifecycle_policy" { default = true }
