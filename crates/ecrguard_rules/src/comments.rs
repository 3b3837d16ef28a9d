//! Where the comments of a source file start. A suppression is honoured only in a real
//! comment: the same words inside a string, a heredoc or a YAML block scalar are data that
//! whoever wrote the input controls (a policy's `Sid`, a description), and must not hide a
//! finding.
//!
//! Two small lexers, enough to tell comments from strings: HCL (`#`, `//`, `/* */`; strings
//! with `${ }` templates that may nest strings; heredocs) and YAML (`#` after whitespace,
//! outside quoted scalars and block scalars). JSON has no comments.

/// The syntax a file is written in, by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// Terraform, OpenTofu, Terragrunt, variable files.
    Hcl,
    /// YAML (CloudFormation, Kubernetes).
    Yaml,
    /// Anything without comments (JSON).
    NoComments,
}

impl Syntax {
    /// The syntax of a file by its path.
    #[must_use]
    pub fn of(path: &str) -> Syntax {
        let lower = path.to_ascii_lowercase();
        if lower.ends_with(".json") {
            Syntax::NoComments
        } else if lower.ends_with(".yaml")
            || lower.ends_with(".yml")
            || lower.ends_with(".template")
        {
            Syntax::Yaml
        } else {
            Syntax::Hcl
        }
    }
}

/// Byte offsets where comments start (at the `#`, `//` or `/*`), in order.
#[must_use]
pub fn comment_starts(text: &str, syntax: Syntax) -> Vec<usize> {
    match syntax {
        Syntax::Hcl => hcl(text),
        Syntax::Yaml => yaml(text),
        Syntax::NoComments => Vec::new(),
    }
}

enum Hcl {
    /// Code; inside a template interpolation, with the brace depth to its closing `}`.
    Code(Option<usize>),
    /// A quoted string.
    Str,
}

fn hcl(text: &str) -> Vec<usize> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut stack = vec![Hcl::Code(None)];
    let mut i = 0;
    while i < b.len() {
        let top = stack.last_mut().expect("the stack keeps its base");
        match top {
            Hcl::Str => match b[i] {
                b'\\' => i += 1,
                b'"' => {
                    stack.pop();
                }
                b'$' | b'%'
                    if b.get(i + 1) == Some(&b'{') && b.get(i.wrapping_sub(1)) != Some(&b[i]) =>
                {
                    stack.push(Hcl::Code(Some(0)));
                    i += 1;
                }
                b'\n' => {
                    // An unterminated string ends at the line (as the parser would report).
                    stack.pop();
                }
                _ => {}
            },
            Hcl::Code(depth) => match b[i] {
                b'#' => {
                    out.push(i);
                    i = line_end(b, i);
                    continue;
                }
                b'/' if b.get(i + 1) == Some(&b'/') => {
                    out.push(i);
                    i = line_end(b, i);
                    continue;
                }
                b'/' if b.get(i + 1) == Some(&b'*') => {
                    out.push(i);
                    i = text[i + 2..].find("*/").map_or(b.len(), |e| i + 2 + e + 2);
                    continue;
                }
                b'"' => stack.push(Hcl::Str),
                b'{' => {
                    if let Some(d) = depth {
                        *d += 1;
                    }
                }
                b'}' => match depth {
                    Some(0) => {
                        stack.pop();
                    }
                    Some(d) => *d -= 1,
                    None => {}
                },
                b'<' if b.get(i + 1) == Some(&b'<') => {
                    if let Some(end) = heredoc_end(text, i) {
                        i = end;
                        continue;
                    }
                }
                _ => {}
            },
        }
        i += 1;
    }
    out
}

fn line_end(b: &[u8], from: usize) -> usize {
    b[from..]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(b.len(), |p| from + p)
}

/// The offset after a heredoc that starts with `<<` at `at` (`<<EOF` or `<<-EOF`), if it is one.
fn heredoc_end(text: &str, at: usize) -> Option<usize> {
    let rest = &text[at + 2..];
    let rest = rest.strip_prefix('-').unwrap_or(rest);
    let marker: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    if marker.is_empty() {
        return None;
    }
    let body_start = at + text[at..].find('\n')? + 1;
    let mut offset = body_start;
    for line in text[body_start..].split_inclusive('\n') {
        offset += line.len();
        if line.trim() == marker {
            return Some(offset);
        }
    }
    Some(text.len())
}

fn yaml(text: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut offset = 0;
    // The indentation of the line that opened a block scalar (`key: |`), while inside it.
    let mut block: Option<usize> = None;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let content = line.trim_end_matches(['\n', '\r']);
        let indent = content.len() - content.trim_start().len();
        if let Some(opened) = block {
            if content.trim().is_empty() || indent > opened {
                continue;
            }
            block = None;
        }
        let mut quote: Option<u8> = None;
        let b = content.as_bytes();
        let mut comment = None;
        let mut i = 0;
        while i < b.len() {
            match (quote, b[i]) {
                (Some(b'"'), b'\\') => i += 1,
                (Some(q), c) if c == q => {
                    // `''` inside a single-quoted scalar is an escaped quote.
                    if q == b'\'' && b.get(i + 1) == Some(&b'\'') {
                        i += 1;
                    } else {
                        quote = None;
                    }
                }
                (None, c @ (b'"' | b'\''))
                    if i == 0
                        || matches!(b[i - 1], b' ' | b'\t' | b':' | b'-' | b'[' | b'{' | b',') =>
                {
                    quote = Some(c);
                }
                (None, b'#') if i == 0 || matches!(b[i - 1], b' ' | b'\t') => {
                    comment = Some(i);
                    break;
                }
                _ => {}
            }
            i += 1;
        }
        if let Some(c) = comment {
            out.push(start + c);
        }
        // A block scalar starts after an indicator at the end of the line's content.
        let code = comment.map_or(content, |c| &content[..c]).trim_end();
        let indicator = code.rsplit([' ', '\t']).next().unwrap_or("");
        let is_block = (indicator.starts_with('|') || indicator.starts_with('>'))
            && indicator[1..]
                .chars()
                .all(|ch| ch == '-' || ch == '+' || ch.is_ascii_digit())
            && code.len() > indicator.len();
        if is_block {
            block = Some(indent);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comments(text: &str, syntax: Syntax) -> Vec<&str> {
        comment_starts(text, syntax)
            .into_iter()
            .map(|s| text[s..].lines().next().unwrap_or(""))
            .collect()
    }

    #[test]
    fn hcl_comments_not_strings_or_heredocs() {
        let text = r##"# real one
resource "x" "y" { // real two
  sid = "a # not ${var.b} // not"
  nested = "${join("#", ["x # no"])} # not"
  /* real three */
  policy = <<EOF
# not: heredoc
EOF
  other = <<-JSON
    // not either
  JSON
  last = 1 # real four
}
"##;
        assert_eq!(
            comments(text, Syntax::Hcl),
            [
                "# real one",
                "// real two",
                "/* real three */",
                "# real four"
            ]
        );
    }

    #[test]
    fn yaml_comments_not_quoted_or_block_scalars() {
        let text = "# real one\nkey: value # real two\nsid: 'a # not'\nd: \"b # not\"\nurl: http://x#frag\ntext: |\n  # not: block scalar\n  more\nnext: 1  # real three\nfold: >-\n  # not\n";
        assert_eq!(
            comments(text, Syntax::Yaml),
            ["# real one", "# real two", "# real three"]
        );
        assert!(comments("{\"a\": \"# x\"}", Syntax::NoComments).is_empty());
    }

    #[test]
    fn syntax_by_name() {
        assert_eq!(Syntax::of("a/main.tf"), Syntax::Hcl);
        assert_eq!(Syntax::of("a/t.YAML"), Syntax::Yaml);
        assert_eq!(Syntax::of("a/p.tf.json"), Syntax::NoComments);
    }
}
