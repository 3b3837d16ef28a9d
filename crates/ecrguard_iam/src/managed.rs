//! AWS managed policies that grant ECR access, so that an IaC attachment by ARN
//! (`arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser`) is analysed like any inline
//! policy. Documents transcribed from the AWS Managed Policy Reference (default versions as of
//! 2026); the live audit reads the real documents from IAM instead.

const READ_ACTIONS: &str = r#""ecr:GetAuthorizationToken","ecr:BatchCheckLayerAvailability","ecr:GetDownloadUrlForLayer","ecr:GetRepositoryPolicy","ecr:DescribeRepositories","ecr:ListImages","ecr:DescribeImages","ecr:BatchGetImage","ecr:GetLifecyclePolicy","ecr:GetLifecyclePolicyPreview","ecr:ListTagsForResource","ecr:DescribeImageScanFindings""#;

/// The document of an AWS managed policy that matters for ECR, by ARN or name.
#[must_use]
pub fn document(arn_or_name: &str) -> Option<String> {
    let name = arn_or_name.rsplit('/').next().unwrap_or(arn_or_name);
    if arn_or_name.contains(':') && !arn_or_name.contains(":iam::aws:policy/") {
        return None;
    }
    let statement = match name {
        "AmazonEC2ContainerRegistryFullAccess" => r#"{"Effect":"Allow","Action":["ecr:*","cloudtrail:LookupEvents"],"Resource":"*"}"#.to_string(),
        "AmazonEC2ContainerRegistryPowerUser" => format!(
            r#"{{"Effect":"Allow","Action":[{READ_ACTIONS},"ecr:InitiateLayerUpload","ecr:UploadLayerPart","ecr:CompleteLayerUpload","ecr:PutImage"],"Resource":"*"}}"#
        ),
        "AmazonEC2ContainerRegistryReadOnly" => format!(r#"{{"Effect":"Allow","Action":[{READ_ACTIONS}],"Resource":"*"}}"#),
        "AmazonEC2ContainerRegistryPullOnly" => {
            r#"{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","ecr:BatchGetImage","ecr:GetDownloadUrlForLayer","ecr:BatchImportUpstreamImage"],"Resource":"*"}"#.to_string()
        }
        "AmazonElasticContainerRegistryPublicFullAccess" => r#"{"Effect":"Allow","Action":["ecr-public:*","sts:GetServiceBearerToken"],"Resource":"*"}"#.to_string(),
        "AdministratorAccess" => r#"{"Effect":"Allow","Action":"*","Resource":"*"}"#.to_string(),
        // Attached to every EKS node role; it grants EC2 and EKS reads, no ECR action. Only
        // its service prefixes matter here, so only they are transcribed.
        "AmazonEKSWorkerNodePolicy" => r#"{"Effect":"Allow","Action":["ec2:DescribeInstances","ec2:DescribeInstanceTypes","ec2:DescribeRouteTables","ec2:DescribeSecurityGroups","ec2:DescribeSubnets","ec2:DescribeVolumes","ec2:DescribeVolumesModifications","ec2:DescribeVpcs","eks:DescribeCluster","eks-auth:AssumeRoleForPodIdentity"],"Resource":"*"}"#.to_string(),
        "PowerUserAccess" => r#"{"Effect":"Allow","NotAction":["iam:*","organizations:*","account:*"],"Resource":"*"}"#.to_string(),
        _ => return None,
    };
    Some(format!(
        r#"{{"Version":"2012-10-17","Statement":[{statement}]}}"#
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::ActionClass;
    use crate::identity::ecr_grants;
    use crate::policy::{PolicyKind, parse_text};

    #[test]
    fn managed_documents_parse_and_grant_what_they_should() {
        let classes = |arn: &str| {
            let p = parse_text(&document(arn).unwrap(), PolicyKind::Identity).unwrap();
            assert!(!p.is_invalid(), "{arn}: {:?}", p.problems);
            ecr_grants(&p).iter().flat_map(|g| g.classes()).max()
        };
        assert_eq!(
            classes("arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser"),
            Some(ActionClass::Write)
        );
        assert_eq!(
            classes("arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryFullAccess"),
            Some(ActionClass::PermissionsManagement)
        );
        assert_eq!(
            classes("arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"),
            Some(ActionClass::Read)
        );
        // The catalogue classes the pull-through import as write; it is the only one, and
        // identity rules leave it out (`identity::PULL_THROUGH_IMPORT`).
        let pull_only = parse_text(
            &document("AmazonEC2ContainerRegistryPullOnly").unwrap(),
            PolicyKind::Identity,
        )
        .unwrap();
        let grants = ecr_grants(&pull_only);
        assert_eq!(
            grants
                .iter()
                .flat_map(|g| g.actions_at_least(ActionClass::Write))
                .collect::<Vec<_>>(),
            ["ecr:BatchImportUpstreamImage"]
        );
        assert!(grants.iter().all(|g| g.risky_actions().is_empty()));
        assert!(
            document("arn:aws:iam::123456789012:policy/AmazonEC2ContainerRegistryPowerUser")
                .is_none(),
            "a customer policy with the same name is not the managed one"
        );
        assert!(document("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess").is_none());
    }
}
