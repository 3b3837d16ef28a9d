//! EKS worker nodes: managed node groups, and self-managed nodes found through their launch
//! template (tagged for a cluster or bootstrapping one), instance profile and role; the link
//! step marks those roles as node roles.

use super::link::Target;
use super::{Collector, Item, first_block, list_of};
use crate::value::V;

impl Collector {
    /// Adds an EKS node resource; `false` when `ty` is not one.
    pub(super) fn add_eks(&mut self, ty: &str, it: &Item<'_>) -> bool {
        match ty {
            "aws_eks_node_group" => {
                // An ARN names the role it ends with (see `IdentityRef::names`).
                self.node_role_targets
                    .push(it.site.target("node_role_arn", "aws_iam_role"));
                if let Some(lt) = first_block(it.obj, "launch_template") {
                    self.eks_launch_templates.extend(launch_template_refs(lt));
                }
            }
            "aws_iam_instance_profile" => {
                let name = it.obj.get("name").and_then(V::as_string);
                let role = it.site.target("role", "aws_iam_role");
                self.instance_profiles.push((name, role));
            }
            "aws_launch_template" => {
                let ids: Vec<String> = ["id", "name"]
                    .iter()
                    .filter_map(|k| it.obj.get(k).and_then(V::as_string))
                    .collect();
                let profile = first_block(it.obj, "iam_instance_profile")
                    .and_then(|p| {
                        p.get("name")
                            .or_else(|| p.get("arn"))
                            .and_then(V::as_string)
                    })
                    .map(|p| p.rsplit('/').next().unwrap_or(&p).to_string());
                let tagged = has_cluster_tag(it.obj.get("tags"))
                    || list_of(it.obj.get("tag_specifications"))
                        .iter()
                        .any(|t| has_cluster_tag(t.get("tags")));
                let user_data = it
                    .obj
                    .get("user_data")
                    .and_then(V::as_string)
                    .unwrap_or_default();
                let bootstraps = ["/etc/eks/bootstrap.sh", "nodeadm", "node.eks.aws"]
                    .iter()
                    .any(|m| user_data.contains(m));
                self.launch_templates
                    .push((ids, profile, tagged || bootstraps));
            }
            "aws_autoscaling_group" => {
                let tagged = list_of(it.obj.get("tag")).iter().any(|t| {
                    t.get("key")
                        .and_then(V::as_string)
                        .is_some_and(|k| k.starts_with("kubernetes.io/cluster/"))
                });
                if tagged
                    && let Some(lt) = first_block(it.obj, "launch_template")
                        .or_else(|| first_block(it.obj, "mixed_instances_policy"))
                {
                    self.eks_launch_templates.extend(launch_template_refs(lt));
                }
            }
            _ => return false,
        }
        true
    }

    /// Marks the roles EKS nodes run as.
    pub(super) fn link_node_roles(&mut self) {
        // Self-managed nodes: role <- instance profile <- launch template used by EKS.
        for (ids, profile, marked) in &self.launch_templates {
            if !(*marked || ids.iter().any(|i| self.eks_launch_templates.contains(i))) {
                continue;
            }
            for (name, role) in &self.instance_profiles {
                if name.is_some() && name.as_ref() == profile.as_ref() {
                    self.node_role_targets.push(role.clone());
                }
            }
        }
        let refs: Vec<_> = self
            .node_role_targets
            .iter()
            .filter_map(Target::identity_ref)
            .collect();
        ecrguard_model::link::mark_node_roles(
            self.roles
                .iter_mut()
                .map(|(ident, local)| (ident, local.as_str())),
            &refs,
        );
    }
}

/// The launch template a `launch_template` block names (by id or name).
fn launch_template_refs(lt: &V) -> Vec<String> {
    ["id", "name"]
        .iter()
        .filter_map(|k| lt.get(k).and_then(V::as_string))
        .collect()
}

/// Whether tags carry the Kubernetes cluster ownership key EKS nodes have.
fn has_cluster_tag(tags: Option<&V>) -> bool {
    tags.and_then(V::as_object).is_some_and(|t| {
        t.iter()
            .any(|(k, _)| k.starts_with("kubernetes.io/cluster/"))
    })
}
