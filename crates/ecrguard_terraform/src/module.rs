//! A Terraform module as written: the blocks of its `.tf` files, grouped by kind.

use ecrguard_model::{FileId, Span};
use hcl_edit::Span as _;
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Block, Body, Structure};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// A top-level block with the file it is in.
#[derive(Debug, Clone)]
pub struct FileBlock {
    /// The file.
    pub file: FileId,
    /// The block.
    pub block: Block,
}

impl FileBlock {
    /// First label (`resource "TYPE" "NAME"` -> TYPE).
    #[must_use]
    pub fn label(&self, i: usize) -> &str {
        self.block.labels.get(i).map_or("", |l| l.as_str())
    }

    /// The block's local address: `TYPE.NAME`, `data.TYPE.NAME` or `module.NAME`.
    #[must_use]
    pub fn address_label(&self) -> String {
        match self.block.ident.as_str() {
            "module" => format!("module.{}", self.label(0)),
            "data" => format!("data.{}.{}", self.label(0), self.label(1)),
            _ => format!("{}.{}", self.label(0), self.label(1)),
        }
    }

    /// The block's span.
    #[must_use]
    pub fn span(&self) -> Option<Span> {
        self.block.span().map(|r| Span::new(r.start, r.end))
    }
}

/// An expression with the file it is in.
#[derive(Debug, Clone)]
pub struct FileExpr {
    /// The file.
    pub file: FileId,
    /// The expression.
    pub expr: Expression,
}

/// A module directory's declarations.
#[derive(Debug, Clone, Default)]
pub struct Module {
    /// Directory (for `path.module`, `file()` and local module sources).
    pub dir: PathBuf,
    /// `variable` blocks by name.
    pub variables: BTreeMap<String, FileBlock>,
    /// `locals` entries by name.
    pub locals: BTreeMap<String, FileExpr>,
    /// `resource` blocks, in file order.
    pub resources: Vec<FileBlock>,
    /// `data` blocks.
    pub data: Vec<FileBlock>,
    /// `output` values by name.
    pub outputs: BTreeMap<String, FileExpr>,
    /// `module` blocks.
    pub module_calls: Vec<FileBlock>,
}

impl Module {
    /// Adds the top-level structures of one parsed file.
    pub fn add_file(&mut self, file: FileId, body: Body) {
        for structure in body.into_iter() {
            let Structure::Block(block) = structure else {
                continue;
            };
            let fb = FileBlock { file, block };
            match fb.block.ident.as_str() {
                "resource" => self.resources.push(fb),
                "data" => self.data.push(fb),
                "module" => self.module_calls.push(fb),
                "variable" => {
                    let name = fb.label(0).to_string();
                    self.variables.insert(name, fb);
                }
                "locals" => {
                    for attr in fb.block.body.attributes() {
                        self.locals.insert(
                            attr.key.as_str().to_string(),
                            FileExpr {
                                file,
                                expr: attr.value.clone(),
                            },
                        );
                    }
                }
                "output" => {
                    if let Some(v) = fb.block.body.get_attribute("value") {
                        self.outputs.insert(
                            fb.label(0).to_string(),
                            FileExpr {
                                file,
                                expr: v.value.clone(),
                            },
                        );
                    }
                }
                _ => {}
            }
        }
    }

    /// The resource block `TYPE.NAME`.
    #[must_use]
    pub fn resource(&self, ty: &str, name: &str) -> Option<&FileBlock> {
        self.resources
            .iter()
            .find(|b| b.label(0) == ty && b.label(1) == name)
    }

    /// The data block `data.TYPE.NAME`.
    #[must_use]
    pub fn data_source(&self, ty: &str, name: &str) -> Option<&FileBlock> {
        self.data
            .iter()
            .find(|b| b.label(0) == ty && b.label(1) == name)
    }

    /// The module call `module.NAME`.
    #[must_use]
    pub fn module_call(&self, name: &str) -> Option<&FileBlock> {
        self.module_calls.iter().find(|b| b.label(0) == name)
    }
}
