//! The live AWS source of ecrguard. [`api::EcrApi`] is the narrow surface of AWS that is read;
//! [`collect::collect`] turns one account's answers into the normalized model; the SDK
//! implementation ([`sdk`], feature `sdk`) is the only part that compiles the AWS SDK.
#![deny(missing_docs)]

pub mod api;
pub mod collect;
#[cfg(feature = "sdk")]
pub mod journal_table;
#[cfg(feature = "report-store")]
pub mod report_store;
#[cfg(feature = "sdk")]
pub mod sdk;
#[cfg(feature = "security-hub")]
pub mod security_hub;
