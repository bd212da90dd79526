//! P-1: any `WWW-Authenticate` header a server sends. The parser never
//! panics, and what it hands the flow is well-formed: lowercase parameter
//! names, scopes split, deduplicated and free of whitespace, a
//! `resource_metadata` only when it is an absolute http(s) URL.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_web_auth::core::challenge::{bearer_challenge, parse_www_authenticate};

fuzz_target!(|data: &[u8]| {
    let header = String::from_utf8_lossy(data);
    for c in parse_www_authenticate(&header) {
        assert!(c.params.iter().all(|(n, _)| *n == n.to_ascii_lowercase()));
    }
    if let Some(b) = bearer_challenge(&header) {
        let mut seen = std::collections::HashSet::new();
        for s in &b.scope {
            assert!(
                !s.is_empty() && !s.contains(|c: char| c.is_ascii_whitespace()),
                "{s:?}"
            );
            assert!(seen.insert(s), "duplicate scope {s:?}");
        }
        if let Some(u) = &b.resource_metadata {
            let parsed = url::Url::parse(u).expect("resource_metadata is an absolute URL");
            assert!(matches!(parsed.scheme(), "http" | "https"));
        }
    }
});
