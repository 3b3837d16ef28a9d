// Each test binary uses part of the support code.
#![allow(dead_code)]

pub(crate) mod fault_proxy;
pub(crate) mod moto;
