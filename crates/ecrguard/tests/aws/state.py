"""Prints the ECR state of a moto server in us-east-1 as JSON, for tests to compare:
{name: {"policy": text or null, "mutability": ..., "scan_on_push": bool, "lifecycle": text or null,
"tags": {...}, "images": n}}.

usage: python state.py ENDPOINT [set-policy NAME TEXT | as ACCOUNT]
("as ACCOUNT": the state of another account, read through an assumed role as moto allows.)
"""
import json
import sys

import boto3

endpoint = sys.argv[1]
creds = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
if len(sys.argv) > 3 and sys.argv[2] == "as":
    sts = boto3.client("sts", region_name="us-east-1", endpoint_url=endpoint, **creds)
    c = sts.assume_role(RoleArn=f"arn:aws:iam::{sys.argv[3]}:role/state", RoleSessionName="state")["Credentials"]
    creds = {"aws_access_key_id": c["AccessKeyId"], "aws_secret_access_key": c["SecretAccessKey"], "aws_session_token": c["SessionToken"]}
ecr = boto3.client("ecr", region_name="us-east-1", endpoint_url=endpoint, **creds)
if len(sys.argv) > 2 and sys.argv[2] == "set-policy":
    ecr.set_repository_policy(repositoryName=sys.argv[3], policyText=sys.argv[4])
    sys.exit(0)
out = {}
for r in ecr.describe_repositories()["repositories"]:
    name = r["repositoryName"]
    try:
        policy = ecr.get_repository_policy(repositoryName=name)["policyText"]
    except ecr.exceptions.RepositoryPolicyNotFoundException:
        policy = None
    try:
        lifecycle = ecr.get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"]
    except ecr.exceptions.LifecyclePolicyNotFoundException:
        lifecycle = None
    tags = {t["Key"]: t["Value"] for t in ecr.list_tags_for_resource(resourceArn=r["repositoryArn"])["tags"]}
    out[name] = {"policy": policy, "mutability": r["imageTagMutability"], "scan_on_push": r["imageScanningConfiguration"]["scanOnPush"], "lifecycle": lifecycle, "tags": tags, "images": len(ecr.list_images(repositoryName=name)["imageIds"])}
print(json.dumps(out))
