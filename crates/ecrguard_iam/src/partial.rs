//! Strings a source knows only in part: `arn:aws:ecr:${region}:${account}:repository/*`, a
//! Terraform template whose interpolations have no value yet, a CloudFormation `!Sub` over
//! `AWS::Region`. The known text is kept, so questions that do not depend on the unknown
//! parts still get an answer ("every repository of some account"), and the rest are
//! undecided, never absent.
//!
//! One assumption, and only for ARNs: an unknown part does not contain `:`. The parts that
//! are unknown in practice (partition, region, account id, a resource name) never do, and it
//! is what lets the known text say which ARN field an unknown part sits in.

use crate::principal::Arn;

/// One piece of a partly known string.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Piece {
    /// Known text.
    Text(String),
    /// A part the source could not resolve; the text says why.
    Unknown(String),
}

/// A string with at least one unknown piece. Adjacent known pieces are merged.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Partial {
    pieces: Vec<Piece>,
}

/// Builds a string piece by piece: a plain string when every piece is known.
#[derive(Debug, Default)]
pub struct PartialBuilder {
    pieces: Vec<Piece>,
}

impl PartialBuilder {
    /// Appends known text.
    pub fn text(&mut self, s: &str) {
        if s.is_empty() {
            return;
        }
        if let Some(Piece::Text(last)) = self.pieces.last_mut() {
            last.push_str(s);
        } else {
            self.pieces.push(Piece::Text(s.to_string()));
        }
    }

    /// Appends an unknown part.
    pub fn unknown(&mut self, why: impl Into<String>) {
        self.pieces.push(Piece::Unknown(why.into()));
    }

    /// Appends another partial string.
    pub fn partial(&mut self, p: &Partial) {
        for piece in &p.pieces {
            match piece {
                Piece::Text(t) => self.text(t),
                Piece::Unknown(why) => self.unknown(why.clone()),
            }
        }
    }

    /// Bytes of known text so far (for budgets).
    #[must_use]
    pub fn known_len(&self) -> usize {
        self.pieces
            .iter()
            .map(|p| match p {
                Piece::Text(t) => t.len(),
                Piece::Unknown(_) => 0,
            })
            .sum()
    }

    /// The string when every piece is known, else the partial string.
    pub fn finish(self) -> Result<String, Partial> {
        if self.pieces.iter().any(|p| matches!(p, Piece::Unknown(_))) {
            Err(Partial {
                pieces: self.pieces,
            })
        } else {
            Ok(self
                .pieces
                .into_iter()
                .map(|p| match p {
                    Piece::Text(t) => t,
                    Piece::Unknown(_) => String::new(),
                })
                .collect())
        }
    }
}

/// The stand-in for an unknown part in text shown to users.
pub const SHOWN_UNKNOWN: &str = "${?}";

impl Partial {
    /// The pieces in order.
    #[must_use]
    pub fn pieces(&self) -> &[Piece] {
        &self.pieces
    }

    /// The same string with `f` applied to each known piece.
    #[must_use]
    pub fn map_text(&self, f: impl Fn(&str) -> String) -> Partial {
        let mut b = PartialBuilder::default();
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => b.text(&f(t)),
                Piece::Unknown(why) => b.unknown(why.clone()),
            }
        }
        // Still has its unknown pieces, so it stays partial.
        Partial { pieces: b.pieces }
    }

    /// Why the first unknown piece is unknown.
    #[must_use]
    pub fn why(&self) -> &str {
        self.pieces
            .iter()
            .find_map(|p| match p {
                Piece::Unknown(why) => Some(why.as_str()),
                Piece::Text(_) => None,
            })
            .unwrap_or("")
    }

    /// The text with `${?}` for each unknown part, for messages.
    #[must_use]
    pub fn shown(&self) -> String {
        self.render(SHOWN_UNKNOWN)
    }

    /// As an IAM pattern, `*` for each unknown part: it matches at least everything any
    /// value of the string could match, so "does not match this" is a sure answer.
    #[must_use]
    pub fn widest_pattern(&self) -> String {
        self.render("*")
    }

    /// The string with each unknown part replaced by `with`.
    #[must_use]
    pub fn render(&self, with: &str) -> String {
        self.pieces
            .iter()
            .map(|p| match p {
                Piece::Text(t) => t.as_str(),
                Piece::Unknown(_) => with,
            })
            .collect()
    }

    /// "`arn:aws:ecr:${?}:...` is partly unknown (why; why)", every distinct reason once,
    /// for not-evaluated notes.
    #[must_use]
    pub fn describe(&self) -> String {
        let mut reasons: Vec<&str> = Vec::new();
        for p in &self.pieces {
            if let Piece::Unknown(why) = p
                && !reasons.contains(&why.as_str())
            {
                reasons.push(why);
            }
        }
        format!(
            "`{}` is partly unknown ({})",
            self.shown(),
            reasons.join("; ")
        )
    }

    /// For an ARN-shaped string: the ARN with each unknown part as `\u{0}`, and which of
    /// the fields hold an unknown part. `None` when the known text does not fix the ARN's
    /// shape (an unknown part where the field separators should be).
    #[must_use]
    pub fn arn_fields(&self) -> Option<(String, ArnUnknowns)> {
        let text = self.render(HOLE);
        let arn = Arn::parse(&text)?;
        if text.starts_with(HOLE) {
            return None;
        }
        let unknowns = ArnUnknowns {
            partition: arn.partition.contains(HOLE),
            service: arn.service.contains(HOLE),
            region: arn.region.contains(HOLE),
            account: arn.account.contains(HOLE),
            resource: arn.resource.contains(HOLE),
        };
        Some((text.clone(), unknowns))
    }
}

/// What a `${...}` reference in a string stands for, as a source's variable syntax decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Variable {
    /// Not a variable of this syntax (IAM's own `${aws:username}`): left as written.
    Keep,
    /// Known text.
    Text(String),
    /// Resolved only later (deploy time, a substitution step); the text says why.
    Unknown(String),
}

/// Resolves the `${...}` references of `s` (nested ones, `${a.${b}}`, as one) with `resolve`,
/// which gets what is between the braces. `None` when no reference was resolved, else the
/// string, an unknown value when it was a single unknown reference, or a partial string.
pub fn substitute(s: &str, resolve: impl Fn(&str) -> Variable) -> Option<crate::json::Value> {
    use crate::json::Value;
    let mut out = PartialBuilder::default();
    let mut rest = s;
    let mut changed = false;
    while let Some(i) = rest.find("${") {
        let bytes = rest.as_bytes();
        let mut depth = 1usize;
        let mut end = None;
        for j in i + 2..bytes.len() {
            match bytes[j] {
                b'{' if bytes[j - 1] == b'$' => depth += 1,
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(j);
                        break;
                    }
                }
                _ => {}
            }
        }
        let Some(end) = end else { break };
        out.text(&rest[..i]);
        match resolve(&rest[i + 2..end]) {
            Variable::Keep => out.text(&rest[i..=end]),
            Variable::Text(t) => {
                changed = true;
                out.text(&t);
            }
            Variable::Unknown(why) => {
                changed = true;
                out.unknown(why);
            }
        }
        rest = &rest[end + 1..];
    }
    if !changed {
        return None;
    }
    out.text(rest);
    Some(match out.finish() {
        Ok(text) => Value::String(text),
        Err(p) if p.pieces.len() == 1 => Value::Unknown(p.why().to_string()),
        Err(p) => Value::Partial(p),
    })
}

/// What stands for an unknown part while splitting an ARN: a character no ARN contains.
pub const HOLE: &str = "\u{0}";

/// Which fields of an ARN hold an unknown part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ArnUnknowns {
    /// The partition.
    pub partition: bool,
    /// The service.
    pub service: bool,
    /// The region.
    pub region: bool,
    /// The account id.
    pub account: bool,
    /// The resource (type and name).
    pub resource: bool,
}

/// A partial string from known pieces and `None` for unknown ones (for tests).
#[cfg(test)]
pub(crate) fn from_parts(parts: &[Option<&str>]) -> Partial {
    let mut b = PartialBuilder::default();
    for p in parts {
        match p {
            Some(t) => b.text(t),
            None => b.unknown("var.x has no value"),
        }
    }
    b.finish().expect_err("an unknown part")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn partial(parts: &[Option<&str>]) -> Partial {
        from_parts(parts)
    }

    #[test]
    fn known_pieces_make_a_plain_string() {
        let mut b = PartialBuilder::default();
        b.text("arn:");
        b.text("aws");
        assert_eq!(b.finish(), Ok("arn:aws".to_string()));
    }

    #[test]
    fn an_arn_says_which_fields_are_unknown() {
        let p = partial(&[
            Some("arn:aws:ecr:"),
            None,
            Some(":"),
            None,
            Some(":repository/*"),
        ]);
        assert_eq!(p.shown(), "arn:aws:ecr:${?}:${?}:repository/*");
        assert_eq!(p.widest_pattern(), "arn:aws:ecr:*:*:repository/*");
        let (_, u) = p.arn_fields().unwrap();
        assert!(u.region && u.account && !u.resource && !u.service && !u.partition);

        let p = partial(&[Some("arn:aws:ecr:us-east-1:111111111111:repository/"), None]);
        let (_, u) = p.arn_fields().unwrap();
        assert!(u.resource && !u.account);

        // The separators themselves are unknown: the shape is not fixed.
        assert!(
            partial(&[None, Some(":repository/*")])
                .arn_fields()
                .is_none()
        );
        assert!(partial(&[Some("arn:aws:"), None]).arn_fields().is_none());
    }

    #[test]
    fn the_reason_and_the_shown_text_survive() {
        let p = partial(&[Some("o-"), None]);
        assert_eq!(p.why(), "var.x has no value");
        assert_eq!(
            p.describe(),
            "`o-${?}` is partly unknown (var.x has no value)"
        );
    }
}
