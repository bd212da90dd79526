//! P-32: any text found in storage under the library's keys (tampered
//! storage, an older version). A record either reads back as a valid record
//! or is absent; a discovery record never yields an endpoint that is neither
//! https nor loopback.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_web_auth::core::authorize::PendingRecord;
use mcp_web_auth::core::discovery::Discovered;
use mcp_web_auth::core::endpoint::is_https_or_loopback;
use mcp_web_auth::core::http::read_object;
use mcp_web_auth::core::registration::ClientInfo;
use mcp_web_auth::core::token::TokenSet;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(d) = read_object::<Discovered>(&text) {
        if d.is_valid() {
            assert!(is_https_or_loopback(&d.metadata.token_endpoint));
            assert!(is_https_or_loopback(&d.metadata.authorization_endpoint));
        }
    }
    let _ = read_object::<PendingRecord>(&text);
    let _ = read_object::<ClientInfo>(&text);
    let _ = read_object::<TokenSet>(&text);
});
