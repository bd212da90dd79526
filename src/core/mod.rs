//! The protocol, sans-IO: pure Rust, no browser types, tested on the host.
//!
//! Pure steps (`challenge`, `discovery`, `registration`, `scope`, `pkce`,
//! `authorize`, `callback`, `token`) take data and return data; `flow`
//! sequences them over the one I/O seam in `io`. URLs pass the one
//! "https or loopback" check in `endpoint`; JSON documents are serde types,
//! turned into text and back by `crate::codec`.

pub mod authorize;
pub mod callback;
pub mod challenge;
pub mod discovery;
pub mod dpop;
pub mod encoding;
pub mod endpoint;
pub mod error;
pub mod flow;
pub mod http;
pub mod io;
pub mod pkce;
pub mod popup;
pub mod registration;
pub mod scope;
pub mod secret;
pub mod store;
pub mod token;

#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) mod testing;

#[cfg(all(test, not(target_arch = "wasm32")))]
mod round_trip_tests;
