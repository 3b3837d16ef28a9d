//! Source snippets under a message, rustc-style. The only place that draws them, so the look
//! can change in one file.

use ecrguard_model::{Origin, SourceDb};
use std::fmt::Write as _;

/// Most lines shown for one span; longer spans show their start and end.
const MAX_LINES: usize = 10;

/// Renders the lines of `origin` with a gutter, underlining single-line spans and marking
/// multi-line ones. Returns an empty string for origins without file text.
#[must_use]
pub fn render(sources: &SourceDb, origin: &Origin) -> String {
    let Some(file_id) = origin.file() else {
        return String::new();
    };
    let Some(span) = origin.span() else {
        return String::new();
    };
    let file = sources.get(file_id);
    let (start_line, start_col) = file.line_col(span.start as usize);
    let (end_line, end_col) = file.line_col((span.end as usize).max(span.start as usize + 1) - 1);
    let width = end_line.to_string().len();
    let pad = " ".repeat(width);
    let mut out = String::new();
    let _ = writeln!(out, "{pad} |");
    if start_line == end_line {
        let _ = writeln!(out, "{start_line:>width$} | {}", file.line(start_line));
        let len = end_col.saturating_sub(start_col) + 1;
        let _ = writeln!(
            out,
            "{pad} | {}{}",
            " ".repeat(start_col - 1),
            "^".repeat(len.max(1))
        );
        return out;
    }
    let lines: Vec<usize> = (start_line..=end_line).collect();
    let shown: Vec<Option<usize>> = if lines.len() > MAX_LINES {
        let head = MAX_LINES / 2;
        let tail = MAX_LINES - head - 1;
        lines[..head]
            .iter()
            .map(|l| Some(*l))
            .chain(std::iter::once(None))
            .chain(lines[lines.len() - tail..].iter().map(|l| Some(*l)))
            .collect()
    } else {
        lines.iter().map(|l| Some(*l)).collect()
    };
    for l in shown {
        match l {
            Some(l) => {
                let _ = writeln!(out, "{l:>width$} | > {}", file.line(l));
            }
            None => {
                let _ = writeln!(out, "{pad} | > ...");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ecrguard_model::Span;

    #[test]
    fn single_and_multi_line() {
        let mut db = SourceDb::default();
        let f = db.add("p.json", "{\n  \"Effect\": \"allow\",\n  \"x\": 1\n}\n");
        let one = render(
            &db,
            &Origin::Span {
                file: f,
                span: Span::new(14, 21),
            },
        );
        assert_eq!(
            one,
            "  |\n2 |   \"Effect\": \"allow\",\n  |             ^^^^^^^\n"
        );
        let many = render(
            &db,
            &Origin::Span {
                file: f,
                span: Span::new(0, 33),
            },
        );
        assert!(
            many.contains("1 | > {") && many.contains("4 | > }"),
            "{many}"
        );
        assert_eq!(render(&db, &Origin::File(f)), "");
    }

    #[test]
    fn long_spans_are_elided() {
        let mut db = SourceDb::default();
        let text: String = (0..30).map(|i| format!("line{i}\n")).collect();
        let f = db.add("p.json", text.clone());
        let s = render(
            &db,
            &Origin::Span {
                file: f,
                span: Span::new(0, text.len()),
            },
        );
        assert!(
            s.contains("> ...")
                && s.contains("line0")
                && s.contains("line29")
                && !s.contains("line10"),
            "{s}"
        );
    }
}
