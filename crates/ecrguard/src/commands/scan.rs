//! `ecrguard scan`: infrastructure code in, findings out, in the format CI wants.

use crate::ExitStatus;
use crate::args::{FailOn, ScanArgs};
use crate::commands::{emit_report, threshold};
use crate::config::{self, ConfigError, LoadedConfig, check_account};
use ecrguard_model::{Origin, Span};
use ecrguard_report::{InputError, NotEvaluated, ScanReport};
use ecrguard_rules::suppression::{self, ConfigSuppression};
use ecrguard_rules::{Rule, RuleMeta, Settings, Severity, SourceKind, registry};
use std::path::PathBuf;

/// Settings, rules and suppressions resolved from the config file and the flags.
struct Resolved {
    settings: Settings,
    strict: bool,
    budgets: ecrguard_terraform::project::Budgets,
    rules: Vec<&'static dyn Rule>,
    fail_on: Option<Severity>,
    suppressions: Vec<(ConfigSuppression, std::ops::Range<usize>)>,
    config: Option<LoadedConfig>,
}

/// Whether a selector (code, name or code prefix) picks a rule.
fn selects(selector: &str, m: &RuleMeta) -> bool {
    m.code.eq_ignore_ascii_case(selector)
        || m.name.eq_ignore_ascii_case(selector)
        || (selector.len() >= 3
            && m.code
                .to_ascii_uppercase()
                .starts_with(&selector.to_ascii_uppercase()))
}

fn fail_on_word(s: &str) -> Option<FailOn> {
    Some(match s {
        "low" => FailOn::Low,
        "medium" => FailOn::Medium,
        "high" => FailOn::High,
        "critical" => FailOn::Critical,
        "never" => FailOn::Never,
        _ => return None,
    })
}

#[allow(clippy::too_many_lines)]
fn resolve(args: &ScanArgs) -> anyhow::Result<Resolved> {
    let config_path = if args.no_config {
        None
    } else {
        match &args.config {
            Some(p) => Some(p.clone()),
            None => config::discover(
                args.paths
                    .first()
                    .map_or(std::path::Path::new("."), PathBuf::as_path),
            ),
        }
    };
    let config = config_path
        .as_deref()
        .map(|p| config::load(p, args.config.is_some()))
        .transpose()?;
    let mut settings = Settings::default();
    let mut select: Vec<String> = Vec::new();
    let mut ignore: Vec<String> = Vec::new();
    let mut fail_on = FailOn::Low;
    let mut suppressions = Vec::new();
    let mut budgets = ecrguard_terraform::project::Budgets::default();
    if let Some(c) = &config {
        let raw = &c.raw;
        settings = c.settings()?;
        budgets = c.budgets(budgets)?;
        for s in raw.select.iter().chain(&raw.ignore) {
            if !registry::metas().any(|m| selects(s.get_ref(), m)) {
                return c.error_at(s.span(), format!("no rule matches `{}`", s.get_ref()))?;
            }
        }
        select = raw.select.iter().map(|s| s.get_ref().clone()).collect();
        ignore = raw.ignore.iter().map(|s| s.get_ref().clone()).collect();
        if let Some(f) = &raw.fail_on {
            fail_on = fail_on_word(f.get_ref()).map_or_else(
                || {
                    c.error_at(
                        f.span(),
                        format!(
                            "`fail-on` must be low, medium, high, critical or never, not `{}`",
                            f.get_ref()
                        ),
                    )
                },
                Ok,
            )?;
        }
        for (rule, sev) in &raw.severity {
            let Some(m) = registry::find_meta(rule) else {
                return c.error_at(
                    sev.span(),
                    format!("`[severity]` names unknown rule `{rule}`"),
                )?;
            };
            let Some(level) = Severity::parse(sev.get_ref()) else {
                return c.error_at(
                    sev.span(),
                    format!(
                        "severity must be low, medium, high or critical, not `{}`",
                        sev.get_ref()
                    ),
                )?;
            };
            settings.severity_overrides.insert(m.code, level);
        }
        for entry in &raw.suppress {
            let s = entry.get_ref();
            if registry::find_meta(s.rule.get_ref()).is_none() {
                return c.error_at(
                    s.rule.span(),
                    format!("`[[suppress]]` names unknown rule `{}`", s.rule.get_ref()),
                )?;
            }
            if s.reason.get_ref().trim().is_empty() {
                return c.error_at(
                    s.reason.span(),
                    "`[[suppress]]` needs a non-empty `reason`".to_string(),
                )?;
            }
            if let Some(e) = &s.expires
                && !ecrguard_rules::dates::is_date(e.get_ref())
            {
                return c.error_at(
                    e.span(),
                    format!("`expires` must be a YYYY-MM-DD date, not `{}`", e.get_ref()),
                )?;
            }
            suppressions.push((
                ConfigSuppression {
                    rule: s.rule.get_ref().clone(),
                    resource: s.resource.clone(),
                    reason: s.reason.get_ref().clone(),
                    expires: s.expires.as_ref().map(|e| e.get_ref().clone()),
                    origin: Origin::File(ecrguard_model::FileId(0)),
                    kind: ecrguard_rules::SuppressionKind::Config,
                },
                entry.span(),
            ));
        }
    }
    // Flags override (owner, select, fail-on) or extend (trusted, ignore) the file.
    if let Some(o) = &args.owner_account {
        check_account(o).map_err(|m| anyhow::anyhow!("--owner-account: {m}"))?;
        settings.owner_account = Some(o.clone());
    }
    config::check_trust(&args.trust)?;
    settings
        .trusted_accounts
        .extend(args.trust.trusted_accounts.iter().cloned());
    settings
        .trusted_orgs
        .extend(args.trust.trusted_orgs.iter().cloned());
    if !args.select.is_empty() {
        select.clone_from(&args.select);
    }
    ignore.extend(args.ignore.iter().cloned());
    for s in args.select.iter().chain(&args.ignore) {
        if !registry::metas().any(|m| selects(s, m)) {
            anyhow::bail!("no rule matches `{s}`; `ecrguard rules` lists them");
        }
    }
    if let Some(f) = args.fail_on {
        fail_on = f;
    }
    let rules = registry::for_source(SourceKind::Terraform)
        .filter(|r| select.is_empty() || select.iter().any(|s| selects(s, r.meta())))
        .filter(|r| !ignore.iter().any(|s| selects(s, r.meta())))
        .collect();
    Ok(Resolved {
        settings,
        strict: args.strict || config.as_ref().and_then(|c| c.raw.strict).unwrap_or(false),
        budgets,
        rules,
        fail_on: threshold(fail_on),
        suppressions,
        config,
    })
}

pub(crate) fn run(args: &ScanArgs) -> anyhow::Result<ExitStatus> {
    let resolved = match resolve(args) {
        Ok(r) => r,
        Err(e) => {
            if let Some(ce) = e.downcast_ref::<ConfigError>() {
                anyhow::bail!("invalid configuration: {ce}");
            }
            return Err(e);
        }
    };
    let cfn_options = ecrguard_cloudformation::CfnOptions {
        parameters: parse_parameters(&args.parameters, args.parameters_file.as_deref())?,
        // The template reader reads every YAML file: the Kubernetes source takes the texts
        // that name an ECR API group from it instead of reading them again.
        keep_other: Some(ecrguard_kubernetes::mentions_ecr_group),
    };
    // One walk for every source: two walks of the same tree would compete for the same cores.
    let mut listing = ecrguard_walk::walk(&args.paths, &|p| {
        ecrguard_terraform::discover::wanted(p) || ecrguard_cloudformation::candidate(p)
    });
    let piped = read_piped(&mut listing, resolved.budgets.max_file_bytes);
    let tf = ecrguard_terraform::scan_listing(
        &listing,
        &ecrguard_terraform::TerraformOptions {
            var_files: args.var_files.clone(),
            budgets: resolved.budgets,
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
    // Analysed once: the rules read the analyses, and so does the "not evaluated" list below.
    let policies = ecrguard_rules::analyze_state(&state, &resolved.settings);
    let mut findings = ecrguard_rules::check_analyzed(
        &state,
        &resolved.settings,
        &policies,
        resolved.rules.iter().copied(),
    );

    // Suppressions: comments in every scanned file, entries of the config file.
    let files: Vec<ecrguard_model::FileId> = sources.ids().collect();
    let config_suppressions: Vec<ConfigSuppression> = match &resolved.config {
        Some(c) => {
            let id = sources.add(c.path.display().to_string(), c.text.clone());
            resolved
                .suppressions
                .iter()
                .map(|(s, span)| ConfigSuppression {
                    origin: Origin::Span {
                        file: id,
                        span: Span::new(span.start, span.end),
                    },
                    ..s.clone()
                })
                .collect()
        }
        None => Vec::new(),
    };
    let known = |r: &str| registry::find_meta(r).is_some();
    let mut config_suppressions = config_suppressions;
    // Suppressions declared inside the sources' own structure: template `Metadata`,
    // Kubernetes annotations.
    for ds in cfn.suppressions.into_iter().chain(k8s.suppressions) {
        if ds.reason.trim().is_empty() || registry::find_meta(&ds.rule).is_none() {
            let why = if ds.reason.trim().is_empty() {
                "a reason is required".to_string()
            } else {
                format!("unknown rule `{}`", ds.rule)
            };
            findings.push(suppression::invalid(
                ds.resource,
                ds.origin,
                format!("Suppression {} cannot be read: {why}", ds.written),
            ));
            continue;
        }
        config_suppressions.push(ConfigSuppression {
            rule: ds.rule,
            resource: ds.resource.label().to_string(),
            reason: ds.reason,
            expires: ds.until,
            origin: ds.origin,
            kind: ecrguard_rules::SuppressionKind::InSource,
        });
    }
    let today = std::env::var("ECRGUARD_TODAY").unwrap_or_else(|_| suppression::today());
    suppression::apply(
        &mut findings,
        &sources,
        &files,
        &config_suppressions,
        &today,
        &known,
    );
    ecrguard_report::sort_findings(&sources, &mut findings);

    let mut rules: Vec<&'static RuleMeta> = resolved.rules.iter().map(|r| r.meta()).collect();
    rules.extend(registry::SUPPRESSION_RULES.iter().copied());
    let errors: Vec<InputError> = tf
        .errors
        .into_iter()
        .map(|e| InputError {
            location: e.location,
            message: e.message,
        })
        .chain(cfn.errors.into_iter().map(|e| InputError {
            location: e.location,
            message: e.message,
        }))
        .chain(k8s.errors.into_iter().map(|e| InputError {
            location: e.location,
            message: e.message,
        }))
        .chain(
            listing
                .errors
                .into_iter()
                .chain(template_errors)
                .map(|message| InputError {
                    location: None,
                    message,
                }),
        )
        .chain(
            piped
                .errors
                .into_iter()
                .chain(unclaimed)
                .map(|(path, message)| InputError {
                    location: Some(ecrguard_model::Location::whole_file(
                        path.display().to_string(),
                    )),
                    message,
                }),
        )
        .collect();
    let mut not_evaluated: Vec<NotEvaluated> = tf
        .not_evaluated
        .into_iter()
        .map(|n| NotEvaluated {
            address: n.address,
            reason: n.reason,
        })
        .collect();
    not_evaluated.extend(unknowns(&state));
    not_evaluated.extend(listing.skipped.iter().map(|(path, why)| NotEvaluated {
        address: path.display().to_string(),
        reason: why.clone(),
    }));
    not_evaluated.extend(
        cfn.not_evaluated
            .into_iter()
            .chain(k8s.not_evaluated)
            .map(|(address, reason)| NotEvaluated { address, reason }),
    );
    for p in &policies {
        for sa in p
            .analysis
            .statements
            .iter()
            .filter(|sa| !sa.incomplete.is_empty())
        {
            let st = &p.doc.policy.statements[sa.index];
            not_evaluated.push(NotEvaluated {
                address: p.doc.declared_by.to_string(),
                reason: format!(
                    "statement {} of the {} policy: {}",
                    st.label(),
                    p.owner.noun(),
                    sa.incomplete.join("; ")
                ),
            });
        }
    }
    not_evaluated.sort();
    not_evaluated.dedup();
    let report = ScanReport {
        strict: resolved.strict,
        sources: &sources,
        findings,
        errors,
        not_evaluated,
        files: tf.files + cfn.files + k8s.files,
        files_noun: ["file", "files"],
        access: None,
        rules,
    };
    let status = emit_report(
        &report,
        args.format,
        args.output.as_deref(),
        args.color,
        resolved.fail_on,
    );
    // The process ends right after this: freeing a large scan's model, sources and findings
    // one allocation at a time took ~20 ms on the large template corpus, for nothing.
    std::mem::forget(report);
    std::mem::forget(policies);
    std::mem::forget(state);
    std::mem::forget(sources);
    status
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
fn unknowns(state: &ecrguard_model::EcrState) -> Vec<NotEvaluated> {
    use ecrguard_model::{PolicyState, Value};
    let mut out = Vec::new();
    let mut note = |address: &str, what: &str, why: &str| {
        out.push(NotEvaluated {
            address: address.to_string(),
            reason: format!("{what} is unknown: {why}"),
        })
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
                out.push(NotEvaluated {
                    address: doc.declared_by.label().to_string(),
                    reason: format!("statement {} of the identity policy: {why}", st.label()),
                });
            }
        }
    }
    out
}

/// Parameter values: the file first, then `--parameter Key=Value` pairs over it.
fn parse_parameters(
    list: &[String],
    file: Option<&std::path::Path>,
) -> anyhow::Result<std::collections::BTreeMap<String, String>> {
    let mut out = std::collections::BTreeMap::new();
    if let Some(path) = file {
        let text = ecrguard_walk::input::read_text(
            path,
            ecrguard_walk::input::DEFAULT_MAX_FILE_BYTES,
            ecrguard_walk::input::Kinds::RegularOrPipe,
        )
        .map_err(|e| anyhow::anyhow!("cannot read `{}`: {e}", path.display()))?;
        let v: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("`{}` is not JSON: {e}", path.display()))?;
        let scalar =
            |x: &serde_json::Value| x.as_str().map_or_else(|| x.to_string(), str::to_string);
        match &v {
            serde_json::Value::Array(items) => {
                for i in items {
                    let (Some(k), Some(val)) = (
                        i.get("ParameterKey").and_then(|k| k.as_str()),
                        i.get("ParameterValue"),
                    ) else {
                        anyhow::bail!(
                            "`{}`: each entry needs `ParameterKey` and `ParameterValue`",
                            path.display()
                        );
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
            _ => anyhow::bail!(
                "`{}` must hold a list or an object of parameters",
                path.display()
            ),
        }
    }
    for p in list {
        let (k, v) = p
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("--parameter `{p}` must be Key=Value"))?;
        out.insert(k.to_string(), v.to_string());
    }
    Ok(out)
}
