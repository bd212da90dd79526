//! P-5..P-7: any authorization-server metadata document. When accepted, its
//! issuer is exactly the one it was fetched for and every endpoint is https
//! or loopback.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_web_auth::codec;
use mcp_web_auth::core::discovery::{parse_as_metadata, AsMetadataDocument, DiscoveryOptions};
use mcp_web_auth::core::endpoint::is_https_or_loopback;

const ISSUER: &str = "https://as.example.com/tenant";

fuzz_target!(|data: &[u8]| {
    let body = String::from_utf8_lossy(data);
    let Ok(doc) = codec::from_str::<AsMetadataDocument>(&body) else {
        return;
    };
    for allow_missing_pkce_metadata in [false, true] {
        let opts = DiscoveryOptions {
            allow_missing_pkce_metadata,
        };
        if let Ok(meta) = parse_as_metadata(ISSUER, doc.clone(), opts) {
            assert_eq!(meta.issuer, ISSUER);
            assert!(is_https_or_loopback(&meta.authorization_endpoint));
            assert!(is_https_or_loopback(&meta.token_endpoint));
            for e in [&meta.registration_endpoint, &meta.revocation_endpoint]
                .into_iter()
                .flatten()
            {
                assert!(is_https_or_loopback(e));
            }
        }
    }
});
