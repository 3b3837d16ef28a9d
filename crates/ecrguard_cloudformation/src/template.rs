//! A template's parameters, conditions and mappings, and the resolution of intrinsic
//! functions inside property values. `AWS::AccountId` is the owner account; a parameter is its
//! override (`--parameter`) or its `Default`; `Fn::If` on a condition that cannot be decided is
//! recorded, so the caller can evaluate each branch; `Fn::GetAtt` of an IAM role's `Arn` is a
//! principal of the owner account; everything else that is only known at deploy time
//! (`Fn::ImportValue`, most `Fn::GetAtt`, `AWS::Region`) is `Unknown`.

use ecrguard_iam::analysis::SELF_ACCOUNT;
use ecrguard_iam::json::{Member, Node, Value};
use ecrguard_iam::partial::PartialBuilder;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

/// A parsed template.
pub struct Template<'a> {
    /// The whole document.
    pub root: &'a Node,
    params: BTreeMap<String, Node>,
    /// Parameters the user did not pin (`--parameter`): the values a deployment may give
    /// them, `None` for any value (no `AllowedValues`). A condition on one of them holds for
    /// some deployments and not others unless every permitted value agrees.
    open: BTreeMap<String, Option<Vec<String>>>,
    /// Resources by logical id.
    pub resources: BTreeMap<String, &'a Node>,
}

impl<'a> Template<'a> {
    /// Reads parameters (overrides first, then `Default`) and resources.
    #[must_use]
    pub fn new(root: &'a Node, overrides: &BTreeMap<String, String>) -> Self {
        let mut params = BTreeMap::new();
        let mut open = BTreeMap::new();
        for m in root
            .get("Parameters")
            .and_then(Node::as_object)
            .unwrap_or(&[])
        {
            if !overrides.contains_key(&m.key) {
                let allowed = match m.value.get("AllowedValues").map(|a| &a.value) {
                    Some(Value::Array(items)) => {
                        let mut values: Vec<String> = items
                            .iter()
                            .filter_map(|i| match &i.value {
                                Value::String(s) | Value::Number(s) => Some(s.clone()),
                                Value::Bool(b) => Some(b.to_string()),
                                _ => None,
                            })
                            .collect();
                        if let Some(d) = m.value.get("Default").and_then(|d| match &d.value {
                            Value::String(s) | Value::Number(s) => Some(s.clone()),
                            _ => None,
                        }) && !values.contains(&d)
                        {
                            values.push(d);
                        }
                        Some(values)
                    }
                    _ => None,
                };
                open.insert(m.key.clone(), allowed);
            }
            let value = match overrides.get(&m.key) {
                Some(v) => Some(Node {
                    value: Value::String(v.clone()),
                    span: m.value.span,
                }),
                None => m.value.get("Default").cloned(),
            };
            params.insert(
                m.key.clone(),
                value.unwrap_or_else(|| Node {
                    value: Value::Unknown(format!(
                        "parameter `{}` has no default and no value was given",
                        m.key
                    )),
                    span: m.value.span,
                }),
            );
        }
        let resources = root
            .get("Resources")
            .and_then(Node::as_object)
            .unwrap_or(&[])
            .iter()
            .map(|m| (m.key.clone(), &m.value))
            .collect();
        Template {
            root,
            params,
            open,
            resources,
        }
    }

    /// The `Type` of a resource.
    #[must_use]
    pub fn type_of(&self, logical: &str) -> Option<&str> {
        self.resources.get(logical)?.get("Type")?.as_str()
    }
}

/// Resolves intrinsics under a set of assumed condition values.
pub struct Resolver<'t, 'a> {
    t: &'t Template<'a>,
    assume: BTreeMap<String, bool>,
    /// Conditions met in `Fn::If` that could not be decided.
    pub undecided: RefCell<BTreeSet<String>>,
}

fn unknown(why: impl Into<String>, like: &Node) -> Node {
    Node {
        value: Value::Unknown(why.into()),
        span: like.span,
    }
}

/// A built string: plain when every part is known, partial otherwise.
fn built(out: PartialBuilder, like: &Node) -> Node {
    Node {
        value: match out.finish() {
            Ok(s) => Value::String(s),
            Err(p) => Value::Partial(p),
        },
        span: like.span,
    }
}

fn string(s: impl Into<String>, like: &Node) -> Node {
    Node {
        value: Value::String(s.into()),
        span: like.span,
    }
}

impl<'t, 'a> Resolver<'t, 'a> {
    /// A resolver assuming the given condition values.
    #[must_use]
    pub fn new(t: &'t Template<'a>, assume: BTreeMap<String, bool>) -> Self {
        Resolver {
            t,
            assume,
            undecided: RefCell::default(),
        }
    }

    /// Resolves a value; `None` is `AWS::NoValue` (the element disappears).
    #[must_use]
    pub fn resolve(&self, n: &Node) -> Option<Node> {
        match &n.value {
            Value::Object(members) => {
                if let [m] = members.as_slice()
                    && (m.key == "Ref" || m.key.starts_with("Fn::"))
                {
                    return self.intrinsic(&m.key, &m.value, n);
                }
                let members = members
                    .iter()
                    .filter_map(|m| {
                        Some(Member {
                            key: m.key.clone(),
                            key_span: m.key_span,
                            value: self.resolve(&m.value)?,
                        })
                    })
                    .collect();
                Some(Node {
                    value: Value::Object(members),
                    span: n.span,
                })
            }
            Value::Array(items) => Some(Node {
                value: Value::Array(items.iter().filter_map(|i| self.resolve(i)).collect()),
                span: n.span,
            }),
            _ => Some(n.clone()),
        }
    }

    fn str_of(&self, n: &Node) -> Result<String, String> {
        match self.resolve(n).map(|r| r.value) {
            Some(Value::String(s)) => Ok(s),
            Some(Value::Number(s)) => Ok(s),
            Some(Value::Bool(b)) => Ok(b.to_string()),
            Some(Value::Unknown(why)) => Err(why),
            Some(Value::Partial(p)) => Err(p.describe()),
            _ => Err("a value that is not a string".into()),
        }
    }

    fn reference(&self, name: &str, at: &Node) -> Option<Node> {
        Some(match name {
            "AWS::AccountId" => string(SELF_ACCOUNT, at),
            "AWS::Partition" => string("aws", at),
            "AWS::URLSuffix" => string("amazonaws.com", at),
            "AWS::NoValue" => return None,
            p if p.starts_with("AWS::") => unknown(format!("`{p}` is known at deploy time"), at),
            p => match self.t.params.get(p) {
                Some(v) => Node {
                    value: v.value.clone(),
                    span: at.span,
                },
                None => match self.t.type_of(p) {
                    Some(ty) => self.ref_resource(p, ty, at),
                    None => unknown(format!("`Ref {p}` names nothing in the template"), at),
                },
            },
        })
    }

    /// `Ref` of a resource: its name where the template gives it.
    fn ref_resource(&self, logical: &str, ty: &str, at: &Node) -> Node {
        let prop = match ty {
            "AWS::IAM::Role" => "RoleName",
            "AWS::IAM::User" => "UserName",
            "AWS::IAM::Group" => "GroupName",
            "AWS::ECR::Repository" | "AWS::ECR::PublicRepository" => "RepositoryName",
            _ => {
                return unknown(
                    format!("`Ref {logical}` is the physical id, known at deploy time"),
                    at,
                );
            }
        };
        self.t.resources[logical]
            .get("Properties")
            .and_then(|p| p.get(prop))
            .and_then(|v| self.resolve(v))
            .filter(|v| matches!(v.value, Value::String(_)))
            .map_or_else(
                || {
                    unknown(
                        format!("the name of `{logical}` is generated by CloudFormation"),
                        at,
                    )
                },
                |v| Node {
                    value: v.value,
                    span: at.span,
                },
            )
    }

    fn get_att(&self, logical: &str, attr: &str, at: &Node) -> Node {
        let kind = match (self.t.type_of(logical), attr) {
            (Some("AWS::IAM::Role"), "Arn") => "role",
            (Some("AWS::IAM::User"), "Arn") => "user",
            (Some("AWS::ECR::Repository"), "Arn") => {
                let name = match self.ref_resource(logical, "AWS::ECR::Repository", at).value {
                    Value::String(s) => s,
                    _ => logical.to_string(),
                };
                return string(
                    format!("arn:aws:ecr:unknown-region:{SELF_ACCOUNT}:repository/{name}"),
                    at,
                );
            }
            _ => {
                return unknown(
                    format!("`Fn::GetAtt {logical}.{attr}` is known at deploy time"),
                    at,
                );
            }
        };
        // The account of a role or user of this stack is the owner, whatever its name.
        let ty = if kind == "role" {
            "AWS::IAM::Role"
        } else {
            "AWS::IAM::User"
        };
        let name = match self.ref_resource(logical, ty, at).value {
            Value::String(s) => s,
            _ => logical.to_string(),
        };
        string(format!("arn:aws:iam::{SELF_ACCOUNT}:{kind}/{name}"), at)
    }

    #[allow(clippy::too_many_lines)]
    fn intrinsic(&self, f: &str, arg: &Node, at: &Node) -> Option<Node> {
        let list = |n: &Node| -> Vec<Node> {
            match self.resolve(n).map(|r| r.value) {
                Some(Value::Array(items)) => items,
                _ => Vec::new(),
            }
        };
        Some(match f {
            "Ref" => match arg.as_str() {
                Some(name) => return self.reference(name, at),
                None => unknown("`Ref` needs a name", at),
            },
            "Fn::GetAtt" => {
                let parts: Vec<String> = match &arg.value {
                    Value::Array(items) => {
                        items.iter().filter_map(|i| self.str_of(i).ok()).collect()
                    }
                    Value::String(s) => s.splitn(2, '.').map(str::to_string).collect(),
                    _ => Vec::new(),
                };
                match parts.as_slice() {
                    [logical, attr] => self.get_att(logical, attr, at),
                    _ => unknown("`Fn::GetAtt` needs a resource and an attribute", at),
                }
            }
            "Fn::Sub" => {
                let (text, vars) = match &arg.value {
                    Value::String(s) => (s.clone(), None),
                    Value::Array(items) if !items.is_empty() => match self.str_of(&items[0]) {
                        Ok(s) => (s, items.get(1)),
                        Err(why) => return Some(unknown(why, at)),
                    },
                    _ => return Some(unknown("`Fn::Sub` needs a string", at)),
                };
                let mut out = PartialBuilder::default();
                match self.substitute(&text, vars, at, &mut out) {
                    Ok(()) => built(out, at),
                    Err(why) => unknown(why, at),
                }
            }
            "Fn::Join" => {
                let items = match &arg.value {
                    Value::Array(items) if items.len() == 2 => items,
                    _ => return Some(unknown("`Fn::Join` needs a delimiter and a list", at)),
                };
                let sep = self.str_of(&items[0]).unwrap_or_default();
                let mut out = PartialBuilder::default();
                for (i, p) in list(&items[1]).iter().enumerate() {
                    if i > 0 {
                        out.text(&sep);
                    }
                    if let Err(why) = self.append(&mut out, self.resolve(p).as_ref()) {
                        return Some(unknown(why, at));
                    }
                }
                built(out, at)
            }
            "Fn::Select" => match &arg.value {
                Value::Array(items) if items.len() == 2 => {
                    let i = self
                        .str_of(&items[0])
                        .ok()
                        .and_then(|s| s.parse::<usize>().ok());
                    let l = list(&items[1]);
                    match i.and_then(|i| l.get(i).cloned()) {
                        Some(v) => v,
                        None => unknown("`Fn::Select` index is not known or out of range", at),
                    }
                }
                _ => unknown("`Fn::Select` needs an index and a list", at),
            },
            "Fn::Split" => match &arg.value {
                Value::Array(items) if items.len() == 2 => {
                    match (self.str_of(&items[0]), self.str_of(&items[1])) {
                        (Ok(d), Ok(s)) => Node {
                            value: Value::Array(
                                s.split(d.as_str()).map(|p| string(p, at)).collect(),
                            ),
                            span: at.span,
                        },
                        _ => unknown("`Fn::Split` of an unknown string", at),
                    }
                }
                _ => unknown("`Fn::Split` needs a delimiter and a string", at),
            },
            "Fn::FindInMap" => match &arg.value {
                Value::Array(items) if items.len() >= 3 => {
                    let keys: Result<Vec<String>, String> =
                        items[..3].iter().map(|i| self.str_of(i)).collect();
                    match keys {
                        Ok(k) => self
                            .t
                            .root
                            .get("Mappings")
                            .and_then(|m| m.get(&k[0]))
                            .and_then(|m| m.get(&k[1]))
                            .and_then(|m| m.get(&k[2]))
                            .and_then(|v| self.resolve(v))
                            .unwrap_or_else(|| unknown("`Fn::FindInMap` finds nothing", at)),
                        Err(why) => unknown(why, at),
                    }
                }
                _ => unknown("`Fn::FindInMap` needs a map and two keys", at),
            },
            "Fn::If" => match &arg.value {
                Value::Array(items) if items.len() == 3 => {
                    let cond = items[0].as_str().unwrap_or_default().to_string();
                    let take = match self.condition(&cond, &mut BTreeSet::new()) {
                        Some(b) => b,
                        None => {
                            self.undecided.borrow_mut().insert(cond.clone());
                            match self.assume.get(&cond) {
                                Some(&b) => b,
                                // Discovering the conditions (nothing assumed yet): any branch.
                                None if self.assume.is_empty() => true,
                                // A condition beyond those enumerated: neither branch is picked.
                                None => {
                                    return Some(unknown(
                                        format!(
                                            "condition `{cond}` is not decided and more \
                                             conditions than are enumerated are; pin it with \
                                             `--parameter`"
                                        ),
                                        at,
                                    ));
                                }
                            }
                        }
                    };
                    return self.resolve(&items[if take { 1 } else { 2 }]);
                }
                _ => unknown("`Fn::If` needs a condition and two values", at),
            },
            "Fn::ToJsonString" => match self.resolve(arg) {
                Some(v) => string(v.to_json(), at),
                None => return None,
            },
            other => unknown(format!("`{other}` is known at deploy time"), at),
        })
    }

    /// Appends a resolved value to a string being built: unknown values stay unknown parts
    /// (`!Sub 'arn:aws:ecr:${AWS::Region}:...'` keeps its known text); `Err` for values that
    /// are not strings.
    fn append(&self, out: &mut PartialBuilder, v: Option<&Node>) -> Result<(), String> {
        match v.map(|n| &n.value) {
            Some(Value::String(s) | Value::Number(s)) => out.text(s),
            Some(Value::Bool(b)) => out.text(if *b { "true" } else { "false" }),
            Some(Value::Unknown(why)) => out.unknown(why.clone()),
            Some(Value::Partial(p)) => out.partial(p),
            _ => return Err("a value that is not a string".into()),
        }
        Ok(())
    }

    fn substitute(
        &self,
        text: &str,
        vars: Option<&Node>,
        at: &Node,
        out: &mut PartialBuilder,
    ) -> Result<(), String> {
        let mut rest = text;
        while let Some(i) = rest.find("${") {
            out.text(&rest[..i]);
            let after = &rest[i + 2..];
            let end = after.find('}').ok_or("unclosed `${` in `Fn::Sub`")?;
            let name = &after[..end];
            if let Some(lit) = name.strip_prefix('!') {
                out.text("${");
                out.text(lit);
                out.text("}");
            } else {
                let value = match vars.and_then(|v| v.get(name)) {
                    Some(v) => self.resolve(v),
                    None => match name.split_once('.') {
                        Some((logical, attr)) if self.t.type_of(logical).is_some() => {
                            Some(self.get_att(logical, attr, at))
                        }
                        _ => self.reference(name, at),
                    },
                };
                self.append(out, value.as_ref())
                    .map_err(|_| format!("`${{{name}}}` is not a string"))?;
            }
            rest = &after[end + 1..];
        }
        out.text(rest);
        Ok(())
    }

    /// The value of a named condition, when it can be decided.
    #[must_use]
    pub fn condition(&self, name: &str, seen: &mut BTreeSet<String>) -> Option<bool> {
        if let Some(v) = self.assume.get(name) {
            return Some(*v);
        }
        if !seen.insert(name.to_string()) {
            return None;
        }
        let def = self.t.root.get("Conditions")?.get(name)?;
        self.eval_condition(def, seen)
    }

    /// The values a condition operand may have: `None` when any value is possible (or it is
    /// unknown).
    fn possible(&self, n: &Node) -> Option<Vec<String>> {
        if let Some(name) = n.get("Ref").and_then(Node::as_str)
            && let Some(open) = self.t.open.get(name)
        {
            return open.clone();
        }
        self.str_of(n).ok().map(|s| vec![s])
    }

    fn eval_condition(&self, n: &Node, seen: &mut BTreeSet<String>) -> Option<bool> {
        let [m] = n.as_object()? else { return None };
        let args = match &m.value.value {
            Value::Array(items) => items.as_slice(),
            _ => std::slice::from_ref(&m.value),
        };
        match m.key.as_str() {
            "Condition" => self.condition(m.value.as_str()?, seen),
            "Fn::Equals" => {
                // Each side's possible values: one, or those a parameter the user did not pin
                // may take. Decided only when every pair agrees.
                let (a, b) = (self.possible(args.first()?)?, self.possible(args.get(1)?)?);
                let mut outcomes = a.iter().flat_map(|x| b.iter().map(move |y| x == y));
                let first = outcomes.next()?;
                outcomes.all(|o| o == first).then_some(first)
            }
            "Fn::Not" => self.eval_condition(args.first()?, seen).map(|b| !b),
            "Fn::And" => {
                let vals: Vec<Option<bool>> =
                    args.iter().map(|a| self.eval_condition(a, seen)).collect();
                if vals.contains(&Some(false)) {
                    Some(false)
                } else {
                    vals.into_iter().collect::<Option<Vec<_>>>().map(|_| true)
                }
            }
            "Fn::Or" => {
                let vals: Vec<Option<bool>> =
                    args.iter().map(|a| self.eval_condition(a, seen)).collect();
                if vals.contains(&Some(true)) {
                    Some(true)
                } else {
                    vals.into_iter().collect::<Option<Vec<_>>>().map(|_| false)
                }
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml;

    fn resolve(template: &str, expr: &str) -> String {
        let root = yaml::parse(template).unwrap();
        let t = Template::new(&root, &BTreeMap::new());
        let e = yaml::parse(expr).unwrap();
        Resolver::new(&t, BTreeMap::new())
            .resolve(&e)
            .map_or("<novalue>".into(), |n| n.to_json())
    }

    const T: &str = "Parameters:\n  Env:\n    Type: String\n    Default: prod\n  Principal:\n    Type: String\nConditions:\n  IsProd: !Equals [!Ref Env, prod]\n  Open: !Equals [!Ref Principal, '*']\nMappings:\n  Accounts:\n    prod:\n      Id: '222222222222'\nResources:\n  Role:\n    Type: AWS::IAM::Role\n    Properties:\n      RoleName: ci\n  Anon:\n    Type: AWS::IAM::Role\n";

    #[test]
    fn intrinsics() {
        assert_eq!(
            resolve(
                T,
                "!Sub 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root'"
            ),
            r#""arn:aws:iam::self:root""#
        );
        assert_eq!(
            resolve(T, "!GetAtt Role.Arn"),
            r#""arn:aws:iam::self:role/ci""#
        );
        assert_eq!(
            resolve(T, "!GetAtt Anon.Arn"),
            r#""arn:aws:iam::self:role/Anon""#
        );
        assert_eq!(resolve(T, "!Ref Env"), r#""prod""#);
        assert!(resolve(T, "!Ref Principal").contains("unknown"));
        assert_eq!(
            resolve(T, "!FindInMap [Accounts, !Ref Env, Id]"),
            r#""222222222222""#
        );
        assert_eq!(resolve(T, "!Join [':', [a, !Ref Env]]"), r#""a:prod""#);
        assert_eq!(resolve(T, "!Select [1, !Split [',', 'x,y']]"), r#""y""#);
        assert_eq!(resolve(T, "!If [IsProd, yes, no]"), r#""yes""#);
        assert_eq!(resolve(T, "[a, !Ref AWS::NoValue]"), r#"["a"]"#);
        assert!(resolve(T, "!ImportValue shared-arn").contains("unknown"));
        assert_eq!(
            resolve(T, "!Sub ['${X}-${!Literal}', {X: !Ref Env}]"),
            r#""prod-${Literal}""#
        );
    }

    #[test]
    fn a_condition_on_a_parameter_not_pinned_holds_for_the_values_it_may_take() {
        let decide = |params: &str, pins: &[(&str, &str)]| {
            let text = format!(
                "Parameters:\n{params}\nConditions:\n  Open: !Equals [!Ref Exposure, open]\n"
            );
            let root = yaml::parse(&text).unwrap();
            let pins = pins
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect();
            let t = Template::new(&root, &pins);
            Resolver::new(&t, BTreeMap::new()).condition("Open", &mut BTreeSet::new())
        };
        let any = "  Exposure:\n    Type: String\n    Default: closed";
        let allowed =
            "  Exposure:\n    Type: String\n    Default: closed\n    AllowedValues: [closed, open]";
        let never = "  Exposure:\n    Type: String\n    Default: closed\n    AllowedValues: [closed, internal]";
        // Any value may be given, `open` included: the default does not decide.
        assert_eq!(decide(any, &[]), None);
        assert_eq!(decide(allowed, &[]), None);
        // No permitted value opens it.
        assert_eq!(decide(never, &[]), Some(false));
        // Pinned by the user: decided.
        assert_eq!(decide(allowed, &[("Exposure", "closed")]), Some(false));
        assert_eq!(decide(any, &[("Exposure", "open")]), Some(true));
    }

    #[test]
    fn undecided_conditions_are_recorded() {
        let root = yaml::parse(T).unwrap();
        let t = Template::new(&root, &BTreeMap::new());
        let e = yaml::parse("!If [Open, '*', none]").unwrap();
        let r = Resolver::new(&t, BTreeMap::new());
        assert_eq!(r.resolve(&e).unwrap().to_json(), r#""*""#);
        assert!(r.undecided.borrow().contains("Open"));
        let r = Resolver::new(&t, BTreeMap::from([("Open".to_string(), false)]));
        assert_eq!(r.resolve(&e).unwrap().to_json(), r#""none""#);
    }
}
