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
# Replication from us-east-1: to the owner's own registry in another region (fine), to a
# trusted account (fine), and to an account outside the trust boundary (ECR016).
us.put_replication_configuration(replicationConfiguration={"rules": [{
    "destinations": [
        {"region": "us-west-2", "registryId": OWN},
        {"region": "eu-west-1", "registryId": "333333333333"},
        {"region": "eu-west-1", "registryId": "999999999999"},
    ],
    "repositoryFilters": [{"filter": "prod", "filterType": "PREFIX_MATCH"}],
}]})
print("seeded")

# IAM: identities with broad and scoped ECR rights.
iam = boto3.client("iam", region_name="us-east-1", endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing")
EC2_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def doc(actions, resource="*"):
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resource}]})


# A CI user that may push anywhere (finding) and a deployer scoped to one repository (none).
iam.create_user(UserName="ci-pusher")
iam.put_user_policy(UserName="ci-pusher", PolicyName="push-all", PolicyDocument=doc(["ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload"]))
iam.create_user(UserName="scoped-deployer")
iam.put_user_policy(UserName="scoped-deployer", PolicyName="push-one", PolicyDocument=doc(["ecr:PutImage"], f"arn:aws:ecr:us-east-1:{OWN}:repository/private"))
# A reader everywhere: read is not write (none).
iam.create_user(UserName="reader")
iam.attach_user_policy(UserName="reader", PolicyArn="arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly")
# A group with ecr:* (finding on the group) and a member with nothing of their own (none).
iam.create_group(GroupName="platform")
iam.put_group_policy(GroupName="platform", PolicyName="ecr-admin", PolicyDocument=doc("ecr:*"))
iam.create_user(UserName="member")
iam.add_user_to_group(GroupName="platform", UserName="member")
# A customer managed policy that can change repository policies: reported once, on the
# policy, not again on the role it is attached to.
arn = iam.create_policy(PolicyName="ecr-policy-admin", PolicyDocument=doc(["ecr:SetRepositoryPolicy", "ecr:GetRepositoryPolicy"]))["Policy"]["Arn"]
iam.create_role(RoleName="release", AssumeRolePolicyDocument=EC2_TRUST)
iam.attach_role_policy(RoleName="release", PolicyArn=arn)
# An EKS node role with PowerUser: can push to every repository (ECR009).
iam.create_role(RoleName="eks-nodes", AssumeRolePolicyDocument=EC2_TRUST)
iam.attach_role_policy(RoleName="eks-nodes", PolicyArn="arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy")
iam.attach_role_policy(RoleName="eks-nodes", PolicyArn="arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser")
# An EKS node role with read only (none).
iam.create_role(RoleName="eks-nodes-ro", AssumeRolePolicyDocument=EC2_TRUST)
iam.attach_role_policy(RoleName="eks-nodes-ro", PolicyArn="arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy")
iam.attach_role_policy(RoleName="eks-nodes-ro", PolicyArn="arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly")
# A pusher scoped by tag: only repositories tagged team=core (the `private` one).
us.tag_resource(resourceArn=f"arn:aws:ecr:us-east-1:{OWN}:repository/private", tags=[{"Key": "team", "Value": "core"}])
iam.create_role(RoleName="team-core-pusher", AssumeRolePolicyDocument=EC2_TRUST)
iam.put_role_policy(RoleName="team-core-pusher", PolicyName="push-core", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["ecr:PutImage", "ecr:InitiateLayerUpload"], "Resource": "*", "Condition": {"StringEquals": {"ecr:ResourceTag/team": "core"}}}]}))
# An EKS managed node group whose role lacks AmazonEKSWorkerNodePolicy (so only the EKS API
# tells it is a node role) and may push to one repository: ECR009, not ECR005.
role = iam.create_role(RoleName="nodegroup-pusher", AssumeRolePolicyDocument=EC2_TRUST)["Role"]["Arn"]
iam.put_role_policy(RoleName="nodegroup-pusher", PolicyName="push-private", PolicyDocument=doc(["ecr:PutImage"], f"arn:aws:ecr:us-east-1:{OWN}:repository/private"))
eks = boto3.client("eks", region_name="us-east-1", endpoint_url=endpoint, aws_access_key_id="testing", aws_secret_access_key="testing")
eks.create_cluster(name="apps", roleArn=f"arn:aws:iam::{OWN}:role/cluster", resourcesVpcConfig={"subnetIds": ["subnet-1"]})
eks.create_nodegroup(clusterName="apps", nodegroupName="workers", nodeRole=role, subnets=["subnet-1"])
print("seeded iam")
