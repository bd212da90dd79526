//! A strict, minimal parser for absolute hierarchical URLs (http, https),
//! replacing the `url` crate and its IDNA tables. OAuth identifiers are
//! compared elsewhere as exact strings, so this module only extracts parts,
//! computes origins and checks schemes: it never rewrites the caller's string.

use crate::core::encoding::form_urlencode;

/// The parts of an absolute URL. Only `scheme` and `host` are normalised
/// (lowercased); everything else is kept exactly as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    pub scheme: String,
    pub host: String,
    pub port: Option<u16>,
    pub path: String,
    pub query: Option<String>,
    pub fragment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlError(pub &'static str);

impl Url {
    /// Parses `scheme://host[:port][path][?query][#fragment]`. Anything a
    /// browser would silently repair (spaces, backslashes) or that hides the
    /// real host (userinfo) is rejected rather than guessed at.
    pub fn parse(s: &str) -> Result<Url, UrlError> {
        split(s).map(|(url, _)| url)
    }

    /// `scheme://host[:port]` without the scheme's default port, matching
    /// JS `URL.origin` for ordinary hosts.
    pub fn origin(&self) -> String {
        let default = match self.scheme.as_str() {
            "http" => Some(80),
            "https" => Some(443),
            _ => None,
        };
        match self.port {
            Some(p) if Some(p) != default => format!("{}://{}:{p}", self.scheme, self.host),
            _ => format!("{}://{}", self.scheme, self.host),
        }
    }

    pub fn same_origin(&self, other: &Url) -> bool {
        self.origin() == other.origin()
    }

    /// Exact names only: resolving other names (or the rest of 127/8) is up
    /// to the network, and `localhost.evil.com` must never count.
    pub fn is_loopback(&self) -> bool {
        matches!(self.host.as_str(), "localhost" | "127.0.0.1" | "[::1]")
    }

    /// OAuth 2.1 permits plain http only for loopback redirect targets.
    pub fn is_https_or_loopback(&self) -> bool {
        self.scheme == "https" || (self.scheme == "http" && self.is_loopback())
    }

    /// True when a path segment is `.` or `..` (also percent-encoded), which
    /// a browser would resolve away and so change what an identifier means.
    pub fn has_dot_segments(&self) -> bool {
        // Segment by segment, by byte: `split('/')` links core's char searcher.
        let mut rest = self.path.as_str();
        while let Some((seg, tail)) = split_at_byte(rest, b"/") {
            if is_dot_segment(seg) {
                return true;
            }
            rest = tail;
        }
        is_dot_segment(rest)
    }
}

/// Where the first byte of `set` (ASCII bytes) occurs in `s`. URLs are split
/// on ASCII delimiters only, so a byte scan does what `find` with a char or
/// char array does, without linking core's char searchers and memchr.
// Not `set.contains(&b)`: `<[u8]>::contains` is memchr too. An index loop,
// not `bytes().position(..)`, whose iterator fold is linked of its own.
#[allow(clippy::manual_contains)]
pub(crate) fn find_byte(s: &str, set: &[u8]) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if set.iter().any(|&d| d == bytes[i]) {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// `split_once` on the first byte of `set`, the delimiter dropped.
pub(crate) fn split_at_byte<'a>(s: &'a str, set: &[u8]) -> Option<(&'a str, &'a str)> {
    let i = find_byte(s, set)?;
    // Both halves start or end next to an ASCII byte: on char boundaries.
    Some((s.get(..i)?, s.get(i + 1..)?))
}

/// `.` or `..`, each dot possibly written `%2e` or `%2E`. Scans tokens rather
/// than decoding: a substring search would link in the panic formatting
/// of core's searcher.
fn is_dot_segment(seg: &str) -> bool {
    let mut rest = seg.as_bytes();
    let mut dots = 0;
    while !rest.is_empty() {
        rest = match rest {
            [b'.', tail @ ..] => tail,
            [b'%', b'2', b'e' | b'E', tail @ ..] => tail,
            _ => return false,
        };
        dots += 1;
    }
    dots == 1 || dots == 2
}

/// `char::is_whitespace(c) || char::is_control(c)`, written out: the same
/// set (Unicode White_Space and Cc), without linking core's Unicode table.
pub(crate) fn is_space_or_control(c: char) -> bool {
    matches!(
        c,
        '\0'..=' '
            | '\u{7f}'..='\u{a0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200a}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202f}'
            | '\u{205f}'
            | '\u{3000}'
    )
}

/// Parses `s` and also returns the byte index where its authority ends, so
/// callers can reuse the scheme and authority exactly as written.
fn split(s: &str) -> Result<(Url, usize), UrlError> {
    if s.chars().any(is_space_or_control) {
        return Err(UrlError("whitespace or control character"));
    }
    if find_byte(s, b"\\").is_some() {
        return Err(UrlError("backslash"));
    }
    let (scheme, rest) = split_at_byte(s, b":").ok_or(UrlError("missing scheme"))?;
    let mut chars = scheme.chars();
    let scheme_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-'));
    if !scheme_ok {
        return Err(UrlError("invalid scheme"));
    }
    let rest = rest
        .strip_prefix("//")
        .ok_or(UrlError("missing '//' after scheme"))?;
    let auth_len = find_byte(rest, b"/?#").unwrap_or(rest.len());
    let auth_end = s.len() - rest.len() + auth_len;
    let (authority, tail) = rest.split_at_checked(auth_len).unwrap_or((rest, ""));
    if find_byte(authority, b"@").is_some() {
        return Err(UrlError("userinfo not allowed"));
    }

    let (host, port) = if let Some(inner) = authority.strip_prefix('[') {
        let (ip, after) = split_at_byte(inner, b"]").ok_or(UrlError("invalid IPv6 host"))?;
        if ip.is_empty() || !ip.chars().all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.') {
            return Err(UrlError("invalid IPv6 host"));
        }
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':').ok_or(UrlError("invalid IPv6 host"))?),
        };
        (authority.get(..ip.len() + 2).unwrap_or_default(), port)
    } else {
        match split_at_byte(authority, b":") {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(UrlError("empty host"));
    }
    if !host.starts_with('[')
        && !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~' | '%'))
    {
        return Err(UrlError("invalid host character"));
    }
    let port = match port {
        None => None,
        Some("") => return Err(UrlError("empty port")),
        // Digit by digit: u16's parser would also take a leading '+', and
        // brings a general parser along.
        Some(p) => {
            let mut n: u32 = 0;
            for b in p.bytes() {
                if !b.is_ascii_digit() {
                    return Err(UrlError("invalid port"));
                }
                n = n * 10 + u32::from(b - b'0');
                if n > u32::from(u16::MAX) {
                    return Err(UrlError("invalid port"));
                }
            }
            Some(n as u16)
        }
    };

    let (before_frag, fragment) = match split_at_byte(tail, b"#") {
        Some((b, f)) => (b, Some(f.to_owned())),
        None => (tail, None),
    };
    let (path, query) = match split_at_byte(before_frag, b"?") {
        Some((p, q)) => (p, Some(q.to_owned())),
        None => (before_frag, None),
    };
    let url = Url {
        scheme: scheme.to_ascii_lowercase(),
        host: host.to_ascii_lowercase(),
        port,
        path: path.to_owned(),
        query,
        fragment,
    };
    Ok((url, auth_end))
}

/// Everything before the first `#`.
pub fn strip_fragment(s: &str) -> &str {
    match find_byte(s, b"#") {
        Some(i) => s.get(..i).unwrap_or(s),
        None => s,
    }
}

/// Appends form-encoded pairs to `base`'s query (creating it if needed). Any
/// fragment is dropped: a query placed after it would not be a query.
pub fn append_query(base: &str, pairs: &[(&str, &str)]) -> String {
    let base = strip_fragment(base);
    if pairs.is_empty() {
        return base.to_owned();
    }
    let sep = match find_byte(base, b"?") {
        None => "?",
        // By byte: `ends_with` with a char set links a searcher of its own.
        Some(_) if matches!(base.as_bytes().last(), Some(b'?' | b'&')) => "",
        Some(_) => "&",
    };
    format!("{base}{sep}{}", form_urlencode(pairs))
}

/// The two halves every well-known URL is built from: the input's scheme
/// and authority exactly as written, and its path with one trailing `/`
/// removed (query and fragment dropped). With the parsed URL, so that one
/// parse serves every URL built from the same input.
pub fn well_known_parts(u: &str) -> Result<(Url, &str, &str), UrlError> {
    let (url, auth_end) = split(u)?;
    // The path is kept as written, so it is the text right after the authority.
    let path_len = url.path.strip_suffix('/').unwrap_or(&url.path).len();
    let origin = u.get(..auth_end).unwrap_or_default();
    let path = u.get(auth_end..auth_end + path_len).unwrap_or_default();
    Ok((url, origin, path))
}

/// RFC 8414 / RFC 9728 metadata location: `{origin}/.well-known/{suffix}{path}`
/// with one trailing `/` removed from the path, query and fragment dropped.
/// The origin is the input's own scheme and authority text, unchanged.
pub fn well_known(u: &str, suffix: &str) -> Result<String, UrlError> {
    let (_, origin, path) = well_known_parts(u)?;
    Ok(format!("{origin}/.well-known/{suffix}{path}"))
}

/// OIDC Discovery form: the well-known suffix appended after the path (one
/// trailing `/` removed), query and fragment dropped.
pub fn append_well_known(u: &str, suffix: &str) -> Result<String, UrlError> {
    let (_, origin, path) = well_known_parts(u)?;
    Ok(format!("{origin}{path}/.well-known/{suffix}"))
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect(s)
    }

    fn reason(s: &str) -> &'static str {
        Url::parse(s).expect_err(s).0
    }

    #[test]
    fn parses_all_parts() {
        assert_eq!(
            url("https://example.com:8443/a/b?x=1&y#frag"),
            Url {
                scheme: "https".into(),
                host: "example.com".into(),
                port: Some(8443),
                path: "/a/b".into(),
                query: Some("x=1&y".into()),
                fragment: Some("frag".into()),
            }
        );
    }

    #[test]
    fn path_is_empty_when_absent() {
        let u = url("https://example.com?q#f");
        assert_eq!((u.path.as_str(), u.query.as_deref()), ("", Some("q")));
    }

    #[test]
    fn keeps_path_as_written() {
        assert_eq!(url("https://h/A/./b/%7e//").path, "/A/./b/%7e//");
    }

    #[test]
    fn lowercases_scheme_and_host() {
        let u = url("HTTPS://Example.COM/Path");
        assert_eq!(
            (u.scheme.as_str(), u.host.as_str(), u.path.as_str()),
            ("https", "example.com", "/Path")
        );
    }

    #[test]
    fn accepts_any_valid_scheme() {
        assert_eq!(url("web+app.x-1://h").scheme, "web+app.x-1");
    }

    #[test]
    fn origin_drops_default_ports() {
        assert_eq!(url("https://h:443/x").origin(), "https://h");
        assert_eq!(url("http://h:80").origin(), "http://h");
    }

    #[test]
    fn origin_keeps_explicit_non_default_ports() {
        assert_eq!(url("https://h:80/x").origin(), "https://h:80");
        assert_eq!(url("http://localhost:1234").origin(), "http://localhost:1234");
    }

    #[test]
    fn port_is_recorded_only_when_written() {
        assert_eq!(url("https://h").port, None);
        assert_eq!(url("https://h:443").port, Some(443));
    }

    #[test]
    fn origin_is_lowercase() {
        assert_eq!(url("HTTPS://EXAMPLE.com:443/P").origin(), "https://example.com");
    }

    #[test]
    fn same_origin_ignores_path_and_default_port() {
        assert!(url("https://h/a").same_origin(&url("https://H:443/b?c")));
        assert!(!url("https://h").same_origin(&url("http://h")));
        assert!(!url("https://h").same_origin(&url("https://h:8443")));
    }

    #[test]
    fn parses_ipv6_hosts_in_brackets() {
        let u = url("http://[::1]:8080/cb");
        assert_eq!((u.host.as_str(), u.port), ("[::1]", Some(8080)));
        assert_eq!(url("https://[2001:DB8::1]").origin(), "https://[2001:db8::1]");
    }

    #[test]
    fn rejects_malformed_ipv6_hosts() {
        for s in [
            "http://[::1",
            "http://[]",
            "http://[::g]",
            "http://[::1]x",
            "http://[::1]:",
        ] {
            assert!(Url::parse(s).is_err(), "{s}");
        }
    }

    #[test]
    fn loopback_is_an_exact_host_list() {
        assert!(url("http://localhost:3000").is_loopback());
        assert!(url("http://127.0.0.1").is_loopback());
        assert!(url("http://[::1]").is_loopback());
        assert!(url("http://LOCALHOST").is_loopback());
        assert!(!url("http://localhost.evil.com").is_loopback());
        assert!(!url("http://127.0.0.2").is_loopback());
    }

    #[test]
    fn https_or_loopback_allows_http_only_on_loopback() {
        assert!(url("https://example.com").is_https_or_loopback());
        assert!(url("http://127.0.0.1:9/cb").is_https_or_loopback());
        assert!(!url("http://example.com").is_https_or_loopback());
        assert!(!url("ftp://localhost").is_https_or_loopback());
    }

    #[test]
    fn rejects_userinfo() {
        assert_eq!(reason("https://user:pw@h/"), "userinfo not allowed");
        assert_eq!(reason("https://good.com@evil.com"), "userinfo not allowed");
    }

    #[test]
    fn allows_at_sign_after_authority() {
        assert_eq!(url("https://h/p@x?a@b").host, "h");
    }

    #[test]
    fn rejects_whitespace_and_control_characters() {
        for s in [
            "https://h/a b",
            " https://h",
            "https://h\t",
            "https://h/\u{0}",
            "https://h/\u{a0}",
        ] {
            assert_eq!(reason(s), "whitespace or control character", "{s:?}");
        }
    }

    #[test]
    fn space_or_control_is_std_whitespace_or_control() {
        for c in (0..=0x10ffff).filter_map(char::from_u32) {
            assert_eq!(
                is_space_or_control(c),
                c.is_whitespace() || c.is_control(),
                "{c:?}"
            );
        }
    }

    #[test]
    fn rejects_backslashes() {
        assert_eq!(reason("https://h\\evil.com"), "backslash");
    }

    #[test]
    fn rejects_missing_host() {
        assert_eq!(reason("https:///path"), "empty host");
        assert_eq!(reason("https://:443"), "empty host");
    }

    #[test]
    fn rejects_missing_double_slash() {
        assert_eq!(reason("https:/x"), "missing '//' after scheme");
        assert_eq!(reason("mailto:a"), "missing '//' after scheme");
    }

    #[test]
    fn rejects_invalid_schemes() {
        assert_eq!(reason("example.com"), "missing scheme");
        assert_eq!(reason("://h"), "invalid scheme");
        assert_eq!(reason("1http://h"), "invalid scheme");
        assert_eq!(reason("ht_tp://h"), "invalid scheme");
    }

    #[test]
    fn rejects_invalid_ports() {
        assert_eq!(reason("https://h:99999"), "invalid port");
        assert_eq!(reason("https://h:+80"), "invalid port");
        assert_eq!(reason("https://h:8a"), "invalid port");
        assert_eq!(reason("https://h:1:2"), "invalid port");
        assert_eq!(reason("https://h:/x"), "empty port");
    }

    #[test]
    fn rejects_invalid_host_characters() {
        assert_eq!(reason("https://h!x"), "invalid host character");
        assert_eq!(reason("https://h\u{e9}"), "invalid host character");
    }

    #[test]
    fn detects_dot_segments() {
        assert!(url("https://h/a/../b").has_dot_segments());
        assert!(url("https://h/a/.").has_dot_segments());
        assert!(url("https://h/%2E%2e/x").has_dot_segments());
        assert!(url("https://h/.%2E").has_dot_segments());
    }

    #[test]
    fn ignores_dots_inside_segments() {
        assert!(!url("https://h/a.b/..c/.well-known/").has_dot_segments());
        assert!(!url("https://h?x=/../").has_dot_segments());
    }

    #[test]
    fn strips_fragment_at_first_hash() {
        assert_eq!(strip_fragment("https://h/p?q#a#b"), "https://h/p?q");
        assert_eq!(strip_fragment("https://h"), "https://h");
    }

    #[test]
    fn append_query_starts_a_query() {
        assert_eq!(
            append_query("https://h/a", &[("x", "1 2"), ("y", "&")]),
            "https://h/a?x=1+2&y=%26"
        );
    }

    #[test]
    fn append_query_extends_an_existing_query() {
        assert_eq!(
            append_query("https://h/a?k=v", &[("x", "1")]),
            "https://h/a?k=v&x=1"
        );
        assert_eq!(append_query("https://h/a?", &[("x", "1")]), "https://h/a?x=1");
        assert_eq!(
            append_query("https://h/a?k=v&", &[("x", "1")]),
            "https://h/a?k=v&x=1"
        );
    }

    #[test]
    fn append_query_drops_the_fragment() {
        assert_eq!(
            append_query("https://h/a?k#f?g", &[("x", "1")]),
            "https://h/a?k&x=1"
        );
        assert_eq!(append_query("https://h/a#f", &[]), "https://h/a");
    }

    #[test]
    fn well_known_for_root_urls() {
        let want = "https://as.example/.well-known/oauth-authorization-server";
        assert_eq!(
            well_known("https://as.example", "oauth-authorization-server").as_deref(),
            Ok(want)
        );
        assert_eq!(
            well_known("https://as.example/", "oauth-authorization-server").as_deref(),
            Ok(want)
        );
    }

    #[test]
    fn well_known_inserts_before_path() {
        assert_eq!(
            well_known("http://localhost:1234/mcp", "oauth-protected-resource").as_deref(),
            Ok("http://localhost:1234/.well-known/oauth-protected-resource/mcp")
        );
    }

    #[test]
    fn well_known_removes_one_trailing_slash() {
        assert_eq!(
            well_known("https://h/t1/", "x").as_deref(),
            Ok("https://h/.well-known/x/t1")
        );
        assert_eq!(
            well_known("https://h/t1//", "x").as_deref(),
            Ok("https://h/.well-known/x/t1/")
        );
    }

    #[test]
    fn well_known_drops_query_and_fragment() {
        assert_eq!(
            well_known("https://h/mcp?a=1#f", "x").as_deref(),
            Ok("https://h/.well-known/x/mcp")
        );
        assert_eq!(
            well_known("https://h?a=1", "x").as_deref(),
            Ok("https://h/.well-known/x")
        );
    }

    #[test]
    fn well_known_keeps_origin_as_written() {
        assert_eq!(
            well_known("HTTPS://H:443/p", "x").as_deref(),
            Ok("HTTPS://H:443/.well-known/x/p")
        );
    }

    #[test]
    fn well_known_rejects_invalid_urls() {
        assert_eq!(
            well_known("https://u@h/", "x"),
            Err(UrlError("userinfo not allowed"))
        );
    }

    #[test]
    fn append_well_known_appends_after_path() {
        let oidc = "openid-configuration";
        assert_eq!(
            append_well_known("https://as/t1", oidc).as_deref(),
            Ok("https://as/t1/.well-known/openid-configuration")
        );
        assert_eq!(
            append_well_known("https://as/t1/?q#f", oidc).as_deref(),
            Ok("https://as/t1/.well-known/openid-configuration")
        );
        assert_eq!(
            append_well_known("https://as", oidc).as_deref(),
            Ok("https://as/.well-known/openid-configuration")
        );
        assert_eq!(
            append_well_known("https://as/", oidc).as_deref(),
            Ok("https://as/.well-known/openid-configuration")
        );
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in any::<String>()) {
            let _ = Url::parse(&s);
            let _ = well_known(&s, "x");
            let _ = append_well_known(&s, "x");
            let _ = append_query(&s, &[("a", "b")]);
        }

        #[test]
        fn parse_never_panics_on_url_like_input(s in r"(https?|[a-zA-Z]{1,3})://[a-zA-Z0-9\[\]:@.%/?#é]{0,30}") {
            if let Ok(u) = Url::parse(&s) {
                let _ = (u.origin(), u.has_dot_segments(), u.is_https_or_loopback());
            }
            let _ = well_known(&s, "x");
        }

        #[test]
        fn dot_segments_are_those_that_decode_to_dots(seg in "([.]|%2[eE]|[a%2e]){0,4}") {
            let decoded = seg.to_ascii_lowercase().replace("%2e", ".");
            prop_assert_eq!(is_dot_segment(&seg), decoded == "." || decoded == "..");
        }

        #[test]
        fn well_known_preserves_the_origin(host in "[a-z0-9]{1,10}", path in "(/[a-z0-9]{0,5}){0,3}") {
            let u = format!("https://{host}{path}");
            let got = well_known(&u, "x");
            let want = format!("https://{host}/.well-known/x");
            prop_assert_eq!(got.map(|w| w.starts_with(&want)), Ok(true));
        }
    }
}
