//! `ecrguard rules` and `ecrguard rule CODE|NAME`.

use crate::ExitStatus;
use crate::args::Format;
use crate::commands::write_stdout;
use ecrguard_rules::RuleMeta;
use ecrguard_rules::registry;
use std::fmt::Write as _;

fn meta_json(m: &RuleMeta) -> serde_json::Value {
    serde_json::json!({
        "code": m.code,
        "name": m.name,
        "severity": m.severity.as_str(),
        "category": m.category.as_str(),
        "summary": m.summary,
        "compliance": m.compliance,
        "docs": m.docs,
    })
}

pub(crate) fn run_list(format: Format) -> anyhow::Result<ExitStatus> {
    let text = match format {
        Format::Json => {
            let list: Vec<_> = registry::metas().map(meta_json).collect();
            serde_json::to_string_pretty(&serde_json::json!({"version": 1, "rules": list}))? + "\n"
        }
        Format::Text => {
            let mut s = String::new();
            let w = registry::metas().map(|m| m.name.len()).max().unwrap_or(0);
            let _ = writeln!(
                s,
                "{:<6}  {:<w$}  {:<8}  {:<9}  SUMMARY",
                "CODE", "NAME", "SEVERITY", "CATEGORY"
            );
            for m in registry::metas() {
                let _ = writeln!(
                    s,
                    "{:<6}  {:<w$}  {:<8}  {:<9}  {}",
                    m.code,
                    m.name,
                    m.severity.as_str(),
                    m.category.as_str(),
                    m.summary
                );
            }
            s
        }
    };
    write_stdout(&text)?;
    Ok(ExitStatus::Clean)
}

pub(crate) fn run_show(which: &str, format: Format) -> anyhow::Result<ExitStatus> {
    let Some(m) = registry::find_meta(which) else {
        anyhow::bail!("no rule `{which}`; `ecrguard rules` lists them");
    };
    let text = match format {
        Format::Json => serde_json::to_string_pretty(&meta_json(m))? + "\n",
        Format::Text => {
            let mut s = format!(
                "# {} {}\n\n{}\n\nSeverity: {}. Category: {}.\n",
                m.code,
                m.name,
                m.summary,
                m.severity,
                m.category.as_str()
            );
            if !m.compliance.is_empty() {
                let _ = writeln!(s, "Compliance: {}.", m.compliance.join("; "));
            }
            s.push('\n');
            // Doc comments carry one leading space per line.
            for line in m.docs.lines() {
                let _ = writeln!(s, "{}", line.strip_prefix(' ').unwrap_or(line));
            }
            s
        }
    };
    write_stdout(&text)?;
    Ok(ExitStatus::Clean)
}
