//! Authentication: keys and access tokens, passwords, TOTP, opaque secrets,
//! and the extractor that turns a bearer token into an `Actor`.

pub mod extractor;
pub mod grants;
pub mod keys;
pub mod password;
pub mod secrets;
pub mod tokens;
pub mod totp;

pub use extractor::Authenticated;
