//! Issue 9 item 5: the browser agrees. A corpus of URL strings (IPv6 forms,
//! default ports, case, percent-encoding, dot segments, backslashes,
//! userinfo, IDN, trailing dots, whitespace, tabs and newlines inside, empty
//! hosts, odd schemes, ports at the limits) goes through the library's one
//! URL check (`endpoint::https_or_loopback`, what `serverUrl` and every
//! endpoint pass) and through Chromium's `new URL` and the URL `fetch` would
//! request (`new Request(u).url`). Wherever the library accepts a URL, its
//! origin, path and query must be the browser's (paths compared as
//! `endpoint::same_path` does: Chromium percent-encodes `|`, which this
//! corpus found), and the token decision made on the URL fetch requests
//! must send the token to the server URL and to no other path (P-17, P-27).
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, Function, Reflect};
use mcp_web_auth::core::endpoint::{self, Source};
use mcp_web_auth::core::flow::may_attach_token;
use mcp_web_auth::js::options::parse;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// What the browser makes of a URL string.
struct Browser {
    origin: String,
    pathname: String,
    search: String,
    /// `new Request(u).url`: what `fetch` would request.
    request_url: String,
}

fn construct(name: &str, arg: &str) -> Result<JsValue, JsValue> {
    let constructor: Function = Reflect::get(&js_sys::global(), &name.into())?.dyn_into()?;
    Reflect::construct(&constructor, &Array::of1(&arg.into()))
}

fn text(v: &JsValue, key: &str) -> String {
    Reflect::get(v, &key.into())
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_default()
}

fn browser(u: &str) -> Option<Browser> {
    let url = construct("URL", u).ok()?;
    let request = construct("Request", u).ok()?;
    Some(Browser {
        origin: text(&url, "origin"),
        pathname: text(&url, "pathname"),
        search: text(&url, "search"),
        request_url: text(&request, "url"),
    })
}

/// The corpus: combinations of schemes, hosts, ports and paths, then
/// hand-written oddities.
fn corpus() -> Vec<String> {
    let schemes = ["https://", "http://", "HTTPS://", "hTTp://"];
    let hosts = [
        "example.com",
        "EXAMPLE.com",
        "example.com.",
        "localhost",
        "LOCALHOST",
        "localhost.",
        "127.0.0.1",
        "127.1",
        "0x7f.0.0.1",
        "2130706433",
        "127.0.0.2",
        "[::1]",
        "[0:0:0:0:0:0:0:1]",
        "[::ffff:127.0.0.1]",
        "[::FFFF:7F00:1]",
        "[2001:DB8::1]",
        "xn--nxasmq6b.com",
        "%6c%6f%63alhost",
        "exa%41mple.com",
        "m\u{fc}nchen.de",
        "256.0.0.1",
        "1.2.3.4.5",
        "a..b",
        "_srv.example.com",
        "[::1",
        "ex ample.com",
    ];
    let ports = ["", ":443", ":80", ":65535"];
    let mut all = Vec::new();
    for scheme in schemes {
        for host in hosts {
            for port in ports {
                all.push(format!("{scheme}{host}{port}/mcp"));
            }
        }
    }
    let paths = [
        "",
        "/",
        "/mcp",
        "/MCP",
        "/mcp/",
        "/a/../mcp",
        "/a/./mcp",
        "/./mcp",
        "/../mcp",
        "/%2e%2e/mcp",
        "/a/%2E/mcp",
        "/a/.%2e/mcp",
        "/m%63p",
        "/a%2fb",
        "/a%2Fb",
        "/\u{e9}",
        "/%e9",
        "/a|b",
        "/a%7cb",
        "/a^b",
        "/a`b",
        "/a[b]",
        "/a\u{7f}b",
        "/a<b>",
        "/a{b}",
        "/a'b\"",
        "/mcp?x=1",
        "/mcp?x=%20y&z",
        "/mcp?a b",
        "/mcp#frag",
        "/mcp?#",
        "/a;b=c",
        "/~user/mcp",
        "/a//b",
    ];
    for scheme in ["https://", "http://"] {
        for host in ["example.com", "localhost:8080", "[::1]:3000"] {
            for path in paths {
                all.push(format!("{scheme}{host}{path}"));
            }
        }
    }
    let odd = [
        "https://example.com:0/mcp",
        "https://example.com:65536/mcp",
        "https://example.com:/mcp",
        "https://example.com:00443/mcp",
        "https://example.com:-1/mcp",
        "https://example.com:4a/mcp",
        "http://localhost:0/",
        "https://",
        "https:///mcp",
        "https://:443/mcp",
        "http://",
        "https:example.com/mcp",
        "https:/example.com/mcp",
        "https:\\\\example.com\\mcp",
        "https://example.com\\mcp",
        "https://example.com/a\\b",
        "http:\\\\localhost\\mcp",
        "//example.com/mcp",
        "/mcp",
        "mcp",
        "",
        " https://example.com/mcp",
        "https://example.com/mcp ",
        "https://exa\tmple.com/mcp",
        "https://example.com/m\ncp",
        "https://example.com/m\rcp",
        "https://example.com/mcp\t",
        "\thttps://example.com/mcp",
        "https://example.com/\u{0}",
        "https://user@example.com/mcp",
        "https://user:pass@example.com/mcp",
        "https://:pass@example.com/mcp",
        "https://@example.com/mcp",
        "https://example.com@evil.com/mcp",
        "http://localhost@evil.com/mcp",
        "http://evil.com@localhost/mcp",
        "https://example.com%2F@evil.com/",
        "https://evil.com#@example.com/",
        "https://evil.com?@example.com/",
        "ftp://example.com/mcp",
        "ws://localhost/mcp",
        "wss://example.com/mcp",
        "javascript:alert(1)",
        "JavaScript://example.com/%0Aalert(1)",
        "data:text/plain,hi",
        "file:///etc/passwd",
        "blob:https://example.com/uuid",
        "about:blank",
        "mailto:a@example.com",
        "httpss://example.com/",
        "http+unix://x/",
        "https://[::]/mcp",
        "http://[::]/mcp",
        "http://0.0.0.0/mcp",
        "http://0/mcp",
        "http://127.0.0.1./mcp",
        "http://[::1]./mcp",
        "http://[::127.0.0.1]/mcp",
        "http://[0::1]/mcp",
        "http://[::0:1]/mcp",
        "http://[fe80::1%25eth0]/mcp",
        "http://[::1]:65535/mcp",
        "http://[::1]:65536/mcp",
        "http://LocalHost:80/mcp",
        "http://localhost:080/mcp",
        "https://xn--/mcp",
        "https://xn--a.com/mcp",
        "https://\u{24b6}.com/mcp",
        "https://example.com\u{3002}/mcp",
        "https://ex%00ample.com/",
        "https://ex%2eample.com/",
        "https://exa mple.com/",
        "https://example..com/",
        "https://.example.com/",
        "https://example.com../",
        "https://e\u{200b}xample.com/",
        "https://example.com/%zz",
        "https://example.com/%",
        "https://example.com/?%zz",
        "https://example.com/\u{1f600}",
    ];
    all.extend(odd.iter().map(|s| s.to_string()));
    all
}

#[wasm_bindgen_test]
fn where_the_library_accepts_a_url_its_origin_and_path_are_the_browsers() {
    let corpus = corpus();
    assert!(corpus.len() >= 200, "{} strings", corpus.len());
    let mut accepted = 0;
    let mut disagreements = Vec::new();
    for u in &corpus {
        let Ok(lib) = endpoint::https_or_loopback(u, Source::Config("serverUrl")) else {
            continue;
        };
        accepted += 1;
        let Some(b) = browser(u) else {
            disagreements.push(format!("{u:?}: accepted by the library, refused by the browser"));
            continue;
        };
        let lib_origin = endpoint::origin(&lib);
        let lib_search = lib.query().map(|q| format!("?{q}")).unwrap_or_default();
        let lib_search = if lib_search == "?" {
            String::new()
        } else {
            lib_search
        };
        if lib_origin != b.origin || !endpoint::same_path(lib.path(), &b.pathname) || lib_search != b.search {
            disagreements.push(format!(
                "{u:?}: library {lib_origin} {} {lib_search}, browser {} {} {}",
                lib.path(),
                b.origin,
                b.pathname,
                b.search
            ));
        }
        // What fetch requests is the library's URL (`Request.url` keeps the
        // fragment, which is never sent).
        let requested = b.request_url.split('#').next().unwrap_or_default();
        let mut without_fragment = lib.clone();
        without_fragment.set_fragment(None);
        let fetched = url::Url::parse(requested).ok();
        let same_target = fetched.as_ref().is_some_and(|f| {
            endpoint::origin(f) == lib_origin
                && endpoint::same_path(f.path(), without_fragment.path())
                && f.query() == without_fragment.query()
        });
        if !same_target {
            disagreements.push(format!(
                "{u:?}: fetch requests {}, the library means {}",
                b.request_url,
                without_fragment.as_str()
            ));
        }
        // The McpAuth made from this server URL sends the token to what
        // fetch requests for it, and not to another path of the origin.
        let options = js_sys::Object::new();
        Reflect::set(&options, &"serverUrl".into(), &u.as_str().into()).unwrap();
        Reflect::set(&options, &"redirectUri".into(), &"http://127.0.0.1:9/cb".into()).unwrap();
        match parse(&options) {
            Ok(p) => {
                if !may_attach_token(&p.config, &b.request_url) {
                    disagreements.push(format!("{u:?}: no token for {}", b.request_url));
                }
                let other = construct("URL", &format!("{}/elsewhere", b.origin))
                    .map(|o| text(&o, "href"))
                    .unwrap_or_default();
                if b.pathname != "/elsewhere" && may_attach_token(&p.config, &other) {
                    disagreements.push(format!("{u:?}: token for {other}"));
                }
            }
            Err(e) => disagreements.push(format!("{u:?}: accepted by the check, refused as serverUrl: {e}")),
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
    assert!(accepted >= 80, "only {accepted} of {} accepted", corpus.len());
}

#[wasm_bindgen_test]
fn the_library_refuses_what_hides_or_repairs_the_host() {
    for u in [
        "https://user@example.com/mcp",
        "https://example.com@evil.com/mcp",
        "https:\\\\example.com\\mcp",
        "https://exa\tmple.com/mcp",
        "https:example.com/mcp",
        "javascript:alert(1)",
        "http://example.com/mcp",
        "http://127.0.0.2/mcp",
    ] {
        assert!(
            endpoint::https_or_loopback(u, Source::Config("serverUrl")).is_err(),
            "{u:?} accepted"
        );
    }
}
