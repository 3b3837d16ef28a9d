//! One self-contained HTML page: a summary, the findings with their code frames and filters
//! by severity, rule and resource, and for an audit the access matrix drawn as a graph of who
//! can push, delete and change the policy of which repository. No network: the page's own
//! Content-Security-Policy allows nothing but its inline style and script, and everything taken
//! from the input is escaped.

use crate::ScanReport;
use ecrguard_access::AccessMatrix;
use ecrguard_iam::access::Access;
use ecrguard_iam::catalog::ActionClass;
use ecrguard_rules::{Finding, Severity};
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// At most this many edges are drawn in the access graph; the rest are counted.
pub const MAX_EDGES: usize = 400;

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A message with its `backticked` parts as code.
fn message(s: &str) -> String {
    s.split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                format!("<code>{}</code>", esc(part))
            } else {
                esc(part)
            }
        })
        .collect()
}

fn sev(s: Severity) -> &'static str {
    s.as_str()
}

const STYLE: &str = "
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1f2328;background:#fff}
header{padding:16px 24px;border-bottom:1px solid #d0d7de}
h1{font-size:20px;margin:0 0 8px}
main{padding:16px 24px}
.counts span{display:inline-block;margin-right:12px}
.filters{margin:12px 0;display:flex;gap:12px;flex-wrap:wrap;align-items:center}
.finding{border:1px solid #d0d7de;border-radius:6px;margin:8px 0;padding:8px 12px}
.finding[hidden]{display:none}
.sev{font-weight:600;text-transform:uppercase;font-size:12px;padding:1px 6px;border-radius:4px}
.critical{background:#ffebe9;color:#82071e}.high{background:#fff1e5;color:#953800}
.medium{background:#fff8c5;color:#7d4e00}.low{background:#ddf4ff;color:#0a3069}
pre{background:#f6f8fa;padding:8px;overflow:auto;margin:6px 0}
.meta{color:#59636e;font-size:12px}
svg text{font:12px system-ui,sans-serif}
";

const SCRIPT: &str = r#"
(function () {
  var form = document.getElementById('filters');
  var items = Array.prototype.slice.call(document.querySelectorAll('.finding'));
  var shown = document.getElementById('shown');
  function read() {
    var params = new URLSearchParams(location.hash.replace(/^#/, ''));
    form.severity.value = params.get('severity') || '';
    form.rule.value = params.get('rule') || '';
    form.resource.value = params.get('resource') || '';
  }
  function apply() {
    var s = form.severity.value, r = form.rule.value, q = form.resource.value.toLowerCase();
    var n = 0;
    items.forEach(function (el) {
      var ok = (!s || el.dataset.severity === s) && (!r || el.dataset.rule === r) &&
        (!q || el.dataset.resource.toLowerCase().indexOf(q) !== -1);
      el.hidden = !ok;
      if (ok) { n += 1; }
    });
    shown.textContent = String(n);
    var params = new URLSearchParams();
    if (s) { params.set('severity', s); }
    if (r) { params.set('rule', r); }
    if (q) { params.set('resource', form.resource.value); }
    var hash = params.toString();
    if (('#' + hash) !== location.hash && !(hash === '' && location.hash === '')) {
      history.replaceState(null, '', hash ? '#' + hash : location.pathname);
    }
  }
  form.addEventListener('input', apply);
  form.addEventListener('change', apply);
  window.addEventListener('hashchange', function () { read(); apply(); });
  read();
  apply();
  document.body.dataset.ready = 'true';
})();
"#;

/// Renders a scan or audit report as one HTML page.
#[must_use]
pub fn render(report: &ScanReport<'_>, title: &str) -> String {
    let active: Vec<&Finding> = report.active().collect();
    let mut out = String::with_capacity(4096 + active.len() * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body>\n",
        esc(title)
    );
    let _ = write!(
        out,
        "<header><h1>{}</h1><div class=\"counts\"><span><b id=\"total\">{}</b> findings</span>",
        esc(title),
        active.len()
    );
    for s in [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
    ] {
        let n = active.iter().filter(|f| f.severity == s).count();
        let _ = write!(out, "<span class=\"sev {}\">{} {n}</span>", sev(s), sev(s));
    }
    let _ = write!(
        out,
        "<span class=\"meta\">{} {} scanned; {} suppressed or baselined; {} input errors; {} not evaluated</span></div></header>\n<main>\n",
        report.files,
        report.files_noun[usize::from(report.files != 1)],
        report.findings.len() - active.len(),
        report.errors.len(),
        report.not_evaluated.len()
    );
    // Filters: their state lives in the address (`#severity=high&rule=ECR002`), so a filtered
    // view can be linked.
    let rules: BTreeSet<(&str, &str)> = active.iter().map(|f| (f.rule.code, f.rule.name)).collect();
    out.push_str("<form id=\"filters\" class=\"filters\" onsubmit=\"return false\">");
    out.push_str("<label>Severity <select name=\"severity\"><option value=\"\">all</option>");
    for s in ["critical", "high", "medium", "low"] {
        let _ = write!(out, "<option value=\"{s}\">{s}</option>");
    }
    out.push_str(
        "</select></label><label>Rule <select name=\"rule\"><option value=\"\">all</option>",
    );
    for (code, name) in &rules {
        let _ = write!(
            out,
            "<option value=\"{code}\">{code} {}</option>",
            esc(name)
        );
    }
    out.push_str("</select></label><label>Resource <input name=\"resource\" type=\"search\" placeholder=\"part of a name\"></label>");
    let _ = writeln!(
        out,
        "<span class=\"meta\"><span id=\"shown\">{}</span> shown</span></form>",
        active.len()
    );
    for f in &active {
        let _ = write!(
            out,
            "<section class=\"finding\" data-severity=\"{}\" data-rule=\"{}\" data-resource=\"{}\">\
             <div><span class=\"sev {}\">{}</span> <b>{}</b> {} <span class=\"meta\">{}</span></div>\
             <div>{}</div>",
            sev(f.severity),
            f.rule.code,
            esc(f.resource.label()),
            sev(f.severity),
            sev(f.severity),
            f.rule.code,
            esc(f.rule.name),
            esc(f.resource.label()),
            message(&f.message)
        );
        if let Some(origin) = &f.origin
            && let Some((path, start, end)) = report.sources.line_range(origin)
            && let Some(file) = origin.file().map(|id| report.sources.get(id))
        {
            let end = end.min(start + 11);
            let mut frame = String::new();
            for n in start..=end {
                let _ = writeln!(frame, "{n:>5} | {}", file.line(n));
            }
            let _ = write!(
                out,
                "<div class=\"meta\">{}:{start}</div><pre>{}</pre>",
                esc(path),
                esc(&frame)
            );
        }
        for n in &f.notes {
            let _ = write!(out, "<div class=\"meta\">note: {}</div>", message(n));
        }
        if let Some(h) = &f.help {
            let _ = write!(out, "<div>help: {}</div>", message(h));
        }
        out.push_str("</section>\n");
    }
    if !report.errors.is_empty() {
        out.push_str("<h2>Inputs that could not be read</h2><ul>");
        for e in &report.errors {
            match e.place {
                crate::Place::Run => {
                    let _ = write!(out, "<li>{}</li>", message(&e.message));
                }
                ref place => {
                    let _ = write!(
                        out,
                        "<li><code>{}</code>: {}</li>",
                        esc(&place.to_string()),
                        message(&e.message)
                    );
                }
            }
        }
        out.push_str("</ul>\n");
    }
    if !report.not_evaluated.is_empty() {
        out.push_str("<h2>Not evaluated</h2><ul>");
        for n in &report.not_evaluated {
            let _ = write!(
                out,
                "<li><code>{}</code>: {}</li>",
                esc(&n.place.to_string()),
                message(&n.message)
            );
        }
        out.push_str("</ul>\n");
    }
    if let Some(m) = report.access {
        access_graph(&mut out, m);
    }
    let _ = writeln!(out, "</main><script>{SCRIPT}</script></body></html>");
    out
}

/// Who can push, delete or change the policy of which repository: principals on the left,
/// repositories on the right, one edge per principal, repository and class.
fn access_graph(out: &mut String, m: &AccessMatrix) {
    const CLASSES: [(ActionClass, &str, &str); 3] = [
        (ActionClass::Write, "push", "#953800"),
        (ActionClass::Delete, "delete", "#82071e"),
        (
            ActionClass::PermissionsManagement,
            "change policy",
            "#6639ba",
        ),
    ];
    let mut edges: Vec<(&str, &str, &str, &str, bool)> = Vec::new();
    for r in &m.repositories {
        for p in &r.principals {
            for (class, word, color) in CLASSES {
                match p.class(class) {
                    Access::No => {}
                    a => edges.push((
                        &p.principal,
                        &r.repository,
                        word,
                        color,
                        a == Access::Conditional,
                    )),
                }
            }
        }
    }
    out.push_str("<h2>Who can push, delete or change the policy</h2>");
    if edges.is_empty() {
        out.push_str("<p>Nobody, among the identities read.</p>\n");
        return;
    }
    let left_out = edges.len().saturating_sub(MAX_EDGES);
    edges.truncate(MAX_EDGES);
    let principals: Vec<&str> = edges
        .iter()
        .map(|e| e.0)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let repositories: Vec<&str> = edges
        .iter()
        .map(|e| e.1)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let row = 22;
    let height = 40 + row * principals.len().max(repositories.len());
    let (lx, rx, width) = (10, 620, 1100);
    let _ = write!(
        out,
        "<svg id=\"access-graph\" role=\"img\" aria-label=\"access graph\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\">"
    );
    let y = |i: usize| 30 + row * i;
    for (from, to, word, color, conditional) in &edges {
        let (Some(a), Some(b)) = (
            principals.iter().position(|p| p == from),
            repositories.iter().position(|r| r == to),
        ) else {
            continue;
        };
        let dash = if *conditional {
            " stroke-dasharray=\"4 3\""
        } else {
            ""
        };
        let _ = write!(
            out,
            "<line class=\"edge\" data-class=\"{word}\" x1=\"{}\" y1=\"{}\" x2=\"{rx}\" y2=\"{}\" stroke=\"{color}\"{dash}><title>{} can {word} {}</title></line>",
            lx + 420,
            y(a) - 4,
            y(b) - 4,
            esc(from),
            esc(to)
        );
    }
    for (i, p) in principals.iter().enumerate() {
        let _ = write!(out, "<text x=\"{lx}\" y=\"{}\">{}</text>", y(i), esc(p));
    }
    for (i, r) in repositories.iter().enumerate() {
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{}\">{}</text>",
            rx + 6,
            y(i),
            esc(r)
        );
    }
    out.push_str("</svg>");
    out.push_str("<p class=\"meta\">Solid: allowed; dashed: allowed under a condition. Colours: push, delete, change policy.</p>");
    if left_out > 0 {
        let _ = write!(
            out,
            "<p class=\"meta\">{left_out} more edges are not drawn; the JSON report has the whole matrix.</p>"
        );
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use ecrguard_access::{PrincipalAccess, RepositoryAccess};
    use ecrguard_model::SourceDb;

    #[test]
    fn input_is_escaped_and_the_access_graph_is_drawn() {
        let sources = SourceDb::default();
        let mut classes = std::collections::BTreeMap::new();
        classes.insert(ActionClass::Write, Access::Yes);
        classes.insert(ActionClass::PermissionsManagement, Access::Conditional);
        let matrix = AccessMatrix {
            repositories: vec![RepositoryAccess {
                repository: "arn:aws:ecr:us-east-1:111122223333:repository/<app>".into(),
                account: "111122223333".into(),
                region: Some("us-east-1".into()),
                principals: vec![PrincipalAccess {
                    principal: "arn:aws:iam::111122223333:role/ci".into(),
                    kind: ecrguard_model::IdentityKind::Role,
                    classes,
                    actions: std::collections::BTreeMap::new(),
                    granted_by: std::collections::BTreeMap::new(),
                }],
                incomplete: Vec::new(),
            }],
            unevaluated: Vec::new(),
            principals: 1,
        };
        let report = ScanReport {
            files_noun: ["repository", "repositories"],
            access: Some(&matrix),
            ..ScanReport::of_findings(&sources, Vec::new())
        };
        let html = render(&report, "ecrguard audit <x>");
        assert!(!html.contains("<app>") && !html.contains("audit <x>"));
        assert!(html.contains("repository/&lt;app&gt;"));
        assert_eq!(
            html.matches("<line class=\"edge\"").count(),
            2,
            "push and change policy"
        );
        assert!(
            html.contains("stroke-dasharray"),
            "the conditional edge is dashed"
        );
        assert!(
            !html.contains("http://") && !html.contains("https://"),
            "nothing reaches out"
        );
    }
}
