//! P-3, P-5, P-17: any URL from the network or the app. An accepted URL is
//! https or loopback; the discovery URLs built from it stay on its origin.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_web_auth::core::discovery::{as_metadata_urls, prm_probes, ServerUrl};
use mcp_web_auth::core::endpoint::{https_or_loopback, is_https_or_loopback, origin, Source};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(u) = https_or_loopback(&text, Source::Server("token_endpoint")) {
        assert!(is_https_or_loopback(&u));
    }
    if let Ok(server) = ServerUrl::parse(&text) {
        let home = origin(&server.parsed);
        for probe in prm_probes(&server, None).unwrap_or_default() {
            let u = url::Url::parse(&probe.url).expect("probe URL parses");
            assert_eq!(origin(&u), home, "{} left {home}", probe.url);
        }
    }
    if let Ok(urls) = as_metadata_urls(&text) {
        let issuer = url::Url::parse(&text).expect("an issuer that gave URLs parses");
        for u in urls {
            let parsed = url::Url::parse(&u).expect("metadata URL parses");
            assert_eq!(origin(&parsed), origin(&issuer), "{u}");
        }
    }
});
