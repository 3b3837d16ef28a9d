//! Evaluates Terraform expressions of one module instance: variables, locals, resource and
//! data references, module outputs, templates, operators, `for` expressions and functions.
//! What cannot be known from the code is `Unknown`, never a guess.

use crate::functions;
use crate::module::{FileBlock, Module};
use crate::policy_document;
use crate::project::Project;
use crate::value::{Pos, V, Val};
use ecrguard_iam::analysis::SELF_ACCOUNT;
use ecrguard_iam::partial::PartialBuilder;
use ecrguard_model::{FileId, Span};
use hcl_edit::Span as _;
use hcl_edit::expr::{BinaryOperator, Expression, ObjectKey, TraversalOperator, UnaryOperator};
use hcl_edit::structure::Body;
use hcl_edit::template::{Directive, Element, Template};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::rc::Rc;
use std::sync::Arc;

/// Deepest module nesting followed (guards against a module that calls itself).
const MAX_MODULE_DEPTH: usize = 16;

/// Local bindings: `each`, `count`, `for` variables, `dynamic` iterators.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    bindings: Vec<(String, V)>,
}

impl Scope {
    /// A scope with one more binding.
    #[must_use]
    pub fn with(&self, name: &str, value: V) -> Scope {
        let mut s = self.clone();
        s.bindings.push((name.to_string(), value));
        s
    }

    fn get(&self, name: &str) -> Option<&V> {
        self.bindings
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }

    /// `count.index`, when bound.
    #[must_use]
    pub fn get_count_index(&self) -> Option<String> {
        match &self.get("count")?.get("index")?.val {
            Val::Number(n) => Some(crate::value::number_text(*n)),
            _ => None,
        }
    }

    /// `each.key`, when bound.
    #[must_use]
    pub fn get_each_key(&self) -> Option<String> {
        self.get("each")?.get("key")?.as_string()
    }
}

/// One instance of a module call (or the root module).
pub struct Eval<'p> {
    /// The project (files, parsed modules, errors).
    pub project: &'p Project,
    /// The module's declarations.
    pub module: Arc<Module>,
    /// Address prefix: `` for the root, `module.app` / `module.app["x"]` below.
    pub address: String,
    /// Input variable values given by the caller (or tfvars for the root).
    pub inputs: BTreeMap<String, V>,
    depth: usize,
    /// The module directories of the calls that led here, this one last: a directory that
    /// appears twice is a module cycle, which Terraform rejects.
    lineage: Vec<std::path::PathBuf>,
    /// The root module's directory (where `terraform init` writes `.terraform/modules`).
    root_dir: std::path::PathBuf,
    /// The root module's directory relative to the scanned path (empty when it is the
    /// scanned path): part of every resource's name, as a module reached from two roots
    /// makes two sets of resources.
    pub root_label: Rc<str>,
    /// Terragrunt's functions, when evaluating a `terragrunt.hcl`.
    pub terragrunt: Option<Rc<crate::terragrunt::Functions>>,
    /// The module key `terraform init` gives this instance's module: `` for the root, `ecr`,
    /// `ecr.this` for a module inside a module.
    module_key: String,
    // Values are shared, not copied, per reference: `aws_ecr_repository.r[0]` in each of
    // 50,000 instances would otherwise copy all 50,000 instances each time.
    locals: RefCell<HashMap<String, Rc<V>>>,
    objects: RefCell<HashMap<String, Rc<V>>>,
    in_progress: RefCell<HashSet<String>>,
    children: RefCell<HashMap<String, Rc<Vec<ChildInstance<'p>>>>>,
    loading_children: RefCell<HashSet<String>>,
}

/// An instance of a child module.
pub struct ChildInstance<'p> {
    /// `each.key` / `count.index` of the instance, when the call has `for_each` / `count`.
    pub key: Option<V>,
    /// The child's evaluator; `None` when the module source is not local (registry, git).
    pub eval: Option<Eval<'p>>,
    /// The call block.
    pub call: FileBlock,
}

fn pos_of(file: FileId, e: &impl hcl_edit::Span) -> Option<Pos> {
    e.span().map(|r| Pos {
        file,
        span: Span::new(r.start, r.end),
    })
}

impl<'p> Eval<'p> {
    /// An evaluator for a module instance.
    #[must_use]
    pub fn new(
        project: &'p Project,
        module: Arc<Module>,
        address: String,
        inputs: BTreeMap<String, V>,
        depth: usize,
    ) -> Self {
        let lineage = vec![module.dir.clone()];
        let root_dir = module.dir.clone();
        Eval {
            root_dir,
            root_label: Rc::from(""),
            terragrunt: None,
            module_key: String::new(),
            project,
            module,
            address,
            inputs,
            depth,
            lineage,
            locals: RefCell::default(),
            objects: RefCell::default(),
            in_progress: RefCell::default(),
            children: RefCell::default(),
            loading_children: RefCell::default(),
        }
    }

    /// Records what could not be evaluated at an address of this instance's root.
    pub fn note(&self, address: String, reason: String) {
        let at = if self.root_label.is_empty() {
            address
        } else {
            format!("{}: {address}", self.root_label)
        };
        self.project.not_evaluated(at, reason);
    }

    /// The full address of a resource in this instance.
    #[must_use]
    pub fn address_of(&self, local: &str) -> String {
        if self.address.is_empty() {
            local.to_string()
        } else {
            format!("{}.{local}", self.address)
        }
    }

    /// Evaluates an expression written in `file`.
    pub fn eval(&self, file: FileId, expr: &Expression, scope: &Scope) -> V {
        let pos = pos_of(file, expr);
        let Some(_level) = self.project.enter() else {
            return V::unknown(format!(
                "expressions and references nest deeper than the depth budget of {} \
                 (`max-depth`)",
                self.project.budgets().max_depth
            ))
            .at(pos);
        };
        if self.project.spent() {
            return V::unknown("not evaluated: the expansion budget (`max-expansion`) is spent")
                .at(pos);
        }
        let v = match expr {
            Expression::Null(_) => V::new(Val::Null),
            Expression::Bool(b) => V::new(Val::Bool(*b.value())),
            Expression::Number(n) => V::new(
                n.value()
                    .as_f64()
                    .map_or_else(|| Val::Unknown("number out of range".into()), Val::Number),
            ),
            Expression::String(s) => {
                let mut v = V::string(s.value().clone());
                // `"text"`: the value starts one byte after the quote when nothing was escaped.
                if let Some(p) = pos {
                    let base = p.span.start as usize + 1;
                    if self.project.source_is(file, base, s.value()) {
                        v.text_base = Some(Pos {
                            file,
                            span: Span::new(base, base),
                        });
                    }
                }
                v
            }
            Expression::Array(items) => V::new(Val::List(
                items.iter().map(|e| self.eval(file, e, scope)).collect(),
            )),
            Expression::Object(obj) => {
                let mut members = Vec::new();
                for (k, v) in obj.iter() {
                    let masked = k.span().and_then(|r| {
                        let start = if matches!(k, ObjectKey::Expression(Expression::String(_))) {
                            r.start + 1
                        } else {
                            r.start
                        };
                        self.project.masked_key(file, start)
                    });
                    let key = match k {
                        _ if masked.is_some() => masked.unwrap_or_default(),
                        ObjectKey::Ident(id) => id.as_str().to_string(),
                        ObjectKey::Expression(e) => {
                            // `(var.x) = ...` or a string key.
                            match self.eval(file, e, scope).as_string() {
                                Some(s) => s,
                                None => return V::unknown("object key is not known").at(pos),
                            }
                        }
                    };
                    // A repeated key: the later one wins, as in Terraform.
                    members.retain(|(k, _)| *k != key);
                    members.push((key, self.eval(file, v.expr(), scope)));
                }
                V::new(Val::Object(members))
            }
            Expression::StringTemplate(t) => self.template(file, t, scope),
            Expression::HeredocTemplate(h) => {
                let mut v = self.template(file, &h.template, scope);
                if h.template.len() == 1
                    && let Some(Element::Literal(lit)) = h.template.get(0)
                    && let Some(r) = lit.span()
                    && r.end == r.start + lit.value().len()
                    && self.project.source_is(file, r.start, lit.value())
                {
                    v.text_base = Some(Pos {
                        file,
                        span: Span::new(r.start, r.start),
                    });
                }
                v
            }
            Expression::Parenthesis(p) => self.eval(file, p.inner(), scope),
            Expression::Variable(name) => self.variable(name.as_str(), scope),
            Expression::Traversal(t) => {
                let (root, consumed) = self.traversal_root(file, &t.expr, &t.operators, scope);
                let mut ops = t
                    .operators
                    .iter()
                    .skip(consumed)
                    .map(|o| o.value())
                    .peekable();
                // The first operator reads the shared root in place: only what it selects
                // is copied.
                let mut value = match ops.peek() {
                    Some(
                        op @ (TraversalOperator::GetAttr(_)
                        | TraversalOperator::Index(_)
                        | TraversalOperator::LegacyIndex(_)),
                    ) => {
                        let v = self.apply_op(file, &root, op, scope);
                        ops.next();
                        v
                    }
                    _ => Rc::unwrap_or_clone(root),
                };
                while let Some(op) = ops.next() {
                    match op {
                        TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => {
                            let rest: Vec<&TraversalOperator> = ops.by_ref().collect();
                            value = self.splat(file, value, &rest, scope);
                        }
                        other => value = self.apply_op(file, &value, other, scope),
                    }
                }
                value
            }
            Expression::Conditional(c) => {
                let cond = self.eval(file, &c.cond_expr, scope);
                match cond.as_bool() {
                    Some(true) => self.eval(file, &c.true_expr, scope),
                    Some(false) => self.eval(file, &c.false_expr, scope),
                    None => {
                        let (t, f) = (
                            self.eval(file, &c.true_expr, scope),
                            self.eval(file, &c.false_expr, scope),
                        );
                        if t.val == f.val {
                            t
                        } else {
                            V::unknown("condition is not known")
                        }
                    }
                }
            }
            Expression::FuncCall(call) => {
                let name = call.name.name.as_str();
                let args: Vec<V> = call
                    .args
                    .iter()
                    .map(|a| self.eval(file, a, scope))
                    .collect();
                let args = if call.args.expand_final() {
                    let mut a = args;
                    match a.pop().map(|v| v.val) {
                        Some(Val::List(items)) => a.extend(items),
                        Some(other) => {
                            a.push(V::new(other));
                        }
                        None => {}
                    }
                    a
                } else {
                    args
                };
                functions::call(self, file, name, args)
            }
            Expression::UnaryOp(op) => {
                let v = self.eval(file, &op.expr, scope);
                match (op.operator.value(), &v.val) {
                    (UnaryOperator::Not, _) => v.as_bool().map_or_else(
                        || V::unknown("operand is not known"),
                        |b| V::new(Val::Bool(!b)),
                    ),
                    (UnaryOperator::Neg, Val::Number(n)) => V::new(Val::Number(-n)),
                    _ => V::unknown("operand is not known"),
                }
            }
            Expression::BinaryOp(op) => {
                let l = self.eval(file, &op.lhs_expr, scope);
                let r = self.eval(file, &op.rhs_expr, scope);
                binary(*op.operator.value(), &l, &r)
            }
            Expression::ForExpr(f) => self.for_expr(file, f, scope),
        };
        v.at(pos)
    }

    fn template(&self, file: FileId, t: &Template, scope: &Scope) -> V {
        // A template that is a single interpolation yields the value itself, unconverted.
        if t.len() == 1
            && let Some(Element::Interpolation(i)) = t.get(0)
        {
            return self.eval(file, &i.expr, scope);
        }
        // Unknown interpolations leave the rest of the string known: the text around
        // `${var.region}` still says what kind of ARN it is.
        let mut out = PartialBuilder::default();
        match self.render_template(file, t, scope, &mut out) {
            Ok(()) => match out.finish() {
                Ok(s) => V::string(s),
                Err(partial) => V::new(Val::Partial(partial)),
            },
            Err(why) => V::unknown(why),
        }
    }

    fn render_template(
        &self,
        file: FileId,
        t: &Template,
        scope: &Scope,
        out: &mut PartialBuilder,
    ) -> Result<(), String> {
        let Some(_level) = self.project.enter() else {
            return Err("template directives nest deeper than the depth budget".into());
        };
        let before = out.known_len();
        let rendered = self.render_elements(file, t, scope, out);
        if !self
            .project
            .charge(&self.address, (out.known_len() - before) as u64 / 64)
        {
            return Err("template not rendered: the expansion budget is spent".into());
        }
        rendered
    }

    fn render_elements(
        &self,
        file: FileId,
        t: &Template,
        scope: &Scope,
        out: &mut PartialBuilder,
    ) -> Result<(), String> {
        for el in t.iter() {
            match el {
                Element::Literal(s) => out.text(s.value()),
                Element::Interpolation(i) => {
                    let v = self.eval(file, &i.expr, scope);
                    if !functions::append(out, &v) {
                        return Err(format!("interpolated value is {}", v.kind_name()));
                    }
                }
                Element::Directive(d) => match d.as_ref() {
                    Directive::If(ifd) => {
                        let c = self.eval(file, &ifd.if_expr.cond_expr, scope);
                        match c.as_bool() {
                            Some(true) => {
                                self.render_template(file, &ifd.if_expr.template, scope, out)?;
                            }
                            Some(false) => {
                                if let Some(e) = &ifd.else_expr {
                                    self.render_template(file, &e.template, scope, out)?;
                                }
                            }
                            None => return Err("template condition is not known".into()),
                        }
                    }
                    Directive::For(fd) => {
                        let coll = self.eval(file, &fd.for_expr.collection_expr, scope);
                        let items = iterate(&coll).ok_or("template for collection is not known")?;
                        if !self.project.charge(&self.address, items.len() as u64) {
                            return Err(
                                "template not rendered: the expansion budget is spent".into()
                            );
                        }
                        for (k, v) in items {
                            let mut s = scope.with(fd.for_expr.value_var.as_str(), v);
                            if let Some(kv) = &fd.for_expr.key_var {
                                s = s.with(kv.as_str(), k);
                            }
                            self.render_template(file, &fd.for_expr.template, &s, out)?;
                        }
                    }
                },
            }
        }
        Ok(())
    }

    fn for_expr(&self, file: FileId, f: &hcl_edit::expr::ForExpr, scope: &Scope) -> V {
        let coll = self.eval(file, &f.intro.collection_expr, scope);
        let Some(items) = iterate(&coll) else {
            return V::unknown("for expression over an unknown collection");
        };
        if !self.project.charge(&self.address, items.len() as u64) {
            return V::unknown("for expression not evaluated: the expansion budget is spent");
        }
        let mut list = Vec::new();
        let mut object: Vec<(String, V)> = Vec::new();
        for (k, v) in items {
            let mut s = scope.with(f.intro.value_var.as_str(), v);
            if let Some(kv) = &f.intro.key_var {
                s = s.with(kv.as_str(), k);
            }
            if let Some(cond) = &f.cond {
                match self.eval(file, &cond.expr, &s).as_bool() {
                    Some(true) => {}
                    Some(false) => continue,
                    None => return V::unknown("for expression condition is not known"),
                }
            }
            let value = self.eval(file, &f.value_expr, &s);
            match &f.key_expr {
                None => list.push(value),
                Some(ke) => {
                    let Some(key) = self.eval(file, ke, &s).as_string() else {
                        return V::unknown("for expression key is not known");
                    };
                    if f.grouping {
                        match object.iter_mut().find(|(k, _)| *k == key) {
                            Some((
                                _,
                                V {
                                    val: Val::List(l), ..
                                },
                            )) => l.push(value),
                            _ => object.push((key, V::new(Val::List(vec![value])))),
                        }
                    } else {
                        object.retain(|(k, _)| *k != key);
                        object.push((key, value));
                    }
                }
            }
        }
        if f.key_expr.is_some() {
            V::new(Val::Object(object))
        } else {
            V::new(Val::List(list))
        }
    }

    fn variable(&self, name: &str, scope: &Scope) -> V {
        if let Some(v) = scope.get(name) {
            return v.clone();
        }
        V::unknown(format!("`{name}` is not known here"))
    }

    /// Evaluates the root of a traversal, consuming the operators that name a reference
    /// (`var.x`, `aws_ecr_repository.x`, `module.m`); returns the value and how many operators
    /// were consumed.
    fn traversal_root(
        &self,
        file: FileId,
        expr: &Expression,
        ops: &[hcl_edit::Decorated<TraversalOperator>],
        scope: &Scope,
    ) -> (Rc<V>, usize) {
        let Expression::Variable(root) = expr else {
            return (Rc::new(self.eval(file, expr, scope)), 0);
        };
        let root = root.as_str();
        if scope.get(root).is_some() {
            return (Rc::new(self.variable(root, scope)), 0);
        }
        let (v, consumed) = self.named_root(root, ops);
        (v, consumed)
    }

    fn named_root(
        &self,
        root: &str,
        ops: &[hcl_edit::Decorated<TraversalOperator>],
    ) -> (Rc<V>, usize) {
        let own = |v: V, n: usize| (Rc::new(v), n);
        let attr = |i: usize| -> Option<&str> {
            match ops.get(i).map(|o| o.value()) {
                Some(TraversalOperator::GetAttr(a)) => Some(a.as_str()),
                _ => None,
            }
        };
        match root {
            "var" => match attr(0) {
                Some(name) => own(self.var(name), 1),
                None => own(V::unknown("`var` without a name"), 0),
            },
            "local" => match attr(0) {
                Some(name) => (self.local_shared(name), 1),
                None => own(V::unknown("`local` without a name"), 0),
            },
            "path" => {
                // Absolute, so that `file("${path.module}/x")` resolves the same whether the
                // scan was given a relative or an absolute path (`file` joins relative paths
                // to the module's directory).
                let dir = std::path::absolute(&self.module.dir)
                    .unwrap_or_else(|_| self.module.dir.clone())
                    .display()
                    .to_string();
                own(V::string(dir), 1)
            }
            "terraform" => own(V::string("default"), 1),
            "count" | "each" | "self" => own(V::unknown(format!("`{root}` is not known here")), 0),
            "module" => match attr(0) {
                Some(name) => own(self.module_value(name), 1),
                None => own(V::unknown("`module` without a name"), 0),
            },
            "data" => match (attr(0), attr(1)) {
                (Some(ty), Some(name)) => (self.data_shared(ty, name), 2),
                _ => own(V::unknown("incomplete data reference"), 0),
            },
            ty => match attr(0) {
                Some(name) if self.module.resource(ty, name).is_some() => {
                    (self.resource_shared(ty, name), 1)
                }
                Some(name) => own(
                    V::unknown(format!("`{ty}.{name}` is not declared in this module")),
                    1,
                ),
                None => own(V::unknown(format!("`{ty}` is not known")), 0),
            },
        }
    }

    fn apply_op(&self, file: FileId, value: &V, op: &TraversalOperator, scope: &Scope) -> V {
        if value.is_unknown() {
            return value.clone();
        }
        match op {
            TraversalOperator::GetAttr(a) => match value.get(a.as_str()) {
                Some(v) => v.clone(),
                None => V::unknown(format!("attribute `{}` is not known", a.as_str())),
            },
            TraversalOperator::Index(e) => {
                let key = self.eval(file, e, scope);
                index(value, &key)
            }
            TraversalOperator::LegacyIndex(n) => {
                index(value, &V::new(Val::Number(*n.value() as f64)))
            }
            TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => value.clone(),
        }
    }

    fn splat(&self, file: FileId, value: V, rest: &[&TraversalOperator], scope: &Scope) -> V {
        let items: Vec<V> = match &value.val {
            Val::List(l) => l.clone(),
            Val::Null => Vec::new(),
            Val::Unknown(_) | Val::Error(_) | Val::Partial(_) | Val::Computed { .. } => {
                return value;
            }
            _ => vec![value.clone()],
        };
        V::new(Val::List(
            items
                .into_iter()
                .map(|mut v| {
                    for op in rest {
                        v = self.apply_op(file, &v, op, scope);
                    }
                    v
                })
                .collect(),
        ))
    }

    /// `var.NAME`: the caller's input, else the default.
    pub fn var(&self, name: &str) -> V {
        if let Some(v) = self.inputs.get(name) {
            return v.clone();
        }
        match self.module.variables.get(name) {
            Some(block) => match block.block.body.get_attribute("default") {
                Some(d) => self.eval(block.file, &d.value, &Scope::default()),
                None => V::unknown(format!(
                    "`var.{name}` has no value (no default, not set in tfvars)"
                )),
            },
            None => V::unknown(format!("`var.{name}` is not declared")),
        }
    }

    fn guarded(&self, key: &str, compute: impl FnOnce() -> V) -> V {
        if !self.in_progress.borrow_mut().insert(key.to_string()) {
            return V::unknown(format!("`{key}` refers to itself"));
        }
        let v = compute();
        self.in_progress.borrow_mut().remove(key);
        v
    }

    /// `local.NAME`, evaluated once.
    pub fn local(&self, name: &str) -> V {
        Rc::unwrap_or_clone(self.local_shared(name))
    }

    fn local_shared(&self, name: &str) -> Rc<V> {
        if let Some(v) = self.locals.borrow().get(name) {
            return v.clone();
        }
        // The module is shared, not its syntax copied: a deep clone per reference was a few
        // percent of a large scan.
        let module = Arc::clone(&self.module);
        let Some(fe) = module.locals.get(name) else {
            return Rc::new(V::unknown(format!("`local.{name}` is not declared")));
        };
        let v = Rc::new(self.guarded(&format!("local.{name}"), || {
            self.eval(fe.file, &fe.expr, &Scope::default())
        }));
        self.locals.borrow_mut().insert(name.to_string(), v.clone());
        v
    }

    /// The instances of a `resource` or `data` block: `(key, scope)` pairs. `key` is `None`
    /// without `count`/`for_each`. `Err` when `count`/`for_each` is not known.
    pub fn instances(&self, block: &FileBlock) -> Result<Vec<(Option<V>, Scope)>, String> {
        let body = &block.block.body;
        let max = self.project.budgets().max_instances;
        // Over the budget is an error of the scan (its result is incomplete), not only a note.
        let over = |n: String| {
            let message = format!(
                "{n} instances are over the instance budget of {max} (`max-instances`); \
                 not evaluated"
            );
            self.project.error(
                self.project.block_location(block),
                format!("{}: {message}", self.address_of(&block.address_label())),
            );
            message
        };
        if let Some(fe) = body.get_attribute("for_each") {
            let coll = self.eval(block.file, &fe.value, &Scope::default());
            let n = match &coll.val {
                Val::Object(m) => m.len(),
                Val::List(l) => l.len(),
                _ => 0,
            };
            if n > max {
                return Err(over(format!("`for_each` over {n} elements:")));
            }
            if !self.project.charge(&self.address, n as u64) {
                return Err("the expansion budget (`max-expansion`) is spent".into());
            }
            let mut out = Vec::new();
            match &coll.val {
                Val::Object(members) => {
                    for (k, v) in members {
                        let each = V::new(Val::Object(vec![
                            ("key".into(), V::string(k.clone())),
                            ("value".into(), v.clone()),
                        ]));
                        out.push((
                            Some(V::string(k.clone())),
                            Scope::default().with("each", each),
                        ));
                    }
                }
                Val::List(items) => {
                    for v in items {
                        let Some(k) = v.as_string() else {
                            return Err("a `for_each` key is not known".into());
                        };
                        let each = V::new(Val::Object(vec![
                            ("key".into(), V::string(k.clone())),
                            ("value".into(), v.clone()),
                        ]));
                        out.push((Some(V::string(k)), Scope::default().with("each", each)));
                    }
                }
                Val::Null => {}
                _ => return Err(format!("`for_each` is {}", coll.kind_name())),
            }
            return Ok(out);
        }
        if let Some(c) = body.get_attribute("count") {
            let v = self.eval(block.file, &c.value, &Scope::default());
            // Terraform converts a numeric string, and rejects anything that is not a whole
            // number of zero or more: such a count is an error there, so unknown here.
            let n = match &v.val {
                Val::Number(n) => *n,
                Val::String(t) => t.trim().parse::<f64>().map_err(|_| {
                    format!("`count` is the string `{t}`, not a number (Terraform rejects it)")
                })?,
                _ => return Err(format!("`count` is {}", v.kind_name())),
            };
            if !n.is_finite() || n < 0.0 || n.fract() != 0.0 {
                return Err(format!(
                    "`count` is {}, not a whole number of zero or more (Terraform rejects it)",
                    crate::value::number_text(n)
                ));
            }
            if n > max as f64 {
                return Err(over(format!("`count` = {}:", crate::value::number_text(n))));
            }
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let n = n as usize;
            if !self.project.charge(&self.address, n as u64) {
                return Err("the expansion budget (`max-expansion`) is spent".into());
            }
            return Ok((0..n)
                .map(|i| {
                    let idx = V::new(Val::Number(i as f64));
                    (
                        Some(idx.clone()),
                        Scope::default()
                            .with("count", V::new(Val::Object(vec![("index".into(), idx)]))),
                    )
                })
                .collect());
        }
        Ok(vec![(None, Scope::default())])
    }

    /// Evaluates a block body into an object: attributes, and nested blocks as lists of
    /// objects (`dynamic` blocks expanded).
    pub fn body_object(&self, file: FileId, body: &Body, scope: &Scope) -> Vec<(String, V)> {
        let mut members: Vec<(String, V)> = Vec::new();
        for attr in body.attributes() {
            let key = attr.key.as_str();
            if matches!(
                key,
                "count" | "for_each" | "depends_on" | "provider" | "lifecycle"
            ) {
                continue;
            }
            let value = self.eval(file, &attr.value, scope);
            // An argument set to `null` is not set: the provider's default applies, exactly
            // as if the line were absent (modules pass `null` for "use the default").
            if matches!(value.val, Val::Null) {
                continue;
            }
            members.push((key.to_string(), value));
        }
        for (name, objs) in self.nested_blocks(file, body, scope) {
            match members.iter_mut().find(|(k, _)| *k == name) {
                Some((
                    _,
                    V {
                        val: Val::List(l), ..
                    },
                )) => l.extend(objs),
                _ => members.push((name, V::new(Val::List(objs)))),
            }
        }
        members
    }

    /// Nested blocks of a body, grouped by type, with `dynamic` blocks expanded.
    pub fn nested_blocks(&self, file: FileId, body: &Body, scope: &Scope) -> Vec<(String, Vec<V>)> {
        let mut groups: Vec<(String, Vec<V>)> = Vec::new();
        let mut push = |name: String, v: V| match groups.iter_mut().find(|(k, _)| *k == name) {
            Some((_, l)) => l.push(v),
            None => groups.push((name, vec![v])),
        };
        for b in body.blocks() {
            let pos = pos_of(file, b);
            if b.ident.as_str() == "dynamic" {
                let Some(name) = b.labels.first().map(|l| l.as_str().to_string()) else {
                    continue;
                };
                let iterator = b
                    .body
                    .get_attribute("iterator")
                    .and_then(|a| match &a.value {
                        Expression::Variable(v) => Some(v.as_str().to_string()),
                        _ => None,
                    });
                let iterator = iterator.unwrap_or_else(|| name.clone());
                let Some(fe) = b.body.get_attribute("for_each") else {
                    continue;
                };
                let coll = self.eval(file, &fe.value, scope);
                let Some(content) = b.body.blocks().find(|c| c.ident.as_str() == "content") else {
                    continue;
                };
                match iterate(&coll) {
                    Some(items) => {
                        for (k, v) in items {
                            let it =
                                V::new(Val::Object(vec![("key".into(), k), ("value".into(), v)]));
                            let s = scope.with(&iterator, it);
                            let obj =
                                V::new(Val::Object(self.body_object(file, &content.body, &s)))
                                    .at(pos_of(file, content));
                            push(name.clone(), obj);
                        }
                    }
                    None => push(
                        name.clone(),
                        V::unknown(format!(
                            "`dynamic \"{name}\"` iterates over an unknown collection"
                        ))
                        .at(pos),
                    ),
                }
                continue;
            }
            let obj = V::new(Val::Object(self.body_object(file, &b.body, scope))).at(pos);
            push(b.ident.as_str().to_string(), obj);
        }
        groups
    }

    /// The value of `TYPE.NAME`: one instance object, or a list (count) / object (for_each)
    /// of them.
    pub fn resource_value(&self, ty: &str, name: &str) -> V {
        Rc::unwrap_or_clone(self.resource_shared(ty, name))
    }

    fn resource_shared(&self, ty: &str, name: &str) -> Rc<V> {
        let key = format!("{ty}.{name}");
        if let Some(v) = self.objects.borrow().get(&key) {
            return v.clone();
        }
        let module = Arc::clone(&self.module);
        let Some(block) = module.resource(ty, name) else {
            return Rc::new(V::unknown(format!("`{key}` is not declared")));
        };
        let v = Rc::new(self.guarded(&key, || {
            self.collect_instances(block, |scope| {
                V::new(Val::Object(self.resource_object(block, scope)))
            })
        }));
        self.objects.borrow_mut().insert(key, v.clone());
        v
    }

    /// One resource instance's attributes, plus the computed ones ecrguard can know.
    pub fn resource_object(&self, block: &FileBlock, scope: &Scope) -> Vec<(String, V)> {
        let mut obj = self.body_object(block.file, &block.block.body, scope);
        let get = |k: &str| obj.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let name_attr = match block.label(0) {
            "aws_ecrpublic_repository" => "repository_name",
            _ => "name",
        };
        let name = get(name_attr);
        let own_arn = |kind: &str| -> Option<V> {
            let n = name.as_ref()?.as_string()?;
            Some(V::string(format!("arn:aws:iam::{SELF_ACCOUNT}:{kind}/{n}")))
        };
        let computed: Vec<(&str, Option<V>)> = match block.label(0) {
            "aws_ecr_repository" | "aws_ecrpublic_repository" => vec![
                ("id", name.clone()),
                ("registry_id", Some(V::string(SELF_ACCOUNT))),
                (
                    "arn",
                    name.as_ref().and_then(V::as_string).map(|n| {
                        V::string(format!(
                            "arn:aws:ecr:unknown-region:{SELF_ACCOUNT}:repository/{n}"
                        ))
                    }),
                ),
            ],
            "aws_iam_role" => vec![("id", name.clone()), ("arn", own_arn("role"))],
            "aws_iam_user" => vec![("id", name.clone()), ("arn", own_arn("user"))],
            "aws_iam_group" => vec![("id", name.clone()), ("arn", own_arn("group"))],
            "aws_iam_policy" => {
                // A name known only after apply (`"${var.env}-push"`) still identifies the
                // policy to whatever refers to it: the ARN is computed but says whose it is,
                // and attachments link to it by reference.
                let arn = own_arn("policy").or_else(|| {
                    let mut address = self.address_of(&block.address_label());
                    if let Some(k) = scope.get_each_key() {
                        address.push_str(&format!("[\"{k}\"]"));
                    } else if let Some(i) = scope.get_count_index() {
                        address.push_str(&format!("[{i}]"));
                    }
                    Some(V::new(Val::Computed {
                        address,
                        attribute: "arn",
                    }))
                });
                vec![("arn", arn.clone()), ("id", arn)]
            }
            "aws_iam_instance_profile" => {
                vec![("id", name.clone()), ("arn", own_arn("instance-profile"))]
            }
            // A launch template's id is assigned by AWS; a stand-in that names the block lets
            // an auto scaling group or node group that refers to it be linked.
            "aws_launch_template" => vec![(
                "id",
                Some(V::string(format!("lt:{}", self.address_of(block.label(1))))),
            )],
            _ => Vec::new(),
        };
        let missing: Vec<(String, V)> = computed
            .into_iter()
            .filter(|(k, _)| get(k).is_none())
            .filter_map(|(k, v)| Some((k.to_string(), v?)))
            .collect();
        obj.extend(missing);
        obj
    }

    fn collect_instances(&self, block: &FileBlock, make: impl Fn(&Scope) -> V) -> V {
        let has_for_each = block.block.body.has_attribute("for_each");
        match self.instances(block) {
            Err(why) => V::unknown(why),
            Ok(list) => {
                if list.len() == 1 && list[0].0.is_none() {
                    return make(&list[0].1);
                }
                if has_for_each {
                    V::new(Val::Object(
                        list.iter()
                            .map(|(k, s)| {
                                (
                                    k.as_ref().and_then(V::as_string).unwrap_or_default(),
                                    make(s),
                                )
                            })
                            .collect(),
                    ))
                } else {
                    V::new(Val::List(list.iter().map(|(_, s)| make(s)).collect()))
                }
            }
        }
    }

    /// The value of `data.TYPE.NAME`.
    pub fn data_value(&self, ty: &str, name: &str) -> V {
        Rc::unwrap_or_clone(self.data_shared(ty, name))
    }

    fn data_shared(&self, ty: &str, name: &str) -> Rc<V> {
        let key = format!("data.{ty}.{name}");
        if let Some(v) = self.objects.borrow().get(&key) {
            return v.clone();
        }
        let module = Arc::clone(&self.module);
        let Some(block) = module.data_source(ty, name) else {
            return Rc::new(V::unknown(format!("`{key}` is not declared")));
        };
        let v = Rc::new(self.guarded(&key, || {
            self.collect_instances(block, |scope| match ty {
                "aws_iam_policy_document" => {
                    let doc = policy_document::render(self, block, scope);
                    let encoded =
                        V::new(Val::Encoded(Box::new(doc))).at(block.span().map(|span| Pos {
                            file: block.file,
                            span,
                        }));
                    V::new(Val::Object(vec![
                        ("json".into(), encoded.clone()),
                        ("minified_json".into(), encoded),
                    ]))
                }
                "aws_caller_identity" => V::new(Val::Object(vec![
                    ("account_id".into(), V::string(SELF_ACCOUNT)),
                    ("id".into(), V::string(SELF_ACCOUNT)),
                ])),
                "aws_partition" => V::new(Val::Object(vec![
                    ("partition".into(), V::string("aws")),
                    ("id".into(), V::string("aws")),
                    ("dns_suffix".into(), V::string("amazonaws.com")),
                ])),
                "aws_iam_policy" => {
                    let mut obj = self.body_object(block.file, &block.block.body, scope);
                    let arn = obj
                        .iter()
                        .find(|(k, _)| k == "arn")
                        .and_then(|(_, v)| v.as_string());
                    let policy = arn
                        .as_deref()
                        .and_then(ecrguard_iam::managed::document)
                        .map_or_else(
                            || V::unknown(format!("`{key}` is read from AWS")),
                            V::string,
                        );
                    obj.push(("policy".into(), policy));
                    V::new(Val::Object(obj))
                }
                _ => V::unknown(format!("`{key}` is read from AWS at plan time")),
            })
        }));
        self.objects.borrow_mut().insert(key, v.clone());
        v
    }

    /// The instances of `module.NAME`, evaluated once.
    pub fn child_instances(&self, name: &str) -> Rc<Vec<ChildInstance<'p>>> {
        if let Some(c) = self.children.borrow().get(name) {
            return c.clone();
        }
        // Module calls whose inputs read each other's outputs are valid Terraform (it
        // evaluates per value); here the second call sees the first still loading.
        if !self.loading_children.borrow_mut().insert(name.to_string()) {
            return Rc::new(Vec::new());
        }
        let list = Rc::new(self.load_children(name));
        self.loading_children.borrow_mut().remove(name);
        self.children
            .borrow_mut()
            .insert(name.to_string(), list.clone());
        list
    }

    fn load_children(&self, name: &str) -> Vec<ChildInstance<'p>> {
        let Some(call) = self.module.module_call(name).cloned() else {
            return Vec::new();
        };
        let source = call
            .block
            .body
            .get_attribute("source")
            .and_then(|a| match &a.value {
                Expression::String(s) => Some(s.value().clone()),
                _ => None,
            });
        let child_key = if self.module_key.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.module_key)
        };
        let is_local = |s: &str| s.starts_with("./") || s.starts_with("../");
        let mut installed: Option<Result<std::path::PathBuf, String>> = None;
        let local_dir = match source.as_deref() {
            Some(s) if is_local(s) => Some(self.module.dir.join(s)),
            // Registry, git, S3 or HTTP modules: where `terraform init` installed them.
            Some(_) => match self.project.installed_module(&self.root_dir, &child_key) {
                Some(Ok(dir)) => Some(dir),
                other => {
                    installed = other;
                    None
                }
            },
            None => None,
        };
        let instances = match self.instances(&call) {
            Ok(i) => i,
            Err(why) => {
                self.note(self.address_of(&format!("module.{name}")), why);
                return Vec::new();
            }
        };
        if !self
            .project
            .charge(&self.address, 1000 * instances.len() as u64)
        {
            return Vec::new();
        }
        let cycle = local_dir.as_ref().and_then(|dir| {
            let dir = crate::project::normalize(dir);
            let at = self
                .lineage
                .iter()
                .position(|d| crate::project::normalize(d) == dir)?;
            Some(
                self.lineage[at..]
                    .iter()
                    .chain(std::iter::once(&dir))
                    .map(|d| format!("`{}`", d.display()))
                    .collect::<Vec<_>>()
                    .join(" -> "),
            )
        });
        if let Some(cycle) = cycle {
            self.project.error(
                self.project.block_location(&call),
                format!(
                    "module `{}` calls itself through {cycle}: Terraform rejects a module \
                     cycle; not evaluated",
                    self.address_of(&format!("module.{name}"))
                ),
            );
            return Vec::new();
        }
        let module = match &local_dir {
            Some(dir) if self.depth < MAX_MODULE_DEPTH => self.project.load_module(dir),
            Some(_) => {
                self.note(
                    self.address_of(&format!("module.{name}")),
                    "modules nest too deep".into(),
                );
                None
            }
            None => {
                let why = match installed {
                    Some(Err(e)) => {
                        self.project.error(None, e.clone());
                        e
                    }
                    _ => format!(
                        "module source `{}` is not installed: run `terraform init` (or `tofu \
                         init`) before the scan so that `.terraform/modules` holds it, or scan \
                         the plan JSON (`terraform show -json plan.out`); `--strict` makes this \
                         fail the run",
                        source.unwrap_or_default()
                    ),
                };
                self.note(self.address_of(&format!("module.{name}")), why);
                None
            }
        };
        instances
            .into_iter()
            .map(|(key, scope)| {
                let address = match &key {
                    None => self.address_of(&format!("module.{name}")),
                    Some(k) => match &k.val {
                        Val::Number(n) => self.address_of(&format!(
                            "module.{name}[{}]",
                            crate::value::number_text(*n)
                        )),
                        _ => self.address_of(&format!(
                            "module.{name}[\"{}\"]",
                            k.as_string().unwrap_or_default()
                        )),
                    },
                };
                let eval = module.clone().map(|m| {
                    let mut inputs = BTreeMap::new();
                    for attr in call.block.body.attributes() {
                        let k = attr.key.as_str();
                        if matches!(
                            k,
                            "source"
                                | "version"
                                | "count"
                                | "for_each"
                                | "providers"
                                | "depends_on"
                        ) {
                            continue;
                        }
                        inputs.insert(k.to_string(), self.eval(call.file, &attr.value, &scope));
                    }
                    let mut child =
                        Eval::new(self.project, m, address.clone(), inputs, self.depth + 1);
                    child.lineage = self.lineage.iter().cloned().chain(child.lineage).collect();
                    child.root_dir.clone_from(&self.root_dir);
                    child.root_label = self.root_label.clone();
                    child.module_key.clone_from(&child_key);
                    child
                });
                ChildInstance {
                    key,
                    eval,
                    call: call.clone(),
                }
            })
            .collect()
    }

    fn module_value(&self, name: &str) -> V {
        if self.module.module_call(name).is_none() {
            return V::unknown(format!("`module.{name}` is not declared"));
        }
        if self.loading_children.borrow().contains(name) {
            return V::unknown(format!(
                "outputs of `module.{name}` feed its own inputs through another module; \
                 Terraform resolves such chains value by value, ecrguard leaves them unknown"
            ));
        }
        let children = self.child_instances(name);
        let outputs = |c: &ChildInstance<'_>| -> V {
            match &c.eval {
                None => V::unknown(format!("outputs of `module.{name}` are not evaluated")),
                Some(e) => V::new(Val::Object(
                    e.module
                        .outputs
                        .keys()
                        .map(|k| (k.clone(), e.output(k)))
                        .collect(),
                )),
            }
        };
        let call = self.module.module_call(name).expect("checked above");
        if call.block.body.has_attribute("for_each") {
            V::new(Val::Object(
                children
                    .iter()
                    .map(|c| {
                        (
                            c.key.as_ref().and_then(V::as_string).unwrap_or_default(),
                            outputs(c),
                        )
                    })
                    .collect(),
            ))
        } else if call.block.body.has_attribute("count") {
            V::new(Val::List(children.iter().map(outputs).collect()))
        } else {
            children.first().map_or_else(
                || V::unknown(format!("`module.{name}` has no instance")),
                outputs,
            )
        }
    }

    /// `output "NAME"` of this instance.
    pub fn output(&self, name: &str) -> V {
        let module = Arc::clone(&self.module);
        let Some(fe) = module.outputs.get(name) else {
            return V::unknown(format!("output `{name}` is not declared"));
        };
        self.guarded(&format!("output.{name}"), || {
            self.eval(fe.file, &fe.expr, &Scope::default())
        })
    }
}

/// Iterates a collection as Terraform's `for` does: lists give (index, value), objects give
/// (key, value). `None` when unknown.
#[must_use]
pub fn iterate(coll: &V) -> Option<Vec<(V, V)>> {
    match &coll.val {
        Val::List(items) => Some(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| (V::new(Val::Number(i as f64)), v.clone()))
                .collect(),
        ),
        Val::Object(members) => {
            let mut m: Vec<(V, V)> = members
                .iter()
                .map(|(k, v)| (V::string(k.clone()), v.clone()))
                .collect();
            // Terraform iterates maps in key order.
            m.sort_by(|a, b| a.0.as_str().cmp(&b.0.as_str()));
            Some(m)
        }
        Val::Null => Some(Vec::new()),
        _ => None,
    }
}

fn index(value: &V, key: &V) -> V {
    match (&value.val, &key.val) {
        _ if value.is_unknown() => value.clone(),
        _ if key.is_unknown() => key.clone(),
        (Val::List(items), _) => match key.as_string().and_then(|s| s.parse::<usize>().ok()) {
            Some(i) => items
                .get(i)
                .cloned()
                .unwrap_or_else(|| V::error("index out of range")),
            None => V::error("list index is not a number"),
        },
        (Val::Object(_), _) => match key.as_string() {
            Some(k) => value
                .get(&k)
                .cloned()
                .unwrap_or_else(|| V::error(format!("key `{k}` is not present"))),
            None => V::error("object key is not a string"),
        },
        _ => V::error(format!("cannot index {}", value.kind_name())),
    }
}

fn binary(op: BinaryOperator, l: &V, r: &V) -> V {
    use BinaryOperator as B;
    if matches!(op, B::Or | B::And) {
        let (a, b) = (l.as_bool(), r.as_bool());
        return match (op, a, b) {
            (B::Or, Some(true), _) | (B::Or, _, Some(true)) => V::new(Val::Bool(true)),
            (B::And, Some(false), _) | (B::And, _, Some(false)) => V::new(Val::Bool(false)),
            (B::Or, Some(x), Some(y)) => V::new(Val::Bool(x || y)),
            (B::And, Some(x), Some(y)) => V::new(Val::Bool(x && y)),
            _ => V::unknown("operand is not known"),
        };
    }
    if let Some(failed) = [l, r].into_iter().find(|v| v.is_error()) {
        return failed.clone();
    }
    if l.is_unknown() || r.is_unknown() {
        return V::unknown("operand is not known");
    }
    match op {
        B::Eq => V::new(Val::Bool(loose_eq(l, r))),
        B::NotEq => V::new(Val::Bool(!loose_eq(l, r))),
        _ => {
            let (Some(a), Some(b)) = (num(l), num(r)) else {
                return V::error("arithmetic on a non-number");
            };
            V::new(match op {
                B::Plus => Val::Number(a + b),
                B::Minus => Val::Number(a - b),
                B::Mul => Val::Number(a * b),
                // Terraform rejects a division by zero; infinity is no value of its.
                B::Div | B::Mod if b == 0.0 => Val::Error("division by zero".into()),
                B::Div => Val::Number(a / b),
                B::Mod => Val::Number(a % b),
                B::Less => Val::Bool(a < b),
                B::LessEq => Val::Bool(a <= b),
                B::Greater => Val::Bool(a > b),
                B::GreaterEq => Val::Bool(a >= b),
                _ => Val::Unknown("operator".into()),
            })
        }
    }
}

fn num(v: &V) -> Option<f64> {
    match &v.val {
        Val::Number(n) => Some(*n),
        Val::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn loose_eq(l: &V, r: &V) -> bool {
    match (&l.val, &r.val) {
        (Val::Number(a), Val::Number(b)) => (a - b).abs() < f64::EPSILON,
        (Val::List(a), Val::List(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| loose_eq(x, y))
        }
        (Val::Object(a), Val::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, v)| r.get(k).is_some_and(|w| loose_eq(v, w)))
                && b.len() == a.len()
        }
        (a, b) => a == b,
    }
}
