"""Seeds a second account in moto (assume-role into any account id works there and the
credentials then see that account), for the multi-account test in tests/audit_moto.rs.

usage: python seed_partner.py ENDPOINT ACCOUNT
"""
import json
import sys

import boto3

endpoint, account = sys.argv[1], sys.argv[2]
sts = boto3.client("sts", region_name="us-east-1", endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing")
creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/ecrguard-audit", RoleSessionName="seed")["Credentials"]
ecr = boto3.client("ecr", region_name="us-east-1", endpoint_url=endpoint, aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])
ecr.create_repository(repositoryName="partner-public", imageTagMutability="IMMUTABLE", imageScanningConfiguration={"scanOnPush": True})
ecr.set_repository_policy(repositoryName="partner-public", policyText=json.dumps({"Version": "2012-10-17", "Statement": [{"Sid": "Everyone", "Effect": "Allow", "Principal": "*", "Action": ["ecr:BatchGetImage"]}]}))
ecr.create_repository(repositoryName="partner-private", imageTagMutability="IMMUTABLE", imageScanningConfiguration={"scanOnPush": True})
ecr.set_repository_policy(repositoryName="partner-private", policyText=json.dumps({"Version": "2012-10-17", "Statement": [{"Sid": "Own", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": ["ecr:BatchGetImage"]}]}))
print("seeded", account)
