//! P-23, P-24, P-32: any token endpoint answer, with any status. An accepted
//! one has a non-empty access token; an error never carries the server's
//! `error_description` or a token in its message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_web_auth::core::http::{FetchOutcome, HttpResponse};
use mcp_web_auth::core::token::{token_response, TokenContext};

/// A value with the same RFC 6750 `b64token` shape as `v` (the same
/// characters allowed or not, `=` kept) but none of its content: replacing a
/// token by it keeps every decision the reader makes about the token.
fn same_shape(v: &str) -> String {
    v.chars()
        .map(|c| match c {
            '=' => '=',
            c if c.is_ascii_alphanumeric() || "-._~+/".contains(c) => 'x',
            _ => ' ',
        })
        .collect()
}

/// The message must not depend on what an attacker writes in these members:
/// the same body with each of them replaced (keeping its shape) gives the
/// same message.
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
        if let Some(serde_json::Value::String(v)) = doc.get_mut(*key) {
            *v = same_shape(v);
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
        Some((s, rest)) => (if *s < 128 { 200 } else { 400 + u16::from(*s % 100) }, rest),
        None => return,
    };
    let body = String::from_utf8_lossy(body);
    let requested = vec!["mcp:read".to_string()];
    let ctx = TokenContext {
        request: "the token request",
        endpoint: "https://as.example.com/token",
        requested_scope: &requested,
        issuer: "https://as.example.com",
        resource: "https://mcp.example.com/mcp",
        client_id: "client-1",
        now_ms: 1_700_000_000_000,
        previous_refresh_token: None,
    };
    let answer = |body: &str| {
        let outcome = FetchOutcome::Response(HttpResponse::new(status, body.to_string()));
        token_response(&outcome, &ctx)
    };
    if let Ok(t) = answer(&body) {
        assert!(!t.access_token.expose().is_empty());
    }
    message_ignores(
        &body,
        &["error_description", "error_uri", "access_token", "refresh_token"],
        |b| answer(b).err().map(|e| e.to_string()),
    );
});
