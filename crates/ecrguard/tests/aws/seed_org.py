"""Seeds moto with an organization (management account = moto's 123456789012) and one member
account holding a repository shared with the organization, for the `--org-role` test in
tests/audit_moto.rs. Prints the organization id and the member account id.

usage: python seed_org.py ENDPOINT
"""
import json
import sys

import boto3

endpoint = sys.argv[1]
keys = dict(endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
org = boto3.client("organizations", **keys)
org_id = org.create_organization(FeatureSet="ALL")["Organization"]["Id"]
member = org.create_account(AccountName="member", Email="member@example.com")["CreateAccountStatus"]["AccountId"]
sts = boto3.client("sts", **keys)
creds = sts.assume_role(RoleArn=f"arn:aws:iam::{member}:role/ecrguard-audit", RoleSessionName="seed")["Credentials"]
ecr = boto3.client("ecr", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"], aws_session_token=creds["SessionToken"])
ecr.create_repository(repositoryName="org-shared", imageTagMutability="IMMUTABLE", imageScanningConfiguration={"scanOnPush": True})
ecr.set_repository_policy(repositoryName="org-shared", policyText=json.dumps({"Version": "2012-10-17", "Statement": [{"Sid": "Org", "Effect": "Allow", "Principal": "*", "Action": ["ecr:BatchGetImage"], "Condition": {"StringEquals": {"aws:PrincipalOrgID": org_id}}}]}))
print(org_id, member)
