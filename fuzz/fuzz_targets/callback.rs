//! P-18..P-22: any callback query. The `iss` check comes first; a code is
//! handed on only after it passed, and it is the code of the query.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_web_auth::core::authorize::{Flow, PendingRecord};
use mcp_web_auth::core::callback::{callback_state, check_issuer, read_callback, CallbackParams};
use mcp_web_auth::core::io::TokenStorage;
use mcp_web_auth::core::registration::AuthMethod;
use mcp_web_auth::core::secret::Secret;

fn record(iss_advertised: bool) -> PendingRecord {
    PendingRecord {
        state: "s".into(),
        verifier: Secret::new("v".repeat(43)),
        issuer: "https://as.example.com".into(),
        iss_advertised,
        token_endpoint: "https://as.example.com/token".into(),
        client_id: "c".into(),
        client_secret: None,
        auth_method: AuthMethod::None,
        redirect_uri: "https://app.example.com/cb".into(),
        resource: "https://mcp.example.com/mcp".into(),
        scope: vec![],
        server_url: "https://mcp.example.com/mcp".into(),
        return_to: "https://app.example.com/".into(),
        created_at_ms: 0,
        token_storage: TokenStorage::Session,
        flow: Flow::Redirect,
        dpop: false,
    }
}

fuzz_target!(|data: &[u8]| {
    let query = String::from_utf8_lossy(data);
    let params = CallbackParams::from_query(&query);
    let _ = callback_state(&params);
    for advertised in [false, true] {
        let r = record(advertised);
        let iss_ok = check_issuer(&r, params.get("iss")).is_ok();
        match read_callback(&r, &params) {
            Ok(code) => {
                assert!(iss_ok, "a code was handed on past a failed iss check");
                assert_eq!(Some(code.as_str()), params.get("code"));
            }
            Err(e) => {
                // The message does not depend on the code or on what the
                // server wrote about its error (P-21).
                let scrubbed = CallbackParams(
                    params
                        .0
                        .iter()
                        .map(|(k, v)| match k.as_str() {
                            "code" | "error_description" | "error_uri" if !v.is_empty() => {
                                (k.clone(), "replaced".to_string())
                            }
                            _ => (k.clone(), v.clone()),
                        })
                        .collect(),
                );
                let again = read_callback(&r, &scrubbed).err().map(|e| e.to_string());
                assert_eq!(
                    again,
                    Some(e.to_string()),
                    "the message depends on the code or description"
                );
            }
        }
    }
});
