"""Seeds a moto server for tests/enforce_moto.rs: repositories for every enforcement path.

usage: python seed_enforce.py ENDPOINT [bulk COUNT]
Prints the policy text set on each repository as JSON ({name: text}).
"""
import json
import sys

import boto3

endpoint = sys.argv[1]
OWN = "123456789012"  # moto's account
ecr = boto3.client("ecr", region_name="us-east-1", endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing")

PUBLIC = {"Sid": "Everyone", "Effect": "Allow", "Principal": "*", "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]}
CI = {"Sid": "Ci", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OWN}:role/ci"}, "Action": ["ecr:PutImage", "ecr:InitiateLayerUpload"]}


def repo(name, statements, mutability="IMMUTABLE", tags=(), hygiene=True):
    ecr.create_repository(repositoryName=name, imageTagMutability=mutability, imageScanningConfiguration={"scanOnPush": hygiene}, tags=[{"Key": k, "Value": v} for k, v in tags])
    if hygiene:
        ecr.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=json.dumps({"rules": [{"rulePriority": 1, "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 7}, "action": {"type": "expire"}}]}))
    if statements is None:
        return None
    # Written the way people write policies (indented, in their own key order): a restore must
    # give back exactly these bytes.
    text = json.dumps({"Version": "2012-10-17", "Statement": statements}, indent=4)
    ecr.set_repository_policy(repositoryName=name, policyText=text)
    return text


texts = {}
PARTNER = {"Sid": "Partner", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": ["ecr:BatchGetImage"]}
if len(sys.argv) > 2 and sys.argv[2] == "hygiene":
    # Scan on push off, no lifecycle policy, mutable tags, and a grant to an untrusted account.
    texts["loose"] = repo("loose", [PARTNER, CI], mutability="MUTABLE", hygiene=False)
elif len(sys.argv) > 2 and sys.argv[2] == "bulk":
    for i in range(int(sys.argv[3])):
        texts[f"bulk-{i:03}"] = repo(f"bulk-{i:03}", [PUBLIC, CI])
else:
    texts["mixed"] = repo("mixed", [PUBLIC, CI])
    texts["only-public"] = repo("only-public", [PUBLIC])
    texts["approved-mirror"] = repo("approved-mirror", [PUBLIC])
    texts["tagged"] = repo("tagged", [PUBLIC], tags=[("ecrguard", "approved")])
    texts["private"] = repo("private", [CI])
    texts["mutable"] = repo("mutable", [CI], mutability="MUTABLE")
    texts["with-images"] = repo("with-images", [PUBLIC], tags=[("team", "core")])
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json", "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 7023, "digest": "sha256:" + "a" * 64}, "layers": []})
    ecr.put_image(repositoryName="with-images", imageManifest=manifest, imageTag="v1")
print(json.dumps(texts))
