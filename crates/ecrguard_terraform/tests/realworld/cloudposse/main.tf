module "ecr" {
  source                     = "./modules/ecr"
  image_names                = ["api", "worker"]
  principals_readonly_access = ["arn:aws:iam::111111111111:role/eks-nodes"]
  principals_full_access     = ["arn:aws:iam::111111111111:role/ci"]
  encryption_configuration   = { encryption_type = "KMS", kms_key = "arn:aws:kms:us-east-1:111111111111:key/abcd" }
}
