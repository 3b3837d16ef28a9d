"""Seeds a moto server with ECR repositories of every kind (used by tests/audit_moto.rs).

usage: python seed.py ENDPOINT
"""
import json
import sys

import boto3

endpoint = sys.argv[1]
OWN = "123456789012"  # moto's account


def ecr(region):
    return boto3.client("ecr", region_name=region, endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing")


def policy(statement):
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


PULL = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
us = ecr("us-east-1")
eu = ecr("eu-west-1")
for name in ["public", "org-scoped", "cross-account", "private", "no-policy"]:
    us.create_repository(repositoryName=name, imageTagMutability="IMMUTABLE", imageScanningConfiguration={"scanOnPush": True})
us.create_repository(repositoryName="mutable", imageTagMutability="MUTABLE", imageScanningConfiguration={"scanOnPush": False})
us.set_repository_policy(repositoryName="public", policyText=policy({"Sid": "Everyone", "Effect": "Allow", "Principal": "*", "Action": PULL}))
us.set_repository_policy(repositoryName="org-scoped", policyText=policy({"Sid": "Org", "Effect": "Allow", "Principal": "*", "Action": PULL, "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123def4"}}}))
us.set_repository_policy(repositoryName="cross-account", policyText=policy({"Sid": "Partner", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222222222222:root"}, "Action": PULL + ["ecr:PutImage"]}))
us.set_repository_policy(repositoryName="private", policyText=policy({"Sid": "Own", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OWN}:root"}, "Action": PULL}))
us.set_repository_policy(repositoryName="mutable", policyText=policy({"Sid": "Own", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OWN}:root"}, "Action": PULL}))
us.put_lifecycle_policy(repositoryName="private", lifecyclePolicyText=json.dumps({"rules": [{"rulePriority": 1, "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 14}, "action": {"type": "expire"}}]}))
eu.create_repository(repositoryName="eu-public", imageTagMutability="IMMUTABLE", imageScanningConfiguration={"scanOnPush": True})
eu.set_repository_policy(repositoryName="eu-public", policyText=policy({"Sid": "Everyone", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "ecr:*"}))
print("seeded")
