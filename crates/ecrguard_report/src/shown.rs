//! Untrusted text as a terminal may show it. Sids, repository names, file names, event fields
//! and source lines are written by whoever wrote the input; printed raw, an escape sequence
//! among them can clear the screen, rewrite earlier lines or hide a finding, and a line break
//! can forge a finding of its own. The text format passes every such piece through [`one_line`]
//! (or [`code_line`] for source lines); the JSON, SARIF and GitHub formats escape by their own
//! rules.

use std::borrow::Cow;

/// Characters that change what a terminal shows rather than showing themselves: C0 and C1
/// controls, DEL, and the bidirectional overrides and isolates ("Trojan Source").
fn is_hostile(c: char, keep_tab: bool) -> bool {
    (c.is_control() && !(keep_tab && c == '\t'))
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
}

fn escape(s: &str, keep_tab: bool) -> Cow<'_, str> {
    if !s.chars().any(|c| is_hostile(c, keep_tab)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_hostile(c, keep_tab) {
            match c {
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                other => out.push_str(&format!("\\u{{{:x}}}", other as u32)),
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A value printed on one line: every control character (line breaks included) escaped.
#[must_use]
pub fn one_line(s: &str) -> Cow<'_, str> {
    escape(s, false)
}

/// A source line in a code frame: tabs kept, every other control character escaped.
#[must_use]
pub fn code_line(s: &str) -> Cow<'_, str> {
    escape(s, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidi_overrides_are_escaped() {
        assert_eq!(one_line("plain `x` €"), "plain `x` €");
        assert!(matches!(one_line("plain"), Cow::Borrowed(_)));
        assert_eq!(one_line("a\x1b[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(
            one_line("a\nhigh[ECR002] forged"),
            "a\\nhigh[ECR002] forged"
        );
        assert_eq!(
            one_line("x\u{202e}y\u{9b}z\u{7f}"),
            "x\\u{202e}y\\u{9b}z\\u{7f}"
        );
        assert_eq!(code_line("\tkey = 1\r"), "\tkey = 1\\r");
    }
}
