//! The DPoP key in a real browser (src/web/dpop.rs): a non-extractable
//! WebCrypto ECDSA P-256 key pair, one per issuer, kept in IndexedDB, whose
//! signatures WebCrypto verifies (P-36, P-37).
#![cfg(target_arch = "wasm32")]

use js_sys::{Promise, Uint8Array};
use mcp_web_auth::core::dpop::{self, PublicJwk};
use mcp_web_auth::web::dpop as web_dpop;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(inline_js = r#"
export function storedPair(issuer) {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open('mcp-web-auth');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const get = db.transaction('dpop-keys').objectStore('dpop-keys').get(issuer);
      get.onerror = () => reject(get.error);
      get.onsuccess = () => { db.close(); resolve(get.result ?? null); };
    };
  });
}
export async function privateKeyExport(pair) {
  try {
    await crypto.subtle.exportKey('jwk', pair.privateKey);
    return 'exported';
  } catch (e) {
    return e.name;
  }
}
export function extractable(pair) {
  return pair.privateKey.extractable;
}
export function verify(pair, signature, data) {
  return crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, pair.publicKey, signature, data);
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = storedPair)]
    fn stored_pair(issuer: &str) -> Promise;
    #[wasm_bindgen(js_name = privateKeyExport)]
    fn private_key_export(pair: &JsValue) -> Promise;
    fn extractable(pair: &JsValue) -> bool;
    fn verify(pair: &JsValue, signature: &Uint8Array, data: &Uint8Array) -> Promise;
}

async fn stored(issuer: &str) -> JsValue {
    JsFuture::from(stored_pair(issuer)).await.expect("IndexedDB read")
}

fn issuer(name: &str) -> String {
    format!("https://{name}.as.example")
}

#[wasm_bindgen_test]
async fn p36_key_is_p256_created_once_per_issuer_and_kept_in_indexeddb() {
    let a = issuer("keep");
    let jwk: PublicJwk = web_dpop::key(&a).await.expect("a key");
    assert!(jwk.is_p256(), "{jwk:?}");
    assert_eq!(web_dpop::key(&a).await.expect("same key"), jwk);
    assert_ne!(web_dpop::key(&issuer("other")).await.expect("key"), jwk);
    assert!(stored(&a).await.is_object(), "the CryptoKeyPair is in IndexedDB");
}

#[wasm_bindgen_test]
async fn p36_private_key_cannot_be_exported() {
    let a = issuer("sealed");
    web_dpop::key(&a).await.expect("a key");
    let pair = stored(&a).await;
    assert!(!extractable(&pair));
    let outcome = JsFuture::from(private_key_export(&pair)).await.expect("settled");
    assert_eq!(outcome.as_string().as_deref(), Some("InvalidAccessError"));
}

#[wasm_bindgen_test]
async fn p37_signature_is_64_raw_bytes_that_webcrypto_verifies() {
    let a = issuer("sign");
    web_dpop::key(&a).await.expect("a key");
    let data = b"header.claims";
    let signature = web_dpop::sign(&a, data).await.expect("signed");
    let pair = stored(&a).await;
    let ok = JsFuture::from(verify(
        &pair,
        &Uint8Array::from(&signature[..]),
        &Uint8Array::from(&data[..]),
    ))
    .await
    .expect("verify");
    assert_eq!(ok.as_bool(), Some(true));
    let wrong = JsFuture::from(verify(
        &pair,
        &Uint8Array::from(&signature[..]),
        &Uint8Array::from(&b"header.claimz"[..]),
    ))
    .await
    .expect("verify");
    assert_eq!(wrong.as_bool(), Some(false));
}

#[wasm_bindgen_test]
async fn p36_deleting_the_key_removes_it_and_the_next_key_is_new() {
    let a = issuer("delete");
    let before = web_dpop::key(&a).await.expect("a key");
    web_dpop::delete(&a).await.expect("deleted");
    assert!(stored(&a).await.is_null(), "gone from IndexedDB");
    assert_ne!(web_dpop::key(&a).await.expect("a new key"), before);
}

#[wasm_bindgen_test]
async fn p36_thumbprint_input_of_the_exported_key_has_public_members_only() {
    let jwk = web_dpop::key(&issuer("members")).await.expect("a key");
    let text = jwk.thumbprint_input();
    assert!(text.starts_with(r#"{"crv":"P-256","kty":"EC","x":""#), "{text}");
    assert!(!text.contains("\"d\"") && !text.contains("key_ops"), "{text}");
    assert_eq!(dpop::ALG, "ES256");
}

#[wasm_bindgen_test]
fn p39_nonces_are_kept_per_origin() {
    web_dpop::set_nonce("https://as.example", "n1");
    assert_eq!(web_dpop::nonce("https://as.example").as_deref(), Some("n1"));
    assert_eq!(web_dpop::nonce("https://mcp.example"), None);
}
