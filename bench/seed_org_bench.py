"""Seeds a moto server with an organization of ACCOUNTS accounts (the management account,
moto's 123456789012, among them), each with REPOS repositories in every region of REGIONS
(a quarter public, a quarter shared with another account, a quarter private to the account,
a quarter without a policy), for bench/org-audit.sh. Then measures moto's own ceiling as
bench/seed_audit.py does: GetRepositoryPolicy calls per second to a 16-thread boto3 client.

usage: python seed_org_bench.py ENDPOINT ACCOUNTS REGIONS REPOS   (REGIONS comma-separated)
Prints: the ceiling in calls/s.
"""
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config

endpoint, accounts, regions, repos = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(","), int(sys.argv[4])
cfg = Config(max_pool_connections=32, retries={"max_attempts": 1})
keys = dict(endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1", config=cfg)
org = boto3.client("organizations", **keys)
org.create_organization(FeatureSet="ALL")
ids = ["123456789012"] + [
    org.create_account(AccountName=f"member-{i}", Email=f"member-{i}@example.com")["CreateAccountStatus"]["AccountId"]
    for i in range(accounts - 1)
]
sts = boto3.client("sts", **keys)


def ecr_of(account, region):
    c = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/ecrguard-audit", RoleSessionName="seed")["Credentials"]
    return boto3.client("ecr", endpoint_url=endpoint, region_name=region, config=cfg, aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"])


def seed(args):
    account, region = args
    ecr = ecr_of(account, region)
    principals = ["*", {"AWS": "arn:aws:iam::222222222222:root"}, {"AWS": f"arn:aws:iam::{account}:root"}, None]
    for i in range(repos):
        name = f"repo-{i:03d}"
        ecr.create_repository(repositoryName=name, imageTagMutability="MUTABLE" if i % 2 else "IMMUTABLE")
        p = principals[i % 4]
        if p is not None:
            ecr.set_repository_policy(repositoryName=name, policyText=json.dumps({"Version": "2012-10-17", "Statement": [{"Sid": "S", "Effect": "Allow", "Principal": p, "Action": ["ecr:BatchGetImage"]}]}))


with ThreadPoolExecutor(8) as pool:
    list(pool.map(seed, [(a, r) for a in ids for r in regions]))

probe = ecr_of(ids[-1], regions[0])
n = 2000
start = time.time()
with ThreadPoolExecutor(16) as pool:
    list(pool.map(lambda i: probe.get_repository_policy(repositoryName=f"repo-{i % repos:03d}") if (i % repos) % 4 != 3 else probe.describe_repositories(repositoryNames=[f"repo-{i % repos:03d}"]), range(n)))
print(round(n / (time.time() - start)))
