//! Randomness and SHA-256 from the platform's Web Crypto: `crypto` on the
//! global object (pages, workers, Node ≥ 20).

use js_sys::Uint8Array;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Crypto, SubtleCrypto};

use crate::core::error::{Error, Result};
use crate::web::{global, property};

fn crypto() -> Option<Crypto> {
    global("crypto")
        .ok()
        .filter(JsValue::is_object)
        .map(JsCast::unchecked_into)
}

/// `crypto.getRandomValues` (P-16: verifiers and `state`).
pub fn random_bytes(buf: &mut [u8]) -> Result<()> {
    let crypto = crypto()
        .filter(|c| property(c, "getRandomValues").is_function())
        .ok_or_else(|| Error::config("crypto.getRandomValues is not available"))?;
    crypto
        .get_random_values_with_u8_array(buf)
        .map_err(|_| Error::config("crypto.getRandomValues failed"))?;
    Ok(())
}

/// `crypto.subtle.digest('SHA-256', data)` (P-16: the S256 challenge). Pages
/// have `crypto.subtle` only in secure contexts (https, localhost).
pub async fn sha256(data: &[u8]) -> Result<[u8; 32]> {
    let unavailable =
        || Error::config("crypto.subtle.digest is not available (pages need https or localhost)");
    let subtle: SubtleCrypto = crypto()
        .map(|c| property(&c, "subtle"))
        .filter(JsValue::is_object)
        .ok_or_else(unavailable)?
        .unchecked_into();
    let promise = subtle
        .digest_with_str_and_u8_array("SHA-256", data)
        .map_err(|_| unavailable())?;
    let buffer = JsFuture::from(promise).await.map_err(|_| unavailable())?;
    let bytes = Uint8Array::new(&buffer);
    let mut out = [0u8; 32];
    if bytes.length() as usize != out.len() {
        return Err(Error::config("crypto.subtle.digest gave no SHA-256"));
    }
    bytes.copy_to(&mut out);
    Ok(out)
}
