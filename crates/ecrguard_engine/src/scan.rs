//! The infrastructure-code pipeline: one walk of the named paths, every source (Terraform and
//! OpenTofu, plans, Terragrunt, CloudFormation, SAM, Serverless, Kubernetes manifests) read
//! into one model, then judged by the run.

use crate::run::Run;
use ecrguard_model::{EcrState, SourceDb};
use ecrguard_report::InputProblem;
use ecrguard_rules::Finding;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// What to scan.
#[derive(Debug, Clone, Default)]
pub struct ScanInputs {
    /// Files and directories.
    pub paths: Vec<PathBuf>,
    /// Terraform `--var-file`s.
    pub var_files: Vec<PathBuf>,
    /// CloudFormation parameter values (see [`parameters`]).
    pub parameters: BTreeMap<String, String>,
}

/// A scan's result: what the report shows.
#[derive(Debug)]
pub struct Scanned {
    /// Every file read (and the config file, when suppressions point into it).
    pub sources: SourceDb,
    /// The model the rules judged.
    pub state: EcrState,
    /// Findings, suppressed ones included, sorted.
    pub findings: Vec<Finding>,
    /// Inputs that could not be read or fully analysed.
    pub errors: Vec<InputProblem>,
    /// What was not evaluated, sorted, without repeats.
    pub not_evaluated: Vec<InputProblem>,
    /// Files read.
    pub files: usize,
    /// Notes for the user (peer skips left alone).
    pub notes: Vec<String>,
}

/// Reads every source under `inputs.paths` and judges the result with `run`.
#[must_use]
#[allow(clippy::too_many_lines)]
pub fn scan(run: &Run, inputs: &ScanInputs) -> Scanned {
    let cfn_options = ecrguard_cloudformation::CfnOptions {
        parameters: inputs.parameters.clone(),
        // The template reader reads every YAML file: the Kubernetes source takes the texts
        // that name an ECR API group from it instead of reading them again.
        keep_other: Some(ecrguard_kubernetes::mentions_ecr_group),
    };
    // One walk for every source: two walks of the same tree would compete for the same cores.
    let mut listing = ecrguard_walk::walk(&inputs.paths, &|p| {
        ecrguard_terraform::discover::wanted(p) || ecrguard_cloudformation::candidate(p)
    });
    let piped = read_piped(&mut listing, run.budgets.max_file_bytes);
    let tf = ecrguard_terraform::scan_listing(
        &listing,
        &ecrguard_terraform::TerraformOptions {
            var_files: inputs.var_files.clone(),
            budgets: run.budgets,
            piped_plans: piped.plans,
        },
    );
    let mut sources = tf.sources;
    let (mut templates, template_errors) = ecrguard_cloudformation::templates(&listing);
    // A file read as a plan is one input: it is not also read (and reported) as a template.
    templates.retain(|p| !tf.plans.contains(p));
    let mut cfn_inputs: Vec<(PathBuf, Option<String>)> =
        templates.into_iter().map(|p| (p, None)).collect();
    cfn_inputs.extend(piped.templates.into_iter().map(|(p, t)| (p, Some(t))));
    let cfn = ecrguard_cloudformation::scan_inputs(cfn_inputs, &mut sources, &cfn_options);
    // Kubernetes manifests: the YAML files the template reader read and found to be no
    // template but to name an API group that manages ECR.
    let manifests: Vec<(PathBuf, Option<String>)> = cfn
        .other_texts
        .into_iter()
        .filter(|(p, _)| ecrguard_kubernetes::candidate(p))
        .map(|(p, t)| (p, Some(t)))
        .collect();
    let k8s = ecrguard_kubernetes::scan_inputs(manifests, &mut sources);
    let claimed: Vec<PathBuf> = cfn
        .templates
        .iter()
        .chain(&k8s.manifests)
        .cloned()
        .collect();
    let unclaimed = unclaimed_named_files(&listing, &tf.other_json, &claimed);
    let mut state = tf.state;
    state.extend(cfn.state);
    state.extend(k8s.state);
    let declared: Vec<_> = cfn
        .suppressions
        .into_iter()
        .chain(k8s.suppressions)
        .collect();
    let judged = run.judge(&state, &run.settings, &mut sources, declared);

    let mut errors: Vec<InputProblem> = tf
        .errors
        .into_iter()
        .chain(cfn.errors)
        .chain(k8s.errors)
        .chain(
            listing
                .errors
                .into_iter()
                .chain(template_errors)
                .map(|message| InputProblem::at(None, message)),
        )
        .chain(
            piped
                .errors
                .into_iter()
                .chain(unclaimed)
                .map(|(path, message)| {
                    InputProblem::at(
                        Some(ecrguard_model::Location::whole_file(
                            path.display().to_string(),
                        )),
                        message,
                    )
                }),
        )
        .collect();
    let mut not_evaluated: Vec<InputProblem> = tf.not_evaluated;
    not_evaluated.extend(unknowns(&state));
    not_evaluated.extend(
        listing.skipped.iter().map(|(path, why)| {
            InputProblem::not_evaluated(path.display().to_string(), why.clone())
        }),
    );
    not_evaluated.extend(cfn.not_evaluated.into_iter().chain(k8s.not_evaluated));
    not_evaluated.extend(judged.not_evaluated);
    let notes = judged.notes;
    errors.extend(judged.errors);
    not_evaluated.sort();
    not_evaluated.dedup();
    Scanned {
        sources,
        state,
        findings: judged.findings,
        errors,
        not_evaluated,
        files: tf.files + cfn.files + k8s.files,
        notes,
    }
}

/// What was read from named paths that can be read only once (pipes).
struct Piped {
    plans: Vec<(PathBuf, String)>,
    templates: Vec<(PathBuf, String)>,
    errors: Vec<(PathBuf, String)>,
}

/// Reads the named paths that are not regular files (`<(terraform show -json plan)`, a named
/// pipe; a device is refused) once, decides by content what they are, and takes them out of
/// the listing: the sources read the text, not the path again.
fn read_piped(listing: &mut ecrguard_walk::Listing, max_bytes: u64) -> Piped {
    let mut piped = Piped {
        plans: Vec::new(),
        templates: Vec::new(),
        errors: Vec::new(),
    };
    listing.roots.retain(|root| {
        let ecrguard_walk::Root::File(p) = root else {
            return true;
        };
        if std::fs::metadata(p).is_ok_and(|m| m.is_file()) {
            return true;
        }
        let text = ecrguard_walk::input::read_text(
            p,
            max_bytes,
            ecrguard_walk::input::Kinds::RegularOrPipe,
        );
        match text {
            Err(e) => piped
                .errors
                .push((p.clone(), format!("cannot read `{}`: {e}", p.display()))),
            Ok(text) if ecrguard_terraform::tfplan::looks_like_plan(&text) => {
                piped.plans.push((p.clone(), text));
            }
            Ok(text) if ecrguard_cloudformation::is_template_text(&text) => {
                piped.templates.push((p.clone(), text));
            }
            Ok(text) => piped.errors.push((p.clone(), not_recognised(p, &text))),
        }
        false
    });
    piped
}

/// Files named on the command line that no source read: an error, never "0 files scanned".
fn unclaimed_named_files(
    listing: &ecrguard_walk::Listing,
    other_json: &[PathBuf],
    templates: &[PathBuf],
) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for root in &listing.roots {
        let ecrguard_walk::Root::File(p) = root else {
            continue;
        };
        let terraform = ecrguard_terraform::discover::is_tf(p)
            || ecrguard_terraform::discover::is_terragrunt(p)
            || (p.extension().is_some_and(|e| e == "json") && !other_json.contains(p));
        if terraform || templates.contains(p) {
            continue;
        }
        let head =
            ecrguard_walk::input::read_text(p, 1024 * 1024, ecrguard_walk::input::Kinds::Regular)
                .unwrap_or_default();
        out.push((p.clone(), not_recognised(p, &head)));
    }
    out
}

/// Why a named file was not scanned, with what to do.
fn not_recognised(p: &std::path::Path, text: &str) -> String {
    let bare_policy = text.contains("\"Statement\"") && !text.contains("\"Resources\"");
    if bare_policy {
        format!(
            "`{}` is a policy document, not infrastructure code: check it with \
             `ecrguard check-policy {}`",
            p.display(),
            p.display()
        )
    } else {
        format!(
            "`{}` is not a format ecrguard scans (Terraform or OpenTofu `.tf` / `.tf.json` / \
             `.tofu` / `.tofu.json`, a Terragrunt `terragrunt.hcl`, a plan from \
             `terraform show -json`, a CloudFormation template, a `serverless.yml`, or \
             Kubernetes manifests of ACK or Crossplane ECR resources)",
            p.display()
        )
    }
}

/// What the rules could not look at because the source left it unknown: listed so users know
/// what was not checked (an unknown value is never a finding by itself).
fn unknowns(state: &ecrguard_model::EcrState) -> Vec<InputProblem> {
    use ecrguard_model::{PolicyState, Value};
    let mut out = Vec::new();
    let mut note = |address: &str, what: &str, why: &str| {
        out.push(InputProblem::not_evaluated(
            address.to_string(),
            format!("{what} is unknown: {why}"),
        ))
    };
    for owner in state.policy_owners() {
        if let PolicyState::Unknown(why, _) = owner.policy() {
            note(
                owner.id().label(),
                &format!("the {} policy", owner.noun()),
                why,
            );
        }
    }
    for r in state.repositories.iter().filter(|r| !r.policy_only) {
        let settings: [(&str, Option<&str>); 4] = [
            (
                "image tag mutability",
                if let Value::Unknown(w, _) = &r.tag_mutability {
                    Some(w)
                } else {
                    None
                },
            ),
            (
                "scan on push",
                if let Value::Unknown(w, _) = &r.scan_on_push {
                    Some(w)
                } else {
                    None
                },
            ),
            (
                "encryption",
                if let Value::Unknown(w, _) = &r.encryption {
                    Some(w)
                } else {
                    None
                },
            ),
            (
                "the lifecycle policy",
                if let Value::Unknown(w, _) = &r.lifecycle_policy {
                    Some(w)
                } else {
                    None
                },
            ),
        ];
        for (what, why) in settings {
            if let Some(why) = why {
                note(r.id.label(), what, why);
            }
        }
    }
    for i in &state.identities {
        for p in &i.policies {
            if let PolicyState::Unknown(why, _) = &p.document {
                note(i.id.label(), &format!("policy `{}`", p.name), why);
            }
        }
    }
    // Identity policies whose ECR grants depend on values the source left open.
    let identity_docs = state
        .managed_policies
        .iter()
        .filter_map(|m| m.document.doc())
        .chain(
            state
                .identities
                .iter()
                .flat_map(|i| &i.policies)
                .filter_map(|p| p.document.doc()),
        );
    // Only documents with an unresolved value can have an undecided grant: the rest are not
    // analysed twice.
    let unresolved = |doc: &&ecrguard_model::PolicyDoc| {
        doc.policy.statements.iter().any(|st| {
            st.resource
                .iter()
                .flat_map(|b| &b.values)
                .any(|v| v.unresolved().is_some())
                || st
                    .action
                    .iter()
                    .flat_map(|a| &a.patterns)
                    .any(|p| p.unknown)
        })
    };
    for doc in identity_docs.filter(unresolved) {
        for g in ecrguard_iam::identity::ecr_grants(&doc.policy) {
            if let Some(why) = &g.unresolved {
                let st = &doc.policy.statements[g.statement];
                out.push(InputProblem::not_evaluated(
                    doc.declared_by.label().to_string(),
                    format!("statement {} of the identity policy: {why}", st.label()),
                ));
            }
        }
    }
    out
}

/// CloudFormation parameter values: the file first (`[{"ParameterKey", "ParameterValue"}]`
/// or an object, with or without `Parameters`), then `Key=Value` pairs over it.
///
/// # Errors
/// The file cannot be read or has another shape, or a pair has no `=`.
pub fn parameters(
    list: &[String],
    file: Option<&std::path::Path>,
) -> Result<std::collections::BTreeMap<String, String>, String> {
    let mut out = std::collections::BTreeMap::new();
    if let Some(path) = file {
        let text = ecrguard_walk::input::read_text(
            path,
            ecrguard_walk::input::DEFAULT_MAX_FILE_BYTES,
            ecrguard_walk::input::Kinds::RegularOrPipe,
        )
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        let v: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| format!("`{}` is not JSON: {e}", path.display()))?;
        let scalar =
            |x: &serde_json::Value| x.as_str().map_or_else(|| x.to_string(), str::to_string);
        match &v {
            serde_json::Value::Array(items) => {
                for i in items {
                    let (Some(k), Some(val)) = (
                        i.get("ParameterKey").and_then(|k| k.as_str()),
                        i.get("ParameterValue"),
                    ) else {
                        return Err(format!(
                            "`{}`: each entry needs `ParameterKey` and `ParameterValue`",
                            path.display()
                        ));
                    };
                    out.insert(k.to_string(), scalar(val));
                }
            }
            serde_json::Value::Object(map) => {
                let params = map
                    .get("Parameters")
                    .and_then(|p| p.as_object())
                    .unwrap_or(map);
                for (k, val) in params {
                    out.insert(k.clone(), scalar(val));
                }
            }
            _ => {
                return Err(format!(
                    "`{}` must hold a list or an object of parameters",
                    path.display()
                ));
            }
        }
    }
    for p in list {
        let (k, v) = p
            .split_once('=')
            .ok_or_else(|| format!("--parameter `{p}` must be Key=Value"))?;
        out.insert(k.to_string(), v.to_string());
    }
    Ok(out)
}
