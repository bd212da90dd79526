//! JSON text to and from the core's document types: the browser's
//! `JSON.parse`/`JSON.stringify` with serde-wasm-bindgen in wasm, serde_json
//! on the host.
//!
//! The core never parses JSON itself: every document is a
//! `#[derive(Serialize, Deserialize)]` type, and this module is the only
//! place where text becomes such a type or a type becomes text.
//!
//! The two backends agree on every document the core handles, with one
//! known difference: a member repeated in one object is an error for
//! serde_json (`duplicate field`) while `JSON.parse` keeps the last one.

use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt;

/// Why a text did not become the wanted type: not JSON, or JSON of another
/// shape. The message may quote the document, so it is for debugging only:
/// the core never puts it in an error that users see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DecodeError {}

/// Parses `text` as JSON and maps it onto `T`. Unknown members are ignored
/// (serde's default); a missing required member or a member of the wrong
/// type is an error.
#[cfg(target_arch = "wasm32")]
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, DecodeError> {
    let value = js_sys::JSON::parse(text).map_err(|_| DecodeError("not JSON".into()))?;
    serde_wasm_bindgen::from_value(value).map_err(|e| DecodeError(e.to_string()))
}

/// `value` as JSON text. The core's documents are plain structs of strings,
/// numbers, booleans and lists, which always serialize; should one ever
/// fail, the result is empty, which reads back as "absent".
#[cfg(target_arch = "wasm32")]
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> String {
    // json_compatible: maps become plain objects and `None` becomes `null`,
    // as serde_json writes them, so both sides read each other's records.
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    value
        .serialize(&serializer)
        .ok()
        .and_then(|v| js_sys::JSON::stringify(&v).ok())
        .and_then(|s| s.as_string())
        .unwrap_or_default()
}

/// Parses `text` as JSON and maps it onto `T` (see the wasm version).
#[cfg(not(target_arch = "wasm32"))]
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, DecodeError> {
    serde_json::from_str(text).map_err(|e| DecodeError(e.to_string()))
}

/// `value` as JSON text (see the wasm version).
#[cfg(not(target_arch = "wasm32"))]
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn strings_are_quoted_and_escaped() {
        assert_eq!(to_string("a\"b\n\u{1}"), r#""a\"b\n\u0001""#);
    }

    #[test]
    fn text_that_is_not_json_is_a_decode_error() {
        assert!(from_str::<String>("{").is_err());
        assert_eq!(from_str::<String>(r#""x""#), Ok("x".to_string()));
    }
}
