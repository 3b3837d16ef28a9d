//! The access matrix (who can pull, push, delete, change the policy of each repository) as
//! JSON and as a text section: per repository, who can write or change it.

use crate::shown::one_line;
use crate::text::paint;
use ecrguard_access::{AccessMatrix, PrincipalAccess};
use ecrguard_iam::access::Access;
use ecrguard_iam::catalog::ActionClass;
use serde_json::{Value, json};
use std::fmt::Write as _;

/// What the matrix does not take into account, said wherever it is shown.
pub const SCOPE_NOTE: &str = "identity policies (users with their groups, roles) and repository policies; \
permissions boundaries, SCPs, RCPs and session policies are not evaluated and can only narrow access";

fn principal_json(p: &PrincipalAccess) -> Value {
    let mut classes = serde_json::Map::new();
    for c in ActionClass::ALL {
        classes.insert(c.as_str().into(), json!(p.class(c).as_str()));
    }
    json!({
        "principal": p.principal,
        "kind": format!("{:?}", p.kind).to_ascii_lowercase(),
        "access": classes,
        "actions": p.actions.iter().map(|(a, x)| json!({"action": a, "access": x.as_str()})).collect::<Vec<_>>(),
        "granted_by": p.granted_by.iter().flat_map(|(c, gs)| gs.iter().map(move |g| json!({"class": c.as_str(), "policy": g.policy, "statement": g.statement, "conditional": g.conditional}))).collect::<Vec<_>>(),
    })
}

/// The matrix as the `access` member of the audit's JSON report.
#[must_use]
pub fn render_json(m: &AccessMatrix) -> Value {
    json!({
        "scope": SCOPE_NOTE,
        "principals": m.principals,
        "repositories": m.repositories.iter().map(|r| json!({
            "repository": r.repository,
            "account": r.account,
            "region": r.region,
            "principals": r.principals.iter().map(principal_json).collect::<Vec<_>>(),
            "incomplete": r.incomplete,
        })).collect::<Vec<_>>(),
        "unevaluated": m.unevaluated.iter().map(|u| json!({"principal": u.principal, "reasons": u.reasons})).collect::<Vec<_>>(),
    })
}

/// The classes that change a repository or its images, most dangerous first.
const CHANGING: [ActionClass; 3] = [
    ActionClass::PermissionsManagement,
    ActionClass::Delete,
    ActionClass::Write,
];

/// A text section: per repository, who can write, delete or change its policy.
pub fn render_text(out: &mut String, m: &AccessMatrix, c: bool) {
    if m.repositories.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "{} ({SCOPE_NOTE})",
        paint(c, "1", "who can write, delete or change the policy:")
    );
    for r in &m.repositories {
        let rows: Vec<(&PrincipalAccess, Vec<String>)> = r
            .principals
            .iter()
            .filter_map(|p| {
                let what: Vec<String> = CHANGING
                    .iter()
                    .filter_map(|&class| match p.class(class) {
                        Access::No => None,
                        Access::Yes => Some(class.as_str().to_string()),
                        Access::Conditional => Some(format!("{} (conditional)", class.as_str())),
                    })
                    .collect();
                (!what.is_empty()).then_some((p, what))
            })
            .collect();
        let _ = writeln!(out, "  {}", one_line(&r.repository));
        if rows.is_empty() {
            let _ = writeln!(out, "    nobody");
        }
        for (p, what) in rows {
            // Only the statements behind these classes: a public pull grant is not how
            // someone pushes.
            let via: std::collections::BTreeSet<String> = CHANGING
                .iter()
                .filter_map(|c| p.granted_by.get(c))
                .flatten()
                .map(|g| format!("`{}` #{}", g.policy, g.statement))
                .collect();
            let _ = writeln!(
                out,
                "    {}: {} (via {})",
                one_line(&p.principal.to_string()),
                what.join(", "),
                one_line(&via.into_iter().collect::<Vec<_>>().join(", "))
            );
        }
        for i in &r.incomplete {
            let _ = writeln!(out, "    incomplete: {}", one_line(i));
        }
    }
    for u in &m.unevaluated {
        let _ = writeln!(
            out,
            "  not fully evaluated: {}: {}",
            one_line(&u.principal.to_string()),
            one_line(&u.reasons.join("; "))
        );
    }
    out.push('\n');
}
