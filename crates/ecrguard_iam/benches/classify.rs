//! Parse + analyse throughput on realistic repository policies (`cargo bench -p ecrguard_iam`).
//! Report policies/second from the `thrpt` line.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ecrguard_iam::{AnalysisOptions, PolicyKind, analyze, parse_text};
use std::hint::black_box;

/// The shapes seen in real repositories: terraform-aws-modules' default read-only policy, a
/// Lambda pull grant, an org-scoped pull with a deny fence, a public mirror, a cross-account
/// CI push, and an invalid one.
const POLICIES: &[(&str, &str)] = &[
    (
        "tf_modules_default",
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"PrivateReadOnly","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":["ecr:GetAuthorizationToken","ecr:BatchCheckLayerAvailability","ecr:BatchGetImage","ecr:DescribeImageScanFindings","ecr:DescribeImages","ecr:DescribeRepositories","ecr:GetDownloadUrlForLayer","ecr:GetLifecyclePolicy","ecr:GetLifecyclePolicyPreview","ecr:GetRepositoryPolicy","ecr:ListImages","ecr:ListTagsForResource"]},{"Sid":"PrivateLambdaReadOnly","Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer"],"Condition":{"StringLike":{"aws:sourceArn":["arn:aws:lambda:us-east-1:111111111111:function:*"]}}},{"Sid":"ReadWrite","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111111111111:role/ci","arn:aws:iam::222222222222:role/deploy"]},"Action":["ecr:PutImage","ecr:InitiateLayerUpload","ecr:UploadLayerPart","ecr:CompleteLayerUpload"]}]}"#,
    ),
    (
        "org_fenced",
        r#"{"Version":"2012-10-17","Statement":[{"Sid":"OrgPull","Effect":"Allow","Principal":"*","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability"],"Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc123def4"}}},{"Sid":"Fence","Effect":"Deny","Principal":"*","Action":"ecr:*","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-abc123def4"}}}]}"#,
    ),
    (
        "public_mirror",
        r#"{"Version":"2008-10-17","Statement":[{"Sid":"new policy","Effect":"Allow","Principal":"*","Action":["ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchCheckLayerAvailability","ecr:DescribeImages","ecr:ListImages"],"Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}"#,
    ),
    (
        "cross_account_admin",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["222222222222","arn:aws:iam::333333333333:root"]},"NotAction":["ecr:DeleteRepository"]},{"Effect":"Deny","Principal":{"AWS":"333333333333"},"Action":"ecr:SetRepositoryPolicy"}]}"#,
    ),
    (
        "invalid",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"allow","Principal":{"AWS":"arn:aws:iam::*:root"},"Action":"ecr:*","Condition":{"stringEquals":{"aws:PrincipalOrgID":"o-abc"}}}]}"#,
    ),
];

fn bench(c: &mut Criterion) {
    let opts = AnalysisOptions {
        owner: Some("111111111111".into()),
    };
    let mut group = c.benchmark_group("classify");
    for (name, text) in POLICIES {
        group.throughput(Throughput::Elements(1));
        group.bench_with_input(BenchmarkId::from_parameter(name), text, |b, text| {
            b.iter(|| {
                let p = parse_text(black_box(text), PolicyKind::Repository)
                    .expect("bench policy parses");
                black_box(analyze(&p, &opts))
            });
        });
    }
    group.throughput(Throughput::Elements(POLICIES.len() as u64));
    group.bench_function("mix", |b| {
        b.iter(|| {
            for (_, text) in POLICIES {
                let p = parse_text(black_box(text), PolicyKind::Repository)
                    .expect("bench policy parses");
                black_box(analyze(&p, &opts));
            }
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
