//! URLs the client sends to or trusts: parsed by the `url` crate (WHATWG),
//! and held to one rule, "https, or http to this machine" (P-17, P-23).
//!
//! Every URL passes [`https_or_loopback`]: the server URL, the redirect URI,
//! the `resource_metadata` URL of a 401, every endpoint of the authorization
//! server's metadata, the registration, token and revocation endpoints.
//!
//! Loopback means the host `localhost`, the address `127.0.0.1` and the
//! address `::1`, in whatever spelling the URL parser normalises to them
//! (`[0:0:0:0:0:0:0:1]`, `127.1`). The rest of 127.0.0.0/8 does not count:
//! P-17 names these three, and RFC 8252 §8.3 asks for exactly them.
//!
//! Hosts are ASCII. The `url` crate maps international names through
//! `idna_adapter`, which Cargo.toml pins to 1.0.0, the adapter without
//! Unicode tables: a non-ASCII host does not parse, and is reported as
//! `invalid_config` asking for its punycode form (`xn--...`), which works.
//!
//! A URL the parser would silently repair (whitespace, control characters,
//! backslashes, a missing `//`) or that hides its host behind userinfo is
//! refused rather than guessed at.
//!
//! Identifiers (the PRM `resource`, the issuer, `iss`) are not compared as
//! parsed URLs: the parser rewrites them (`http://h:1` becomes
//! `http://h:1/`), and P-4, P-6 and P-20 compare the strings as written.

use std::borrow::Cow;
use std::cell::Cell;
use std::net::{Ipv4Addr, Ipv6Addr};

use url::{Host, ParseError, SyntaxViolation, Url};

use crate::core::error::{Error, Result};

/// Who wrote a URL: it decides which error an unusable one is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// An option the app passed (`serverUrl`, `redirectUri`...): `invalid_config`.
    Config(&'static str),
    /// A document or header from a server (`token_endpoint`...): `invalid_response`.
    Server(&'static str),
}

impl Source {
    fn name(self) -> &'static str {
        match self {
            Source::Config(name) | Source::Server(name) => name,
        }
    }

    fn error(self, what: impl Into<Cow<'static, str>>) -> Error {
        match self {
            Source::Config(_) => Error::config(what),
            Source::Server(_) => Error::invalid(what),
        }
    }
}

/// Parses an absolute URL, refusing what a browser would repair or what
/// hides the host (see the module docs).
pub fn parse(text: &str, source: Source) -> Result<Url> {
    let name = source.name();
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(source.error(format!("{name} contains whitespace or control characters")));
    }
    let repaired = Cell::new(false);
    let report = |v: SyntaxViolation| {
        if matches!(
            v,
            SyntaxViolation::Backslash
                | SyntaxViolation::ExpectedDoubleSlash
                | SyntaxViolation::EmbeddedCredentials
                | SyntaxViolation::UnencodedAtSign
        ) {
            repaired.set(true);
        }
    };
    let url = match Url::options()
        .syntax_violation_callback(Some(&report))
        .parse(text)
    {
        Ok(url) => url,
        Err(ParseError::IdnaError) if !text.is_ascii() => {
            return Err(Error::config(format!(
                "{name} has a non-ASCII host: pass its punycode (xn--) form"
            )))
        }
        Err(_) => return Err(source.error(format!("{name} is not an absolute URL"))),
    };
    if repaired.get() || !url.username().is_empty() || url.password().is_some() {
        return Err(source.error(format!(
            "{name} is not a well-formed URL (backslash, missing //, or userinfo)"
        )));
    }
    Ok(url)
}

/// `localhost`, `127.0.0.1` or `::1` (see the module docs).
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(name)) => name == "localhost",
        Some(Host::Ipv4(ip)) => ip == Ipv4Addr::LOCALHOST,
        Some(Host::Ipv6(ip)) => ip == Ipv6Addr::LOCALHOST,
        None => false,
    }
}

/// https anywhere, plain http only to this machine (OAuth 2.1 §1.5, P-17).
pub fn is_https_or_loopback(url: &Url) -> bool {
    url.scheme() == "https" || (url.scheme() == "http" && is_loopback(url))
}

/// The one check: parsed as [`parse`] does, then https or loopback, else
/// `InsecureEndpoint` naming the URL as written.
pub fn https_or_loopback(text: &str, source: Source) -> Result<Url> {
    let url = parse(text, source)?;
    if !is_https_or_loopback(&url) {
        return Err(Error::InsecureEndpoint {
            url: text.to_string(),
        });
    }
    Ok(url)
}

/// `scheme://host[:port]`, the default port left out, as JS `URL.origin`.
pub fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// Whether two parsed paths name the same resource as browsers request it:
/// Chromium percent-encodes `|` in a path (`/a%7Cb`), which the WHATWG
/// parser, the `url` crate and Firefox leave as is (found by the Chromium
/// URL corpus, tests/browser_url_corpus.rs). Nothing else differs there.
pub fn same_path(a: &str, b: &str) -> bool {
    fn requested(path: &str) -> Cow<'_, str> {
        if path.contains('|') {
            path.replace('|', "%7C").into()
        } else {
            path.into()
        }
    }
    requested(a) == requested(b)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const CFG: Source = Source::Config("serverUrl");

    #[test]
    fn a_bar_and_chromiums_percent_encoded_bar_are_the_same_path_p27() {
        assert!(same_path("/a|b", "/a%7Cb"));
        assert!(same_path("/a%7Cb", "/a|b"));
        assert!(same_path("/mcp", "/mcp"));
        assert!(!same_path("/a|b", "/a%7Cc"));
        assert!(!same_path("/a/b", "/a%2Fb"));
    }

    fn secure(s: &str) -> bool {
        https_or_loopback(s, CFG).is_ok()
    }

    #[test]
    fn p17_https_anywhere_http_only_on_loopback() {
        assert!(secure("https://example.com/x"));
        assert!(secure("http://localhost:3000/cb"));
        assert!(secure("http://127.0.0.1/cb"));
        assert!(secure("http://[::1]:8080/cb"));
        assert!(!secure("http://example.com/x"));
        assert_eq!(
            https_or_loopback("http://example.com/x", CFG),
            Err(Error::InsecureEndpoint {
                url: "http://example.com/x".into()
            })
        );
    }

    #[test]
    fn p17_loopback_is_recognised_in_every_ipv6_spelling() {
        for s in [
            "http://[::1]/cb",
            "http://[0:0:0:0:0:0:0:1]/cb",
            "http://[0000:0000:0000:0000:0000:0000:0000:0001]:9/cb",
            "http://[::0:1]/cb",
            "http://[0::1]/cb",
        ] {
            assert!(secure(s), "{s}");
        }
        assert!(!secure("http://[::2]/cb"));
        assert!(!secure("http://[::ffff:127.0.0.1]/cb"));
    }

    #[test]
    fn p17_loopback_is_an_exact_host_list() {
        assert!(secure("http://LOCALHOST/cb"));
        assert!(!secure("http://localhost.evil.com/cb"));
        assert!(!secure("http://127.0.0.2/cb"), "only 127.0.0.1 of 127/8");
        assert!(!secure("http://evil-localhost/cb"));
        assert!(!secure("http://0.0.0.0/cb"));
    }

    #[test]
    fn p17_non_http_schemes_are_insecure() {
        assert!(matches!(
            https_or_loopback("javascript:alert(1)", CFG),
            Err(Error::InsecureEndpoint { .. })
        ));
        assert!(!secure("ftp://localhost/x"));
    }

    #[test]
    fn non_ascii_host_is_invalid_config_asking_for_punycode() {
        for source in [CFG, Source::Server("token_endpoint")] {
            match parse("https://bücher.example/mcp", source) {
                Err(e @ Error::InvalidConfig { .. }) => assert!(e.to_string().contains("punycode"), "{e}"),
                other => panic!("{other:?}"),
            }
        }
        assert!(secure("https://xn--bcher-kva.example/mcp"));
    }

    #[test]
    fn refuses_what_a_browser_would_repair() {
        for s in [
            "https://h/a b",
            " https://h/",
            "https://h/\n",
            "https:\\\\h\\x",
            "https:h/x",
            "https://user:pw@h/",
            "https://user@h/",
            "https://h\u{0}/",
        ] {
            assert!(parse(s, CFG).is_err(), "{s:?}");
        }
    }

    /// What the hand-written parser refused, the url crate (with the checks
    /// above) refuses too. Two it accepted are WHATWG-valid and now pass: an
    /// empty port (`https://h:/x`) and hosts like `h!x`, which no DNS name
    /// matches.
    #[test]
    fn refuses_malformed_urls() {
        for s in [
            "https:///path",
            "https://:443",
            "https:/x",
            "example.com",
            "://h",
            "1http://h",
            "ht_tp://h",
            "https://h:99999",
            "https://h:+80",
            "https://h:8a",
            "https://h:1:2",
            "https://[::1",
            "https://[::g]/",
        ] {
            assert!(https_or_loopback(s, CFG).is_err(), "{s:?}");
        }
    }

    #[test]
    fn relative_and_garbage_urls_are_config_or_response_errors() {
        assert!(matches!(parse("/mcp", CFG), Err(Error::InvalidConfig { .. })));
        assert!(matches!(
            parse("not a url", Source::Server("token_endpoint")),
            Err(Error::InvalidResponse { .. })
        ));
        assert!(matches!(
            parse("https://", Source::Server("token_endpoint")),
            Err(Error::InvalidResponse { .. })
        ));
    }

    #[test]
    fn origin_drops_default_ports_and_keeps_others() {
        let o = |s: &str| origin(&parse(s, CFG).expect(s));
        assert_eq!(o("https://EX.com:443/a?b#c"), "https://ex.com");
        assert_eq!(o("http://h:80/"), "http://h");
        assert_eq!(o("http://h:8080/x"), "http://h:8080");
        assert_eq!(o("http://[0:0::1]:1/"), "http://[::1]:1");
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in ".{0,80}") {
            let _ = https_or_loopback(&s, CFG);
        }

        #[test]
        fn parse_never_panics_on_url_like_text(s in "(https?|ftp):(//)?[a-z0-9.:@\\[\\]%/?#\\\\]{0,40}") {
            let _ = https_or_loopback(&s, Source::Server("x"));
        }
    }
}
