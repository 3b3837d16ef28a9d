#!/usr/bin/env python3
"""CloudFormation corpus for the benchmark: OUT/stacks/NNNN-<svc>/template.{yaml,json}.

usage: python3 bench/gen_cfn_corpus.py OUT [--stacks N] [--seed S]
Deterministic for (stacks, seed). Each stack mixes ECR repositories written every way
(no policy, inline object, JSON string, Fn::Sub, Fn::If on a parameter, org-scoped, public,
cross-account), IAM roles and policies, an EKS node group, and unrelated resources (buckets,
queues, functions, alarms) so that templates have realistic size and noise.
Writes OUT/expected_cfn.json: per repository, whether it has a policy and whether it is public.
"""
import argparse
import json
import os
import random

SERVICES = ["api", "web", "worker", "billing", "auth", "search", "ingest", "etl", "ml", "gateway"]


def yaml_dump(obj, indent=0):
    """A small YAML writer for the shapes below (dicts, lists, scalars; tags as {'!Tag': v})."""
    pad = "  " * indent
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, dict) and len(v) == 1 and next(iter(v)).startswith("!"):
                tag, val = next(iter(v.items()))
                out.append(f"{pad}{k}: {tag} {json.dumps(val)}")
            elif isinstance(v, (dict, list)) and v:
                out.append(f"{pad}{k}:")
                out.append(yaml_dump(v, indent + 1))
            else:
                out.append(f"{pad}{k}: {json.dumps(v)}")
    elif isinstance(obj, list):
        for v in obj:
            if isinstance(v, dict) and v:
                first = yaml_dump(v, indent + 1).lstrip()
                out.append(f"{pad}- {first}")
            else:
                out.append(f"{pad}- {json.dumps(v)}")
    return "\n".join(out)


def statement(rng, kind):
    actions = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
    if kind == "public":
        return {"Sid": "Pull", "Effect": "Allow", "Principal": "*", "Action": actions}, True
    if kind == "org":
        return {"Sid": "OrgPull", "Effect": "Allow", "Principal": "*", "Action": actions,
                "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-" + "".join(rng.choice("abcdef0123456789") for _ in range(10))}}}, False
    if kind == "cross":
        return {"Sid": "Partner", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%012d:root" % rng.randint(10**11, 10**12 - 1)}, "Action": actions}, False
    return {"Sid": "Own", "Effect": "Allow", "Principal": {"AWS": {"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:root"}}, "Action": actions}, False


def stack(rng, idx, svc, expected, path):
    resources = {}
    params = {"Env": {"Type": "String", "Default": rng.choice(["dev", "prod"])}, "Exposure": {"Type": "String", "Default": "closed"}}
    conditions = {"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}, "Open": {"Fn::Equals": [{"Ref": "Exposure"}, "open"]}}
    for r in range(rng.randint(1, 4)):
        logical = f"{svc.capitalize()}Repo{r}"
        props = {"RepositoryName": f"{svc}/{r}-{idx}"}
        if rng.random() < 0.6:
            props["ImageTagMutability"] = rng.choice(["IMMUTABLE", "MUTABLE", "IMMUTABLE_WITH_EXCLUSION"])
        if rng.random() < 0.6:
            props["ImageScanningConfiguration"] = {"ScanOnPush": rng.random() < 0.7}
        if rng.random() < 0.4:
            props["EncryptionConfiguration"] = {"EncryptionType": "KMS", "KmsKey": {"Fn::GetAtt": ["Key", "Arn"]}}
        if rng.random() < 0.5:
            props["LifecyclePolicy"] = {"LifecyclePolicyText": json.dumps({"rules": [{"rulePriority": 1, "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 14}, "action": {"type": "expire"}}]})}
        style = rng.choices(["none", "object", "string", "if"], weights=[3, 4, 2, 1])[0]
        public = False
        if style == "object":
            st, public = statement(rng, rng.choices(["own", "public", "org", "cross"], weights=[4, 2, 2, 2])[0])
            props["RepositoryPolicyText"] = {"Version": "2012-10-17", "Statement": [st]}
        elif style == "string":
            st, public = statement(rng, rng.choice(["public", "cross"]))
            props["RepositoryPolicyText"] = json.dumps({"Version": "2012-10-17", "Statement": [st]})
        elif style == "if":
            own, _ = statement(rng, "own")
            props["RepositoryPolicyText"] = {"Version": "2012-10-17", "Statement": [{**own, "Principal": {"Fn::If": ["Open", "*", own["Principal"]]}}]}
        resources[logical] = {"Type": "AWS::ECR::Repository", "Properties": props}
        # "if": public when a deployment sets Exposure=open, which the parameter permits (no
        # AllowedValues), whatever its default.
        expected.append({"file": path, "resource": logical, "style": style, "has_policy": style != "none", "public_policy": public or style == "if"})
    resources["Key"] = {"Type": "AWS::KMS::Key", "Properties": {"KeyPolicy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": {"Fn::Sub": "arn:aws:iam::${AWS::AccountId}:root"}}, "Action": "kms:*", "Resource": "*"}]}}}
    resources["CiRole"] = {"Type": "AWS::IAM::Role", "Properties": {
        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "codebuild.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
        "Policies": [{"PolicyName": "push", "PolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload"], "Resource": rng.choice(["*", {"Fn::Sub": "arn:aws:ecr:${AWS::Region}:${AWS::AccountId}:repository/%s/*" % svc}])}]}}]}}
    if rng.random() < 0.3:
        resources["NodeRole"] = {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {}, "ManagedPolicyArns": [{"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AmazonEC2ContainerRegistry" + rng.choice(["ReadOnly", "PowerUser"])}]}}
        resources["Nodes"] = {"Type": "AWS::EKS::Nodegroup", "Properties": {"ClusterName": svc, "NodeRole": {"Fn::GetAtt": ["NodeRole", "Arn"]}, "Subnets": ["subnet-1", "subnet-2"]}}
    for n in range(rng.randint(8, 20)):
        kind = rng.choice(["bucket", "queue", "function", "alarm", "log"])
        if kind == "bucket":
            resources[f"Bucket{n}"] = {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": {"Fn::Sub": "%s-%d-${AWS::AccountId}" % (svc, n)}, "VersioningConfiguration": {"Status": "Enabled"},
                "BucketEncryption": {"ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]}, "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True}}}
        elif kind == "queue":
            resources[f"Queue{n}"] = {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": rng.randint(30, 900), "MessageRetentionPeriod": 345600, "KmsMasterKeyId": "alias/aws/sqs"}}
        elif kind == "function":
            resources[f"Fn{n}"] = {"Type": "AWS::Lambda::Function", "Properties": {"Runtime": "python3.12", "Handler": "app.handler", "Role": {"Fn::GetAtt": ["CiRole", "Arn"]}, "MemorySize": rng.choice([128, 256, 512]), "Timeout": 30,
                "Environment": {"Variables": {"ENV": {"Ref": "Env"}, "TABLE": f"{svc}-{n}", "LOG_LEVEL": "INFO"}}, "Code": {"ZipFile": "def handler(event, context):\n    return {'ok': True}\n"}}}
        elif kind == "alarm":
            resources[f"Alarm{n}"] = {"Type": "AWS::CloudWatch::Alarm", "Properties": {"MetricName": "Errors", "Namespace": "AWS/Lambda", "Statistic": "Sum", "Period": 300, "EvaluationPeriods": 1, "Threshold": 1, "ComparisonOperator": "GreaterThanOrEqualToThreshold"}}
        else:
            resources[f"Logs{n}"] = {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": f"/{svc}/{n}", "RetentionInDays": 30}}
    return {"AWSTemplateFormatVersion": "2010-09-09", "Description": f"{svc} stack {idx}", "Parameters": params, "Conditions": conditions, "Resources": resources}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--stacks", type=int, default=300)
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    expected = []
    total = 0
    for i in range(a.stacks):
        svc = rng.choice(SERVICES)
        as_json = rng.random() < 0.3
        path = f"stacks/{i:04d}-{svc}/template.{'json' if as_json else 'yaml'}"
        t = stack(rng, i, svc, expected, path)
        text = json.dumps(t, indent=2) + "\n" if as_json else yaml_dump(t) + "\n"
        full = os.path.join(a.out, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(text)
        total += len(text)
    with open(os.path.join(a.out, "expected_cfn.json"), "w") as f:
        json.dump({"stacks": a.stacks, "seed": a.seed, "bytes": total, "repositories": expected}, f, indent=1)


if __name__ == "__main__":
    main()
