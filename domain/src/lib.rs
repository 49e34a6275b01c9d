//! The rules of the Ado Sexo programme.
//!
//! This crate knows no HTTP, no SQL and no clock: every value that exists is
//! valid (parse, don't validate), every decision is a pure function, and time
//! is passed in by the caller.

pub mod audit;
pub mod authz;
pub mod consent;
pub mod followup;
pub mod identity;
pub mod professional;
pub mod public;
pub mod referral;
pub mod retention;
pub mod schedule;
pub mod stats;
pub mod territory;
pub mod text;
pub mod webhooks;

pub use territory::{DepartementCode, DepartementCodeError, RegionCode, RegionCodeError};
