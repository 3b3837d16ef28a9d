"""Seeds a moto server with N ECR repositories (a mix of public, cross-account, private and
no policy) for bench/audit.sh, then measures moto's own ceiling: how many
GetRepositoryPolicy calls per second it answers to a threaded client.

usage: python seed_audit.py ENDPOINT N
"""
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config

endpoint, n = sys.argv[1], int(sys.argv[2])
cfg = Config(max_pool_connections=32, retries={"max_attempts": 1})
ecr = boto3.client("ecr", region_name="us-east-1", endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing", config=cfg)
PRINCIPALS = ["*", {"AWS": "arn:aws:iam::222222222222:root"}, {"AWS": "arn:aws:iam::123456789012:root"}, None]


def make(i):
    name = f"repo-{i:05d}"
    ecr.create_repository(repositoryName=name, imageTagMutability="MUTABLE" if i % 2 else "IMMUTABLE")
    principal = PRINCIPALS[i % 4]
    if principal is not None:
        ecr.set_repository_policy(repositoryName=name, policyText=json.dumps({"Version": "2012-10-17", "Statement": [{"Sid": "S", "Effect": "Allow", "Principal": principal, "Action": ["ecr:BatchGetImage"]}]}))
    return name


with ThreadPoolExecutor(16) as pool:
    names = list(pool.map(make, range(n)))


def get(name):
    try:
        ecr.get_repository_policy(repositoryName=name)
    except ecr.exceptions.RepositoryPolicyNotFoundException:
        pass


start = time.monotonic()
with ThreadPoolExecutor(16) as pool:
    list(pool.map(get, names))
rate = n / (time.monotonic() - start)
print(f"{rate:.0f}")
