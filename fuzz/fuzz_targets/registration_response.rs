//! P-11: any answer to Dynamic Client Registration, with any status. An
//! accepted one has a client id; no error message carries the server's
//! `error_description` or a secret.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_web_auth::core::discovery::default_metadata;
use mcp_web_auth::core::http::{FetchOutcome, HttpResponse};
use mcp_web_auth::core::registration::registration_response;

/// The message must not depend on what an attacker writes in these members:
/// the same body with each of them replaced gives the same message.
fn message_ignores(body: &str, keys: &[&str], message_of: impl Fn(&str) -> Option<String>) {
    let Ok(serde_json::Value::Object(mut doc)) = serde_json::from_str::<serde_json::Value>(body) else {
        return;
    };
    // Compare documents as serde_json writes them: a body with a repeated
    // member reads differently once rewritten.
    let Some(message) = message_of(&serde_json::Value::Object(doc.clone()).to_string()) else {
        return;
    };
    for key in keys {
        if let Some(v @ serde_json::Value::String(_)) = doc.get_mut(*key) {
            *v = serde_json::Value::String("replaced".into());
        }
    }
    let replaced = serde_json::Value::Object(doc).to_string();
    assert_eq!(
        message_of(&replaced),
        Some(message),
        "the message depends on {keys:?}"
    );
}

fuzz_target!(|data: &[u8]| {
    let (status, body) = match data.split_first() {
        Some((s, rest)) => (if *s < 128 { 201 } else { 400 + u16::from(*s % 100) }, rest),
        None => return,
    };
    let body = String::from_utf8_lossy(body);
    let origin = url::Url::parse("https://as.example.com").expect("origin");
    let meta = default_metadata(&origin);
    let answer = |body: &str| {
        let outcome = FetchOutcome::Response(HttpResponse::new(status, body.to_string()));
        registration_response(
            &outcome,
            &meta,
            "https://app.example.com/cb",
            &["mcp".to_string()],
        )
    };
    if let Ok(client) = answer(&body) {
        assert!(!client.client_id.is_empty());
    }
    message_ignores(&body, &["error_description", "error_uri", "client_secret"], |b| {
        answer(b).err().map(|e| e.to_string())
    });
});
