//! # mcp-web-auth
//!
//! An OAuth 2.1 client for browser-hosted MCP apps, compiled to WebAssembly.
//! When an MCP server answers 401, it discovers the authorization server
//! (RFC 9728, RFC 8414), gets a client id (pre-registered, Client ID Metadata
//! Document or Dynamic Client Registration), redirects with PKCE, checks the
//! RFC 9207 `iss` on the way back, then attaches, refreshes and steps up
//! tokens.
//!
//! - [`codec`]: JSON text to and from the core's document types.
//! - [`core`]: the protocol, sans-IO, host-tested. Rules are cited as `P-n`
//!   from the project's PROTOCOL.md.
//! - `web` (wasm only): fetch, storage, crypto, locks and clock adapters.
//! - `js` (wasm only): the JavaScript API (`McpAuth`, `finishAuth`, errors).

pub mod codec;
pub mod core;

#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub mod web;

#[cfg(target_arch = "wasm32")]
pub mod js;
