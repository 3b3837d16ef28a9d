//! The normalized ECR model.
//!
//! Every source (Terraform HCL, Terraform plan JSON, CloudFormation, live AWS) adapts into
//! [`EcrState`]; rules read only this. Every value records its [`Origin`], and what could not
//! be determined is [`Value::Unknown`] or [`PolicyState::Unknown`], never "absent".
#![deny(missing_docs)]

pub mod ecr;
pub mod link;
pub mod origin;
pub mod problem;
pub mod value;

pub use ecr::*;
pub use origin::{FileId, Location, Origin, SourceDb, SourceFile, Span};
pub use problem::{InputProblem, Place, ProblemKind};
pub use value::Value;
