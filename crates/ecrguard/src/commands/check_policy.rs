//! `ecrguard check-policy`: one repository policy, its verdict, and its findings.

use crate::ExitStatus;
use crate::args::{CheckPolicyArgs, Format};
use crate::commands::write_stdout;
use ecrguard_iam::json::{self, Node, Value as JsonValue};
use ecrguard_iam::{AnalysisOptions, PolicyKind};
use ecrguard_model::{
    EcrState, FileId, Origin, PolicyDoc, PolicyState, Repository, ResourceId, SourceDb, Span, Value,
};
use ecrguard_report::{InputProblem, PolicyCheck};
use ecrguard_rules::SourceKind;

/// Largest input read. ECR accepts 10,240 characters; a megabyte leaves room for pretty
/// printing and wrappers while refusing to load anything absurd into memory.
const MAX_INPUT_BYTES: u64 = 1024 * 1024;

/// What the input turned out to be.
struct Loaded {
    input: String,
    policy_file: Option<FileId>,
    state: PolicyState,
    registry_id: Option<String>,
    repository: ResourceId,
    errors: Vec<InputProblem>,
}

fn read_input(path: Option<&std::path::Path>) -> anyhow::Result<(String, String)> {
    let too_large = |name: &str| {
        anyhow::anyhow!(
            "`{name}` is larger than 1 MiB; ECR accepts repository policies of at most 10,240 characters"
        )
    };
    let (name, read) = match path {
        None => ("<stdin>".to_string(), None),
        Some(p) if p.as_os_str() == "-" => ("<stdin>".to_string(), None),
        Some(p) => (p.display().to_string(), Some(p)),
    };
    let text = match read {
        None => ecrguard_walk::input::read_stdin_text(MAX_INPUT_BYTES),
        // A pipe is read without waiting for a writer; a device is refused.
        Some(p) => ecrguard_walk::input::read_text(
            p,
            MAX_INPUT_BYTES,
            ecrguard_walk::input::Kinds::RegularOrPipe,
        ),
    };
    let text = text.map_err(|e| match e {
        ecrguard_walk::input::ReadError::TooLarge { .. } => too_large(&name),
        other => anyhow::anyhow!("cannot read `{name}`: {other}"),
    })?;
    Ok((name, text))
}

fn load(db: &mut SourceDb, name: String, text: String) -> Loaded {
    let file = db.add(name.clone(), text);
    let mut out = Loaded {
        input: name.clone(),
        policy_file: Some(file),
        state: PolicyState::Unknown("not read".into(), Origin::File(file)),
        registry_id: None,
        repository: ResourceId::Input(name.clone()),
        errors: Vec::new(),
    };
    let declared_by = ResourceId::Input(name.clone());
    let text = db.get(file).text.clone();
    let root = match json::parse(&text) {
        Ok(n) => n,
        Err(e) => {
            let origin = Origin::Span {
                file,
                span: Span::new(e.offset, e.offset + 1),
            };
            out.errors.push(InputProblem::at(
                db.lines(&origin),
                format!("policy is not valid JSON: {}", e.message),
            ));
            out.state = PolicyState::Unparseable {
                error: format!("not valid JSON: {}", e.message),
                origin,
                declared_by,
            };
            return out;
        }
    };
    // `aws ecr get-repository-policy` output: the policy is the `policyText` string.
    let (policy_node, policy_file, policy_text) = match policy_text_of(&root) {
        Some(inner) => {
            out.registry_id = root
                .get("registryId")
                .and_then(Node::as_str)
                .map(str::to_string);
            if let Some(repo) = root.get("repositoryName").and_then(Node::as_str) {
                out.repository = ResourceId::Input(repo.to_string());
            }
            let inner_file = db.add(format!("{name} (policyText)"), inner.to_string());
            match json::parse(inner) {
                Ok(n) => (n, inner_file, inner.to_string()),
                Err(e) => {
                    let origin = Origin::Span {
                        file: inner_file,
                        span: Span::new(e.offset, e.offset + 1),
                    };
                    out.policy_file = Some(inner_file);
                    out.errors.push(InputProblem::at(
                        db.lines(&origin),
                        format!("`policyText` is not valid JSON: {}", e.message),
                    ));
                    out.state = PolicyState::Unparseable {
                        error: format!("`policyText` is not valid JSON: {}", e.message),
                        origin,
                        declared_by,
                    };
                    return out;
                }
            }
        }
        None => (root, file, text),
    };
    out.policy_file = Some(policy_file);
    let origin = Origin::File(policy_file);
    match ecrguard_iam::policy::parse_node_of_text(
        &policy_node,
        PolicyKind::Repository,
        &policy_text,
    ) {
        Ok(policy) => {
            out.state = PolicyState::Present(Box::new(PolicyDoc {
                policy,
                origin,
                declared_by,
                assumes: Vec::new(),
            }));
        }
        Err(e) => {
            let origin = origin.narrow(policy_node.span);
            out.errors
                .push(InputProblem::at(db.lines(&origin), e.message.clone()));
            out.state = PolicyState::Unparseable {
                error: e.message,
                origin,
                declared_by,
            };
        }
    }
    out
}

/// The `policyText` string of `get-repository-policy` output, if that is what `root` is.
fn policy_text_of(root: &Node) -> Option<&str> {
    if root.get("Statement").is_some() {
        return None;
    }
    match &root.get("policyText")?.value {
        JsonValue::String(s) => Some(s),
        _ => None,
    }
}

pub(crate) fn run(args: &CheckPolicyArgs) -> anyhow::Result<ExitStatus> {
    let (name, text) = read_input(args.file.as_deref())?;
    let mut db = SourceDb::default();
    let loaded = load(&mut db, name, text);
    // Named after where the value came from: the flag, or the input's `registryId`.
    let (owner, from) = match (&args.owner_account, &loaded.registry_id) {
        (Some(o), _) => (Some(o.clone()), "--owner-account".to_string()),
        (None, Some(r)) => (
            Some(r.clone()),
            format!("`registryId` in `{}`", loaded.input),
        ),
        (None, None) => (None, String::new()),
    };
    if let Some(o) = &owner
        && !ecrguard_iam::principal::is_account_id(o)
    {
        anyhow::bail!(
            "{from} `{}` is not a 12-digit account id",
            crate::commands::shown(o)
        );
    }
    // The same resolution as every command: `ecrguard.toml` (working directory or its
    // parents) under the flags; the owner named here wins over the config's.
    let run = crate::commands::resolve_run(
        None,
        std::path::Path::new("."),
        false,
        &ecrguard_engine::Flags {
            fail_on: args.fail_on.map(crate::commands::threshold),
            ..crate::commands::trust_flags(&args.trust)
        },
        SourceKind::Policy,
    )?;
    let mut settings = run.settings.clone();
    if owner.is_some() {
        settings.owner_account.clone_from(&owner);
    }
    let owner = settings.owner_account.clone();

    let origin = loaded
        .policy_file
        .map_or_else(|| Origin::File(FileId(0)), Origin::File);
    let mut repo = Repository::unknown(
        loaded.repository.clone(),
        origin.clone(),
        "a policy given alone says nothing about the repository's settings",
    );
    repo.name = Value::Set(loaded.repository.label().to_string(), origin);
    repo.account.clone_from(&owner);
    repo.policy = loaded.state;
    let state = EcrState {
        repositories: vec![repo],
        ..EcrState::default()
    };

    let findings = run.judge(&state, &settings, &mut db, Vec::new()).findings;

    let doc = state.repositories[0].policy.doc();
    let analysis = doc.map(|d| {
        ecrguard_iam::analyze(
            &d.policy,
            &AnalysisOptions {
                owner: owner.clone(),
            },
        )
    });
    let mut errors = loaded.errors;
    if analysis.as_ref().is_some_and(|a| a.incomplete) {
        errors.push(InputProblem::at(
            None,
            "parts of the policy could not be evaluated",
        ));
    }
    let check = PolicyCheck {
        sources: &db,
        input: loaded.input,
        policy_file: loaded.policy_file,
        policy: doc.map(|d| &d.policy),
        analysis: analysis.as_ref(),
        owner_account: owner,
        findings,
        errors,
    };
    let color = crate::commands::use_color(args.color);
    let out = match args.format {
        Format::Text => ecrguard_report::text::render_policy_check(
            &check,
            ecrguard_report::text::TextOptions { color },
        ),
        Format::Json => ecrguard_report::json::render_policy_check(&check),
    };
    write_stdout(&out)?;
    Ok(exit_status(&check, run.fail_on))
}

fn exit_status(check: &PolicyCheck<'_>, fail_on: ecrguard_engine::Threshold) -> ExitStatus {
    if !check.errors.is_empty() {
        return ExitStatus::Error;
    }
    match fail_on.severity() {
        Some(t) if check.findings.iter().any(|f| f.severity >= t) => ExitStatus::Findings,
        _ => ExitStatus::Clean,
    }
}
