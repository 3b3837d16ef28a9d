//! Values of evaluated Terraform expressions. Like Terraform's own values, plus `Unknown`
//! for what cannot be known before apply (or from the code alone), and `Encoded` for a
//! `jsonencode(...)` result, which is a string whose structure (and spans) we keep so that a
//! policy written as HCL points at its own lines.

use ecrguard_iam::json::{self, Member, Node, Span};
use ecrguard_iam::partial::Partial;
use ecrguard_model::FileId;

/// Where a value was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    /// The file.
    pub file: FileId,
    /// The bytes.
    pub span: Span,
}

/// A value with the position of the expression that produced it.
#[derive(Debug, Clone, PartialEq)]
pub struct V {
    /// The value.
    pub val: Val,
    /// Where it was written, when known.
    pub pos: Option<Pos>,
    /// For strings written literally (a heredoc or a quoted string without escapes or
    /// interpolation): the file offset of the first character, so that positions inside the
    /// string (a JSON policy in a heredoc) map back to the file.
    pub text_base: Option<Pos>,
}

/// Terraform values.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    /// `null`
    Null,
    /// A boolean.
    Bool(bool),
    /// A number.
    Number(f64),
    /// A string.
    String(String),
    /// A list, tuple or set.
    List(Vec<V>),
    /// An object or map, in key order of writing (Terraform sorts map keys; we sort when a
    /// function needs it).
    Object(Vec<(String, V)>),
    /// Not known: the text says why.
    Unknown(String),
    /// Evaluating it fails (an index out of range, a key not present, a conversion that does
    /// not apply): Terraform would stop with an error. Unknown to everything but `try` and
    /// `can`, which tell it from a value known only after apply.
    Error(String),
    /// A string produced by `jsonencode`: the value it encodes.
    Encoded(Box<V>),
    /// A string known only in part (a template whose interpolations are not all known).
    Partial(Partial),
    /// An attribute known only after apply of a resource the code declares. Unknown as a
    /// value, but it still says whose attribute it is, so that links by reference work
    /// (`policy_arn = aws_iam_policy.push.arn` when the policy's name is computed).
    Computed {
        /// The resource instance's address.
        address: String,
        /// The attribute.
        attribute: &'static str,
    },
}

impl V {
    /// A value without position.
    #[must_use]
    pub fn new(val: Val) -> V {
        V {
            val,
            pos: None,
            text_base: None,
        }
    }

    /// An unknown value.
    #[must_use]
    pub fn unknown(why: impl Into<String>) -> V {
        V::new(Val::Unknown(why.into()))
    }

    /// A value whose evaluation fails (see [`Val::Error`]).
    #[must_use]
    pub fn error(why: impl Into<String>) -> V {
        V::new(Val::Error(why.into()))
    }

    /// Whether evaluating it failed.
    #[must_use]
    pub fn is_error(&self) -> bool {
        matches!(self.val, Val::Error(_))
    }

    /// A string value.
    #[must_use]
    pub fn string(s: impl Into<String>) -> V {
        V::new(Val::String(s.into()))
    }

    /// The same value at a position (keeps an existing position).
    #[must_use]
    pub fn at(mut self, pos: Option<Pos>) -> V {
        if self.pos.is_none() {
            self.pos = pos;
        }
        self
    }

    /// Whether the value is unknown, wholly or in part (a partly known string).
    #[must_use]
    pub fn is_unknown(&self) -> bool {
        matches!(
            self.val,
            Val::Unknown(_) | Val::Error(_) | Val::Partial(_) | Val::Computed { .. }
        )
    }

    /// Why the value is not (fully) known, for unknown and partly known values.
    #[must_use]
    pub fn unknown_why(&self) -> Option<String> {
        match &self.val {
            Val::Unknown(why) => Some(why.clone()),
            Val::Error(why) => Some(format!("{why} (Terraform would stop with an error)")),
            Val::Partial(p) => Some(p.describe()),
            Val::Computed { address, attribute } => {
                Some(format!("`{address}.{attribute}` is known only after apply"))
            }
            _ => None,
        }
    }

    /// The string, for strings and numbers and booleans (Terraform converts them).
    #[must_use]
    pub fn as_string(&self) -> Option<String> {
        match &self.val {
            Val::String(s) => Some(s.clone()),
            Val::Number(n) => Some(number_text(*n)),
            Val::Bool(b) => Some(b.to_string()),
            // JSON text is a string only when every part of it is known: the text of an
            // unknown part would be a placeholder, not what Terraform will write.
            Val::Encoded(inner) if !inner.has_unknown() => Some(inner.to_json_text()),
            _ => None,
        }
    }

    /// Why the first part of the value that is not known is not (searching elements,
    /// members and encoded values).
    #[must_use]
    pub fn first_unknown_why(&self) -> Option<String> {
        match &self.val {
            Val::List(items) => items.iter().find_map(V::first_unknown_why),
            Val::Object(members) => members.iter().find_map(|(_, v)| v.first_unknown_why()),
            Val::Encoded(inner) => inner.first_unknown_why(),
            _ => self.unknown_why(),
        }
    }

    /// Whether any part of the value (an element, a member, an encoded value) is not known.
    #[must_use]
    pub fn has_unknown(&self) -> bool {
        match &self.val {
            Val::List(items) => items.iter().any(V::has_unknown),
            Val::Object(members) => members.iter().any(|(_, v)| v.has_unknown()),
            Val::Encoded(inner) => inner.has_unknown(),
            _ => self.is_unknown(),
        }
    }

    /// The string when this is exactly a string.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match &self.val {
            Val::String(s) => Some(s),
            _ => None,
        }
    }

    /// A boolean, converting `"true"`/`"false"` as Terraform does.
    #[must_use]
    pub fn as_bool(&self) -> Option<bool> {
        match &self.val {
            Val::Bool(b) => Some(*b),
            Val::String(s) if s == "true" => Some(true),
            Val::String(s) if s == "false" => Some(false),
            _ => None,
        }
    }

    /// Elements of a list.
    #[must_use]
    pub fn as_list(&self) -> Option<&[V]> {
        match &self.val {
            Val::List(l) => Some(l),
            _ => None,
        }
    }

    /// Members of an object.
    #[must_use]
    pub fn as_object(&self) -> Option<&[(String, V)]> {
        match &self.val {
            Val::Object(o) => Some(o),
            _ => None,
        }
    }

    /// An object attribute.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&V> {
        self.as_object()?
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// A short name of the kind, for messages.
    #[must_use]
    pub fn kind_name(&self) -> &'static str {
        match self.val {
            Val::Null => "null",
            Val::Bool(_) => "bool",
            Val::Number(_) => "number",
            Val::String(_) | Val::Encoded(_) => "string",
            Val::List(_) => "list",
            Val::Object(_) => "object",
            Val::Unknown(_) | Val::Error(_) | Val::Partial(_) | Val::Computed { .. } => "unknown",
        }
    }

    /// Compact JSON text, as `jsonencode` renders it.
    #[must_use]
    pub fn to_json_text(&self) -> String {
        self.to_node(None).to_json()
    }

    /// Converts to a JSON tree for the policy engine. Spans are kept for nodes written in
    /// `file` (the policy's own file); strings holding JSON are not decoded here.
    #[must_use]
    pub fn to_node(&self, file: Option<FileId>) -> Node {
        let span = self.pos.filter(|p| Some(p.file) == file).map(|p| p.span);
        let value = match &self.val {
            Val::Null => json::Value::Null,
            Val::Bool(b) => json::Value::Bool(*b),
            Val::Number(n) => json::Value::Number(number_text(*n)),
            Val::String(s) => json::Value::String(s.clone()),
            Val::Unknown(why) => json::Value::Unknown(why.clone()),
            Val::Partial(p) => json::Value::Partial(p.clone()),
            Val::Computed { .. } | Val::Error(_) => {
                json::Value::Unknown(self.unknown_why().unwrap_or_default())
            }
            Val::Encoded(inner) => json::Value::String(inner.to_json_text()),
            Val::List(items) => json::Value::Array(items.iter().map(|v| v.to_node(file)).collect()),
            Val::Object(members) => json::Value::Object(
                members
                    .iter()
                    .map(|(k, v)| Member {
                        key: k.clone(),
                        key_span: None,
                        value: v.to_node(file),
                    })
                    .collect(),
            ),
        };
        Node { value, span }
    }

    /// Converts a JSON tree (from `jsondecode` or a decoded policy string) into a value.
    #[must_use]
    pub fn from_node(node: &Node) -> V {
        let val = match &node.value {
            json::Value::Null => Val::Null,
            json::Value::Bool(b) => Val::Bool(*b),
            json::Value::Number(n) => n
                .parse::<f64>()
                .map_or_else(|_| Val::String(n.clone()), Val::Number),
            json::Value::String(s) => Val::String(s.clone()),
            json::Value::Unknown(u) => Val::Unknown(u.clone()),
            json::Value::Partial(p) => Val::Partial(p.clone()),
            json::Value::Array(items) => Val::List(items.iter().map(V::from_node).collect()),
            json::Value::Object(members) => Val::Object(
                members
                    .iter()
                    .map(|m| (m.key.clone(), V::from_node(&m.value)))
                    .collect(),
            ),
        };
        V::new(val)
    }
}

/// Terraform's number formatting: integers without a fraction.
#[must_use]
pub fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e17 {
        format!("{n:.0}")
    } else {
        format!("{n}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_render_like_terraform() {
        assert_eq!(number_text(123_456_789_012.0), "123456789012");
        assert_eq!(number_text(1.5), "1.5");
    }

    #[test]
    fn encoded_values_render_as_json() {
        let v = V::new(Val::Object(vec![(
            "a".into(),
            V::new(Val::List(vec![V::string("x"), V::new(Val::Number(1.0))])),
        )]));
        assert_eq!(
            V::new(Val::Encoded(Box::new(v))).as_string().unwrap(),
            r#"{"a":["x",1]}"#
        );
    }
}
