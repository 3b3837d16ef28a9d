"""Seeds a moto server for tests/audit_faults.rs: every `fault-*` repository has a policy,
so an error turned into "no policy" would show as a false ECR001.

usage: python seed_faults.py ENDPOINT
"""
import json
import sys

import boto3

endpoint = sys.argv[1]
OWN = "123456789012"  # moto's account


def client(region):
    return boto3.client("ecr", region_name=region, endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing")


us = client("us-east-1")
# Throttling that outlasts the retries lives in its own region: the adaptive rate limiter
# slows that region down, and must not slow the other.
eu = client("eu-west-1")


def policy(principal):
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Sid": "S", "Effect": "Allow", "Principal": principal, "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]}]})


for ecr, name in [(eu, "fault-throttle")] + [(us, n) for n in ["fault-500", "fault-503", "fault-reset", "fault-hang", "fault-denied", "fault-endless", "fault-huge"]]:
    ecr.create_repository(repositoryName=name, imageTagMutability="IMMUTABLE", imageScanningConfiguration={"scanOnPush": True})
    ecr.set_repository_policy(repositoryName=name, policyText=policy({"AWS": f"arn:aws:iam::{OWN}:root"}))
# Fails once, then answers: retries must recover its public policy.
us.create_repository(repositoryName="fault-flaky", imageTagMutability="IMMUTABLE", imageScanningConfiguration={"scanOnPush": True})
us.set_repository_policy(repositoryName="fault-flaky", policyText=policy("*"))
print("seeded")
