//! YAML into the spanned JSON tree the policy engine reads (CloudFormation templates,
//! Kubernetes manifests, `serverless.yml`). CloudFormation's short-form tags
//! become their long forms (`!Ref X` -> `{"Ref": "X"}`, `!GetAtt A.B` ->
//! `{"Fn::GetAtt": ["A", "B"]}`, `!Sub ...` -> `{"Fn::Sub": ...}`), every node keeps its byte
//! span, and anchors/aliases are resolved. An unknown tag is an error with its line.

use ecrguard_iam::json::{Member, Node, Span, Value};
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Why YAML text could not be read, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    /// What.
    pub message: String,
    /// Byte offset.
    pub offset: usize,
}

const FUNCTIONS: &[&str] = &[
    "Base64",
    "Cidr",
    "FindInMap",
    "GetAtt",
    "GetAZs",
    "ImportValue",
    "Join",
    "Select",
    "Split",
    "Sub",
    "Transform",
    "And",
    "Equals",
    "If",
    "Not",
    "Or",
    "Length",
    "ToJsonString",
];

enum Frame {
    Seq {
        start: usize,
        items: Vec<Node>,
        tag: Option<Tag>,
        anchor: usize,
    },
    Map {
        start: usize,
        members: Vec<Member>,
        key: Option<(String, Option<Span>)>,
        tag: Option<Tag>,
        anchor: usize,
    },
}

/// Most nodes alias expansions may add to one document: a real template repeats a few
/// blocks; "billion laughs" (aliases of aliases) would add 10^9 from 500 bytes.
const MAX_ALIAS_NODES: u64 = 1_000_000;

/// Deepest nesting of mappings and sequences read (the tree is walked recursively later).
const MAX_NESTING: usize = 128;

/// Turns the scanner's character positions into byte offsets. yaml-rust2's markers count
/// characters; used as byte offsets they shift after any non-ASCII character (a box-drawing
/// comment, an accent, `€`) and slicing the text there panics. A checkpoint every
/// [`CharOffsets::STEP`] characters keeps the lookup short without a table per character.
struct CharOffsets {
    ascii: bool,
    checkpoints: Vec<usize>,
}

impl CharOffsets {
    const STEP: usize = 64;

    fn new(text: &str) -> Self {
        if text.is_ascii() {
            return CharOffsets {
                ascii: true,
                checkpoints: Vec::new(),
            };
        }
        let checkpoints = text
            .char_indices()
            .step_by(Self::STEP)
            .map(|(b, _)| b)
            .collect();
        CharOffsets {
            ascii: false,
            checkpoints,
        }
    }

    /// The byte offset of character `index` (the text's length past its end).
    fn byte(&self, text: &str, index: usize) -> usize {
        if self.ascii {
            return index.min(text.len());
        }
        let Some(&base) = self.checkpoints.get(index / Self::STEP) else {
            return text.len();
        };
        text[base..]
            .char_indices()
            .nth(index % Self::STEP)
            .map_or(text.len(), |(b, _)| base + b)
    }
}

/// Nodes in a tree (for the alias budget).
fn node_count(n: &Node) -> u64 {
    let mut total = 0u64;
    let mut stack = vec![n];
    while let Some(n) = stack.pop() {
        total += 1;
        match &n.value {
            Value::Array(items) => stack.extend(items),
            Value::Object(members) => stack.extend(members.iter().map(|m| &m.value)),
            _ => {}
        }
    }
    total
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

struct Builder<'a> {
    text: &'a str,
    offsets: CharOffsets,
    stack: Vec<Frame>,
    anchors: Vec<(usize, Node, u64)>,
    alias_nodes: u64,
    root: Option<Node>,
    /// Documents finished so far, when several are read (`---`).
    documents: Vec<Node>,
    error: Option<YamlError>,
    last_end: usize,
}

impl Builder<'_> {
    fn fail(&mut self, message: String, offset: usize) {
        if self.error.is_none() {
            self.error = Some(YamlError { message, offset });
        }
    }

    /// Where a scalar that starts at `start` ends, on a character boundary of the text.
    fn scalar_end(&self, start: usize, value: &str, style: TScalarStyle) -> usize {
        let mut end = self
            .scalar_end_raw(start, value, style)
            .min(self.text.len());
        // The value's length (escapes resolved) may not match the written text: never end
        // inside a character.
        while !self.text.is_char_boundary(end) {
            end -= 1;
        }
        end.max(start.min(self.text.len()))
    }

    fn scalar_end_raw(&self, start: usize, value: &str, style: TScalarStyle) -> usize {
        let rest = self.text.get(start.min(self.text.len())..).unwrap_or("");
        match style {
            TScalarStyle::Plain if rest.starts_with(value) => start + value.len(),
            TScalarStyle::SingleQuoted | TScalarStyle::DoubleQuoted => {
                // The closing quote on the same line, as a span end.
                let q = if style == TScalarStyle::SingleQuoted {
                    '\''
                } else {
                    '"'
                };
                rest.char_indices()
                    .skip(1)
                    .find(|(_, c)| *c == q)
                    .map_or(start + rest.find('\n').unwrap_or(rest.len()), |(i, _)| {
                        start + i + 1
                    })
            }
            _ => {
                start
                    + rest
                        .find('\n')
                        .unwrap_or(rest.len())
                        .max(value.len().min(rest.len()))
            }
        }
    }

    fn wrap(&mut self, node: Node, tag: Option<Tag>, start: usize) -> Node {
        let Some(tag) = tag else { return node };
        if tag.handle != "!" {
            // `!!str`, `!!int`... standard tags: keep the value.
            return node;
        }
        let name = tag.suffix.as_str();
        let span = node.span;
        let (key, value) = match name {
            "Ref" => ("Ref".to_string(), node),
            "Condition" => ("Condition".to_string(), node),
            "GetAtt" => {
                // `!GetAtt Resource.Attribute` is a string; the long form is a list.
                let value = match &node.value {
                    Value::String(s) => match s.split_once('.') {
                        Some((a, b)) => Node {
                            value: Value::Array(vec![
                                Node {
                                    value: Value::String(a.into()),
                                    span,
                                },
                                Node {
                                    value: Value::String(b.into()),
                                    span,
                                },
                            ]),
                            span,
                        },
                        None => node,
                    },
                    _ => node,
                };
                ("Fn::GetAtt".to_string(), value)
            }
            f if FUNCTIONS.contains(&f) => (format!("Fn::{f}"), node),
            other => {
                if self.error.is_none() {
                    self.error = Some(YamlError {
                        message: format!("unknown tag `!{other}`"),
                        offset: start,
                    });
                }
                return node;
            }
        };
        Node {
            value: Value::Object(vec![Member {
                key,
                key_span: span,
                value,
            }]),
            span,
        }
    }

    fn push_value(&mut self, node: Node) {
        self.last_end = self.last_end.max(node.span.map_or(0, |s| s.end as usize));
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map {
                members,
                key,
                start,
                ..
            }) => match key.take() {
                None => {
                    // A block mapping is announced at its first `:`; it starts at its first key.
                    if members.is_empty()
                        && let Some(sp) = node.span
                    {
                        *start = (*start).min(sp.start as usize);
                    }
                    let k = match &node.value {
                        Value::String(s) => s.clone(),
                        Value::Number(n) => n.clone(),
                        Value::Bool(b) => b.to_string(),
                        Value::Null => String::new(),
                        _ => {
                            if self.error.is_none() {
                                self.error = Some(YamlError {
                                    message: "a mapping key must be a scalar".into(),
                                    offset: node.span.map_or(0, |s| s.start as usize),
                                });
                            }
                            String::new()
                        }
                    };
                    *key = Some((k, node.span));
                }
                Some((k, key_span)) => {
                    // CloudFormation rejects a repeated key; reading one of the two would
                    // silently drop the other (a public policy, a whole resource).
                    if let Some(first) = members.iter().find(|m| m.key == k) {
                        let first_line = first
                            .key_span
                            .map_or(0, |s| line_of(self.text, s.start as usize));
                        let at = key_span.map_or(0, |s| s.start as usize);
                        let message = format!(
                            "duplicate key `{k}` (first at line {first_line}); CloudFormation \
                             rejects the template"
                        );
                        if self.error.is_none() {
                            self.error = Some(YamlError {
                                message,
                                offset: at,
                            });
                        }
                    }
                    members.push(Member {
                        key: k,
                        key_span,
                        value: node,
                    });
                }
            },
        }
    }
}

/// A plain scalar YAML reads as a number; `012` and `+1` stay strings, as account ids must.
fn is_yaml_number(v: &str) -> bool {
    let leading_zero = v.len() > 1 && v.starts_with('0') && !v.starts_with("0.");
    v.parse::<f64>().is_ok()
        && !v.starts_with('+')
        && !v.starts_with('.')
        && !leading_zero
        && !v.contains("inf")
        && !v.contains("NaN")
}

fn scalar_value(value: String, style: TScalarStyle, tagged: bool) -> Value {
    if style != TScalarStyle::Plain || tagged {
        return Value::String(value);
    }
    match value.as_str() {
        "~" | "null" | "Null" | "NULL" | "" => Value::Null,
        "true" | "True" | "TRUE" => Value::Bool(true),
        "false" | "False" | "FALSE" => Value::Bool(false),
        v if is_yaml_number(v) => Value::Number(value),
        _ => Value::String(value),
    }
}

impl MarkedEventReceiver for Builder<'_> {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        if self.error.is_some() {
            return;
        }
        let at = self.offsets.byte(self.text, mark.index());
        match ev {
            Event::Scalar(value, style, anchor, tag) => {
                let end = self.scalar_end(at, &value, style);
                let standard_str = tag
                    .as_ref()
                    .is_some_and(|t| t.handle == "!!" && t.suffix == "str");
                let node = Node {
                    value: scalar_value(value, style, standard_str),
                    span: Some(Span::new(at, end)),
                };
                let node = self.wrap(node, tag, at);
                if anchor > 0 {
                    self.anchors.push((anchor, node.clone(), 1));
                }
                self.push_value(node);
            }
            Event::SequenceStart(..) | Event::MappingStart(..)
                if self.stack.len() >= MAX_NESTING =>
            {
                self.fail(
                    format!("mappings and sequences nest deeper than {MAX_NESTING} levels"),
                    at,
                );
            }
            Event::SequenceStart(anchor, tag) => self.stack.push(Frame::Seq {
                start: at,
                items: Vec::new(),
                tag,
                anchor,
            }),
            Event::MappingStart(anchor, tag) => self.stack.push(Frame::Map {
                start: at,
                members: Vec::new(),
                key: None,
                tag,
                anchor,
            }),
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.stack.pop() else {
                    return;
                };
                let (start, value, tag, anchor) = match frame {
                    Frame::Seq {
                        start,
                        items,
                        tag,
                        anchor,
                    } => (start, Value::Array(items), tag, anchor),
                    Frame::Map {
                        start,
                        members,
                        tag,
                        anchor,
                        ..
                    } => (start, Value::Object(members), tag, anchor),
                };
                // A flow collection ends with its bracket; a block one with its last value.
                let end = if matches!(self.text.as_bytes().get(at), Some(b']' | b'}')) {
                    at + 1
                } else {
                    self.last_end.max(start)
                };
                self.last_end = self.last_end.max(end);
                let node = Node {
                    value,
                    span: Some(Span::new(start, end)),
                };
                let node = self.wrap(node, tag, start);
                if anchor > 0 {
                    let count = node_count(&node);
                    self.anchors.push((anchor, node.clone(), count));
                }
                self.push_value(node);
            }
            Event::Alias(id) => {
                let found = self.anchors.iter().rev().find(|(a, ..)| *a == id);
                let node = match found {
                    Some((_, _, count)) if self.alias_nodes + count > MAX_ALIAS_NODES => {
                        self.fail(
                            format!(
                                "aliases expand to more than {MAX_ALIAS_NODES} nodes (an alias \
                                 bomb?); not read"
                            ),
                            at,
                        );
                        return;
                    }
                    Some((_, n, count)) => {
                        self.alias_nodes += count;
                        Some(n.clone())
                    }
                    None => None,
                };
                match node {
                    Some(n) => self.push_value(n),
                    None => {
                        if self.error.is_none() {
                            self.error = Some(YamlError {
                                message: "alias to an unknown anchor".into(),
                                offset: at,
                            });
                        }
                    }
                }
            }
            Event::DocumentEnd => {
                // An empty document (`---` with nothing, or comments only) is no document.
                if let Some(root) = self.root.take().filter(|r| r.value != Value::Null) {
                    self.documents.push(root);
                }
                // Anchors do not cross documents.
                self.anchors.clear();
            }
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentStart => {}
        }
    }
}

/// Parses the first document of a YAML text.
///
/// # Errors
/// When the text is not YAML, or uses a tag CloudFormation does not define.
pub fn parse(text: &str) -> Result<Node, YamlError> {
    let mut documents = load(text, false)?;
    Ok(if documents.is_empty() {
        Node::new(Value::Null)
    } else {
        documents.swap_remove(0)
    })
}

/// Every document of a stream (`---` between them), as Kubernetes manifests, `helm template`
/// and `kustomize build` output are written. Empty documents are left out. The alias budget
/// applies to the whole stream.
///
/// # Errors
/// The first error, with its byte offset: one bad document makes the stream unreadable, as
/// it does for `kubectl apply`.
pub fn parse_documents(text: &str) -> Result<Vec<Node>, YamlError> {
    load(text, true)
}

fn load(text: &str, multi: bool) -> Result<Vec<Node>, YamlError> {
    let mut b = Builder {
        text,
        offsets: CharOffsets::new(text),
        stack: Vec::new(),
        anchors: Vec::new(),
        alias_nodes: 0,
        root: None,
        documents: Vec::new(),
        error: None,
        last_end: 0,
    };
    let mut parser = Parser::new_from_str(text);
    let loaded = parser.load(&mut b, multi);
    if let Some(e) = b.error {
        return Err(e);
    }
    loaded.map_err(|e| YamlError {
        message: e.info().to_string(),
        offset: b.offsets.byte(text, e.marker().index()),
    })?;
    if let Some(root) = b.root.take().filter(|r| r.value != Value::Null) {
        b.documents.push(root);
    }
    Ok(b.documents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_documents_are_read_with_their_own_spans() {
        let text = "a: 1\n---\n# a comment only\n---\nb: &x [1]\nc: *x\n";
        let docs = parse_documents(text).unwrap();
        assert_eq!(docs.len(), 2, "{docs:?}");
        assert_eq!(docs[0].to_json(), r#"{"a":1}"#);
        assert_eq!(docs[1].to_json(), r#"{"b":[1],"c":[1]}"#);
        let b = docs[1].get("b").unwrap().span.unwrap();
        assert_eq!(&text[b.start as usize..b.end as usize], "[1]");
        // An alias to an anchor of another document is an error, as in YAML.
        assert!(parse_documents("a: &x 1\n---\nb: *x\n").is_err());
        // The single-document reader still reads the first document only.
        assert_eq!(parse(text).unwrap().to_json(), r#"{"a":1}"#);
    }

    #[test]
    fn short_form_tags_become_long_form() {
        let n = parse("A: !Ref B\nC: !GetAtt Role.Arn\nD: !Sub 'arn:${AWS::Partition}'\nE: !If [Cond, 1, [x]]\n").unwrap();
        assert_eq!(n.get("A").unwrap().to_json(), r#"{"Ref":"B"}"#);
        assert_eq!(
            n.get("C").unwrap().to_json(),
            r#"{"Fn::GetAtt":["Role","Arn"]}"#
        );
        assert_eq!(
            n.get("D").unwrap().to_json(),
            r#"{"Fn::Sub":"arn:${AWS::Partition}"}"#
        );
        assert_eq!(
            n.get("E").unwrap().to_json(),
            r#"{"Fn::If":["Cond",1,["x"]]}"#
        );
    }

    #[test]
    fn spans_give_lines() {
        let text = "Resources:\n  Repo:\n    Type: AWS::ECR::Repository\n";
        let n = parse(text).unwrap();
        let repo = n.get("Resources").unwrap().get("Repo").unwrap();
        let s = repo.span.unwrap();
        assert_eq!(&text[s.start as usize..s.start as usize + 4], "Type");
        let ty = repo.get("Type").unwrap();
        assert_eq!(
            &text[ty.span.unwrap().start as usize..ty.span.unwrap().end as usize],
            "AWS::ECR::Repository"
        );
    }

    #[test]
    fn scalars_anchors_and_errors() {
        let n = parse("a: 10\nb: '10'\nc: true\nd: &x [1]\ne: *x\nf: 012\n").unwrap();
        assert_eq!(
            n.to_json(),
            r#"{"a":10,"b":"10","c":true,"d":[1],"e":[1],"f":"012"}"#
        );
        let e = parse("a: !Bogus x\n").unwrap_err();
        assert!(e.message.contains("unknown tag `!Bogus`"));
        assert!(parse("a: [1\nb: 2\n").is_err());
    }

    #[test]
    fn non_ascii_text_keeps_byte_positions() {
        let text = "# ─── Résumé € 🚀 ───\nResources:\n  Repo: # ünïcödé\n    Type: AWS::ECR::Repository\n    Properties:\n      RepositoryName: café-€\n";
        let n = parse(text).unwrap();
        let repo = n.get("Resources").unwrap().get("Repo").unwrap();
        let ty = repo.get("Type").unwrap().span.unwrap();
        assert_eq!(
            &text[ty.start as usize..ty.end as usize],
            "AWS::ECR::Repository"
        );
        let name = repo
            .get("Properties")
            .unwrap()
            .get("RepositoryName")
            .unwrap();
        let s = name.span.unwrap();
        assert_eq!(&text[s.start as usize..s.end as usize], "café-€");
        // Errors after non-ASCII text point at a character boundary.
        let e = parse("a: é\nb: [1\nc: 2\n").unwrap_err();
        assert!(text.is_char_boundary(e.offset.min(text.len())));
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        let mut prev = 'a';
        for c in ['b', 'c', 'd', 'e', 'f', 'g', 'h'] {
            let items = vec![format!("*{prev}"); 10].join(", ");
            text.push_str(&format!("{c}: &{c} [{items}]\n"));
            prev = c;
        }
        let e = parse(&text).unwrap_err();
        assert!(e.message.contains("alias"), "{}", e.message);
    }

    #[test]
    fn duplicate_keys_and_deep_nesting_are_errors() {
        let e = parse("Resources:\n  Repo:\n    Type: A\n  Repo:\n    Type: B\n").unwrap_err();
        assert!(
            e.message.contains("duplicate key `Repo` (first at line 2)"),
            "{}",
            e.message
        );
        assert_eq!(
            line_of("Resources:\n  Repo:\n    Type: A\n  Repo:\n", e.offset),
            4
        );
        let deep = "[".repeat(10_000) + &"]".repeat(10_000);
        let e = parse(&deep).unwrap_err();
        assert!(
            e.message.contains("nest") || e.message.contains("recursion"),
            "{}",
            e.message
        );
    }
}
