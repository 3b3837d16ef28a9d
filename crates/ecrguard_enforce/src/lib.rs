//! Guardrails that act (Turbot Guardrails' "Enforce AWS ECR repositories are private", Cloud
//! Custodian's `aws.ecr` actions), safe by construction: a plan first (dry run by default),
//! then per action a re-read of the live state, a backup in the journal, the change, and its
//! outcome. Sources and rules stay read-only; only this crate calls the write API.
#![deny(missing_docs)]

pub mod config;
pub mod event;
pub mod execute;
pub mod handler;
pub mod journal;
pub mod plan;

pub use config::{Control, EnforceConfig, Mode};
pub use plan::{Action, Change, Plan, plan};
