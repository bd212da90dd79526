//! Randomness, SHA-256 and the clock from the platform (src/web/crypto.rs).
#![cfg(target_arch = "wasm32")]

mod support;

use mcp_web_auth::core::io::Io;
use mcp_web_auth::web::crypto::{random_bytes, sha256};
use mcp_web_auth::web::fetch::Fetcher;
use mcp_web_auth::web::storage::Store;
use support::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[wasm_bindgen_test]
fn p16_random_bytes_fill_the_buffer_and_differ_between_draws() {
    let mut a = [0u8; 32];
    let mut b = [0u8; 32];
    random_bytes(&mut a).expect("random");
    random_bytes(&mut b).expect("random");
    assert_ne!(a, [0u8; 32]);
    assert_ne!(a, b);
}

#[wasm_bindgen_test]
fn p16_random_fills_a_buffer_of_any_length_up_to_the_web_crypto_limit() {
    let mut big = vec![0u8; 65_536];
    random_bytes(&mut big).expect("random");
    assert!(
        big.iter().filter(|&&b| b == 0).count() < 2_000,
        "the whole buffer is filled"
    );
}

#[wasm_bindgen_test]
fn p16_random_over_the_web_crypto_limit_is_an_error_not_a_crash() {
    let mut too_big = vec![0u8; 65_537];
    assert_eq!(
        random_bytes(&mut too_big).expect_err("QuotaExceededError").code(),
        "invalid_config"
    );
}

#[wasm_bindgen_test]
async fn p16_sha256_matches_the_fips_180_vectors() {
    assert_eq!(
        hex(&sha256(b"abc").await.expect("digest")),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(
        hex(&sha256(b"").await.expect("digest")),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
}

#[wasm_bindgen_test]
async fn p16_io_sha256_hashes_the_utf8_bytes_of_the_text() {
    let io = web_io(Fetcher::new(None, 5_000).expect("fetch"), Store::memory());
    let digest = io.sha256("vérifier-€").await.expect("digest");
    assert_eq!(
        hex(&digest),
        "9e837939fc6946eb82062ded911de8b652c970b24efe222c5d4d955d8f29ad8d"
    );
}

#[wasm_bindgen_test]
fn clock_is_the_platforms_date_now() {
    let io = web_io(Fetcher::new(None, 5_000).expect("fetch"), Store::memory());
    let now = js_sys::Date::now();
    let ours = io.now_ms() as f64;
    assert!((ours - now).abs() < 1_000.0, "{ours} vs {now}");
}
