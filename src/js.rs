//! The JavaScript facade (wasm only).
