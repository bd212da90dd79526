//! Browser adapters (wasm only).
