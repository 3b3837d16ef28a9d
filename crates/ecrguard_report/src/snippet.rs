//! Source snippets under a message, rustc-style. The only place that draws them, so the look
//! can change in one file.

use ecrguard_model::{Origin, SourceDb};
use std::fmt::Write as _;

/// Most lines shown for one span; longer spans show their start and end.
const MAX_LINES: usize = 10;

/// Most characters of one source line shown: a minified policy is one line of 100 KB, and a
/// frame per finding must not print it whole each time.
const MAX_COLUMNS: usize = 160;

/// The part of `line` shown around 1-based character column `col`: at most [`MAX_COLUMNS`]
/// characters, with `…` where it was cut; control characters escaped. Returns the text and
/// the column `col` lands on within it.
fn window(line: &str, col: usize) -> (String, usize) {
    let chars: Vec<char> = line.chars().collect();
    let (from, to) = if chars.len() <= MAX_COLUMNS {
        (0, chars.len())
    } else {
        let from = col.saturating_sub(1).saturating_sub(MAX_COLUMNS / 4);
        let from = from.min(chars.len() - MAX_COLUMNS);
        (from, from + MAX_COLUMNS)
    };
    let mut out = String::new();
    let mut shift = 0usize;
    if from > 0 {
        out.push('…');
        shift = 1;
    }
    let visible: String = chars[from..to].iter().collect();
    // Escapes lengthen the text before the column: count what precedes it as shown.
    let before: String = chars[from..(col.saturating_sub(1)).clamp(from, to)]
        .iter()
        .collect();
    let col_in = shift + crate::shown::code_line(&before).chars().count() + 1;
    out.push_str(&crate::shown::code_line(&visible));
    if to < chars.len() {
        out.push('…');
    }
    (out, col_in)
}

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
        let (shown, col) = window(file.line(start_line), start_col);
        let _ = writeln!(out, "{start_line:>width$} | {shown}");
        let len = (end_col.saturating_sub(start_col) + 1)
            .min(shown.chars().count().saturating_sub(col - 1))
            .max(1);
        let _ = writeln!(out, "{pad} | {}{}", " ".repeat(col - 1), "^".repeat(len));
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
                let col = if l == start_line { start_col } else { 1 };
                let _ = writeln!(out, "{l:>width$} | > {}", window(file.line(l), col).0);
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

    #[test]
    fn a_minified_line_shows_a_bounded_window_around_the_span() {
        let mut db = SourceDb::default();
        let filler = "x".repeat(50_000);
        let text = format!("{{\"a\":\"{filler}\",\"Effect\":\"Allow\",\"b\":\"{filler}\"}}");
        let start = text.find("\"Effect\"").unwrap();
        let f = db.add("p.json", text.clone());
        let s = render(
            &db,
            &Origin::Span {
                file: f,
                span: Span::new(start, start + 8),
            },
        );
        assert!(s.len() < 600, "{} bytes", s.len());
        assert!(s.contains("…") && s.contains("\"Effect\""), "{s}");
        // The caret stands under the span.
        let lines: Vec<&str> = s.lines().collect();
        let caret = lines[2].chars().position(|c| c == '^').unwrap();
        let under: String = lines[1].chars().skip(caret).take(8).collect();
        assert_eq!(under, "\"Effect\"", "{s}");
    }

    #[test]
    fn control_characters_in_source_lines_are_escaped() {
        let mut db = SourceDb::default();
        let f = db.add("p.tf", "sid = \"\x1b[2J\"\n");
        let s = render(
            &db,
            &Origin::Span {
                file: f,
                span: Span::new(0, 3),
            },
        );
        assert!(!s.contains('\x1b') && s.contains("\\u{1b}"), "{s}");
    }
}
