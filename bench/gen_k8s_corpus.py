#!/usr/bin/env python3
"""Kubernetes corpus for the benchmark: OUT/apps/NNNN-<svc>/manifests.yaml.

usage: python3 bench/gen_k8s_corpus.py OUT [--apps N] [--seed S]
Deterministic for (apps, seed). Each file is what `helm template` or `kustomize build` writes
for one application: several documents of ordinary objects (Deployments, Services,
ConfigMaps, ServiceAccounts, Ingresses) around the ECR objects that manage its images, ACK or
Crossplane (v1beta1 and v1beta2, cluster and namespaced groups), with policies inline (ACK) or
as objects of their own linked by name, reference or label selector (Crossplane).
Writes OUT/expected_k8s.json: per repository, whether its policy is public.
"""
import argparse
import json
import os
import random

SERVICES = ["api", "web", "worker", "billing", "auth", "search", "ingest", "etl", "ml", "gateway"]
READ = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]


def policy(rng):
    kind = rng.choice(["own", "public", "org", "cross"])
    st = {"Sid": kind, "Effect": "Allow", "Action": READ}
    if kind == "public":
        st["Principal"] = "*"
    elif kind == "org":
        st["Principal"] = "*"
        st["Condition"] = {"StringEquals": {"aws:PrincipalOrgID": "o-abcdef1234"}}
    elif kind == "cross":
        st["Principal"] = {"AWS": "arn:aws:iam::%012d:root" % rng.randint(10**11, 10**12 - 1)}
    else:
        st["Principal"] = {"AWS": "arn:aws:iam::111111111111:root"}
    return json.dumps({"Version": "2012-10-17", "Statement": [st]}, indent=2), kind == "public"


def block(text, indent):
    pad = " " * indent
    return "|\n" + "\n".join(pad + line for line in text.splitlines())


def noise(rng, svc, ns, n):
    docs = []
    for i in range(n):
        kind = rng.choice(["Deployment", "Service", "ConfigMap", "ServiceAccount", "Ingress"])
        if kind == "Deployment":
            docs.append(f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {svc}-{i}
  namespace: {ns}
  labels:
    app.kubernetes.io/name: {svc}
spec:
  replicas: {rng.randint(1, 6)}
  selector:
    matchLabels:
      app.kubernetes.io/name: {svc}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {svc}
    spec:
      serviceAccountName: {svc}
      containers:
        - name: app
          image: 111111111111.dkr.ecr.us-east-1.amazonaws.com/{svc}:{rng.randint(1, 900)}
          ports:
            - containerPort: 8080
          env:
            - name: LOG_LEVEL
              value: info
          resources:
            requests:
              cpu: 100m
              memory: 128Mi""")
        elif kind == "Service":
            docs.append(f"""apiVersion: v1
kind: Service
metadata:
  name: {svc}-{i}
  namespace: {ns}
spec:
  selector:
    app.kubernetes.io/name: {svc}
  ports:
    - port: 80
      targetPort: 8080""")
        elif kind == "ConfigMap":
            docs.append(f"""apiVersion: v1
kind: ConfigMap
metadata:
  name: {svc}-{i}
  namespace: {ns}
data:
  settings.json: '{{"feature": {str(rng.random() < 0.5).lower()}, "limit": {rng.randint(1, 100)}}}'""")
        elif kind == "ServiceAccount":
            docs.append(f"""apiVersion: v1
kind: ServiceAccount
metadata:
  name: {svc}-{i}
  namespace: {ns}
  annotations:
    eks.amazonaws.com/role-arn: arn:aws:iam::111111111111:role/{svc}""")
        else:
            docs.append(f"""apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {svc}-{i}
  namespace: {ns}
spec:
  rules:
    - host: {svc}.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: {svc}-{i}
                port:
                  number: 80""")
    return docs


def ecr(rng, svc, ns, idx, expected, path):
    docs = []
    for r in range(rng.randint(1, 3)):
        name = f"{svc}-{idx}-{r}"
        flavour = rng.choice(["ack", "xp1", "xp2", "xpm"])
        text, public = policy(rng)
        has_policy = rng.random() < 0.7
        if flavour == "ack":
            doc = f"""apiVersion: ecr.services.k8s.aws/v1alpha1
kind: Repository
metadata:
  name: {name}
  namespace: {ns}
spec:
  name: {name}
  imageTagMutability: {rng.choice(["IMMUTABLE", "MUTABLE"])}
  imageScanningConfiguration:
    scanOnPush: {str(rng.random() < 0.7).lower()}"""
            if has_policy:
                doc += "\n  policy: " + block(text, 4)
            docs.append(doc)
        else:
            group = "ecr.aws.m.upbound.io" if flavour == "xpm" else "ecr.aws.upbound.io"
            version = "v1beta2" if flavour == "xp2" else "v1beta1"
            namespace = f"\n  namespace: {ns}" if flavour == "xpm" else ""
            scanning = "\n    imageScanningConfiguration:\n      scanOnPush: true" if version == "v1beta2" else "\n    imageScanningConfiguration:\n      - scanOnPush: true"
            docs.append(f"""apiVersion: {group}/{version}
kind: Repository
metadata:
  name: {name}{namespace}
  labels:
    repo: {name}
spec:
  forProvider:
    region: us-east-1
    imageTagMutability: IMMUTABLE{scanning}""")
            if has_policy:
                link = rng.choice([f"repository: {name}", f"repositoryRef:\n      name: {name}", f"repositorySelector:\n      matchLabels:\n        repo: {name}"])
                docs.append(f"""apiVersion: {group}/v1beta1
kind: RepositoryPolicy
metadata:
  name: {name}-policy{namespace}
spec:
  forProvider:
    region: us-east-1
    {link}
    policy: {block(text, 6)}""")
        expected.append({"file": path, "repository": name, "flavour": flavour, "public_policy": has_policy and public})
    return docs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--apps", type=int, default=300)
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    expected = []
    total = 0
    for i in range(a.apps):
        svc = rng.choice(SERVICES)
        ns = f"team-{i % 17}"
        path = f"apps/{i:04d}-{svc}/manifests.yaml"
        docs = noise(rng, svc, ns, rng.randint(6, 14)) + ecr(rng, svc, ns, i, expected, path)
        rng.shuffle(docs)
        text = "---\n" + "\n---\n".join(docs) + "\n"
        full = os.path.join(a.out, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(text)
        total += len(text)
    with open(os.path.join(a.out, "expected_k8s.json"), "w") as f:
        json.dump({"apps": a.apps, "seed": a.seed, "bytes": total, "repositories": expected}, f, indent=1)


if __name__ == "__main__":
    main()
