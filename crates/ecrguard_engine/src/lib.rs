//! What one ecrguard run is, for every command: flags and `ecrguard.toml` resolved once into a
//! [`Run`] (rules selected, severities, suppressions, what fails, budgets, `[enforce]`); the
//! infrastructure-code sources read into one model ([`scan::scan`]); and any model, read from
//! code or from live accounts, judged the same way ([`Run::judge`]): rules, then every kind of
//! suppression, then findings sorted. The binary parses arguments, calls this and prints.

#![deny(missing_docs)]

pub mod baseline;
pub mod config;
pub mod judge;
pub mod run;
pub mod scan;

pub use config::{ConfigError, ConfigProblem, LoadedConfig};
pub use judge::Judged;
pub use run::{Flags, ResolveError, Run, Threshold, resolve};
