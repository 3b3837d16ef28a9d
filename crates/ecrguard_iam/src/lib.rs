//! The IAM policy engine of ecrguard.
//!
//! * [`json`]: a spanned JSON tree, the common input of every source.
//! * [`policy`]: the grammar, read leniently the way AWS reads it, with every problem AWS
//!   would reject recorded.
//! * [`analysis`]: who the policy lets in (public / network-restricted / cross-account /
//!   private), per statement and action, with `Deny` statements applied.
//! * [`catalog`]: the ECR action catalogue with access levels and classes.
//!
//! ```
//! use ecrguard_iam::{analysis, policy};
//! let p = policy::parse_text(
//!     r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}}"#,
//!     policy::PolicyKind::Repository,
//! ).unwrap();
//! let a = analysis::analyze(&p, &analysis::AnalysisOptions::default());
//! assert_eq!(a.verdict, analysis::Verdict::Public);
//! ```
#![deny(missing_docs)]

pub mod access;
pub mod analysis;
pub mod catalog;
mod catalog_data;
pub mod condition;
pub mod identity;
pub mod json;
pub mod managed;
pub mod partial;
pub mod policy;
pub mod principal;
pub mod wildcard;

pub use analysis::{Analysis, AnalysisOptions, Party, Verdict, analyze};
pub use policy::{Policy, PolicyError, PolicyKind, parse_node, parse_text};
