//! P-3, P-4: any body a protected-resource-metadata probe answers with. A
//! document is used only when its `resource` is exactly the identifier the
//! probe was built from (one trailing `/` tolerated on the origin).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_web_auth::core::discovery::{prm_probes, select_prm, PrmResult, ServerUrl};
use mcp_web_auth::core::http::{FetchOutcome, HttpResponse};

fuzz_target!(|data: &[u8]| {
    let body = String::from_utf8_lossy(data);
    let server = ServerUrl::parse("https://mcp.example.com/tenant/mcp").expect("server URL");
    let probes = prm_probes(&server, None).expect("probes");
    // The path-aware probe answers; then the root probe answers alone.
    for answering in 0..probes.len() {
        let outcomes: Vec<FetchOutcome> = (0..probes.len())
            .map(|i| match i == answering {
                true => FetchOutcome::Response(HttpResponse::new(200, body.to_string())),
                false => FetchOutcome::Response(HttpResponse::new(404, "")),
            })
            .collect();
        if let Ok(PrmResult::Found(prm)) = select_prm(&probes, &outcomes) {
            let expected = &probes[answering].expected_resource;
            assert!(
                prm.resource == *expected
                    || prm.resource.trim_end_matches('/') == expected.trim_end_matches('/'),
                "{:?} used for {expected:?}",
                prm.resource
            );
        }
    }
});
