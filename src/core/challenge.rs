//! `WWW-Authenticate` parsing (P-1): the RFC 9110 §11.6.1 challenge and
//! auth-param grammar, and the RFC 6750 / RFC 9728 §5.1 parameters of the
//! `Bearer` challenge (`error`, `error_description`, `error_uri`, `scope`,
//! `resource_metadata`).
//!
//! A real grammar rather than a substring search: rmcp looks for `scope=`
//! anywhere in the header, which picks up text inside another parameter's
//! quoted value. The parser is tolerant: a header comes from an arbitrary
//! server, so malformed pieces are skipped and parsing goes on; it never
//! panics.

use super::scope;
use crate::core::endpoint::{self, Source};

/// One challenge of a `WWW-Authenticate` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The auth-scheme as written (compare it with [`Challenge::is_scheme`]).
    pub scheme: String,
    /// The token68 form (`Basic dXNlcjpwYXNz==`), when used instead of params.
    pub token68: Option<String>,
    /// Parameters in header order; names lowercased, values unquoted with
    /// `\`-escapes resolved.
    pub params: Vec<(String, String)>,
}

impl Challenge {
    /// Auth-schemes are case-insensitive (RFC 9110 §11.1).
    pub fn is_scheme(&self, scheme: &str) -> bool {
        self.scheme.eq_ignore_ascii_case(scheme)
    }

    /// The value of the first parameter named `name`, case-insensitively
    /// (RFC 9110 §11.2). The first occurrence wins: a repeated parameter is
    /// invalid, and taking the first makes the choice deterministic.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// `tchar` of RFC 9110 §5.6.2.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
}

/// The non-`=` characters of `token68` (RFC 9110 §11.2).
fn is_token68_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
}

/// OWS / BWS / the `1*SP` after a scheme: SP and HTAB (RFC 9110 §5.6.3).
fn is_ws(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// A cursor over the header. Every index it stops at is either the end or
/// just before/after an ASCII byte, so slicing the `&str` there is always on a
/// char boundary and cannot panic.
struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    fn at_element_end(&self) -> bool {
        matches!(self.peek(), None | Some(b','))
    }

    fn skip_ws(&mut self) -> bool {
        let start = self.pos;
        while self.peek().is_some_and(is_ws) {
            self.pos += 1;
        }
        self.pos > start
    }

    fn take_while(&mut self, pred: impl Fn(u8) -> bool) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(&pred) {
            self.pos += 1;
        }
        self.s.get(start..self.pos).unwrap_or_default()
    }

    fn token(&mut self) -> &'a str {
        self.take_while(is_tchar)
    }

    /// Skips the rest of a malformed list element, up to (not past) the next
    /// comma that is outside a quoted string, so that a comma inside quotes
    /// does not resynchronise in the middle of a value.
    fn skip_element(&mut self) {
        while let Some(b) = self.peek() {
            match b {
                b',' => return,
                b'"' => {
                    let _ = self.quoted_string();
                }
                _ => self.pos += 1,
            }
        }
    }

    /// A quoted-string starting at the opening `"`, with `\`-escapes
    /// resolved. An unterminated string runs to the end of the header: the
    /// value is still the best information the server gave.
    fn quoted_string(&mut self) -> String {
        // By byte, copying unescaped runs whole: `"` and `\` are ASCII, so
        // they never occur inside a multi-byte char, and every run starts and
        // ends next to one of them (a char boundary).
        let mut out = String::new();
        // Skip the opening quote.
        self.pos += 1;
        let mut run = self.pos;
        loop {
            match self.peek() {
                None | Some(b'"') => break,
                Some(b'\\') => {
                    out.push_str(self.s.get(run..self.pos).unwrap_or_default());
                    // The escaped char is kept as is, whatever it is.
                    run = self.pos + 1;
                    self.pos += 2;
                }
                Some(_) => self.pos += 1,
            }
        }
        let end = self.pos.min(self.s.len());
        out.push_str(self.s.get(run..end).unwrap_or_default());
        // An unterminated string runs to the end of the header.
        self.pos = if self.peek() == Some(b'"') {
            end + 1
        } else {
            self.s.len()
        };
        out
    }

    /// An auth-param value: a quoted-string or an unquoted value. Unquoted
    /// values are read more loosely than `token` (anything up to whitespace,
    /// a comma or a quote) because servers do send e.g.
    /// `resource_metadata=https://...` unquoted, and the extra characters
    /// cannot be mistaken for list structure.
    fn value(&mut self) -> Option<String> {
        if self.peek() == Some(b'"') {
            return Some(self.quoted_string());
        }
        let v = self.take_while(|b| !is_ws(b) && b != b',' && b != b'"');
        (!v.is_empty()).then(|| v.to_owned())
    }

    /// Tries `token68 OWS (end | ",")` at the cursor; leaves the cursor
    /// unchanged when it is not there, since the same text may be an
    /// auth-param (`realm=x` starts like a token68).
    fn token68(&mut self) -> Option<String> {
        let start = self.pos;
        let body = self.take_while(is_token68_char);
        if !body.is_empty() {
            self.take_while(|b| b == b'=');
            let end = self.pos;
            self.skip_ws();
            if self.at_element_end() {
                return Some(self.s.get(start..end).unwrap_or_default().to_owned());
            }
        }
        self.pos = start;
        None
    }

    /// `name BWS "=" BWS value` at the cursor, then OWS. `None` (cursor
    /// anywhere inside the element) when it is malformed.
    fn auth_param(&mut self) -> Option<(String, String)> {
        let name = self.token();
        if name.is_empty() {
            return None;
        }
        self.skip_ws();
        if self.peek() != Some(b'=') {
            return None;
        }
        self.pos += 1;
        self.skip_ws();
        let value = self.value()?;
        Some((name.to_ascii_lowercase(), value))
    }
}

/// Parses a whole `WWW-Authenticate` value: several challenges separated by
/// commas, whose params are comma-separated too. As in RFC 9110, a list
/// element that is `token BWS "="` continues the current challenge's params,
/// and any other element starting with a token starts a new challenge.
/// Tolerant: malformed pieces are skipped, empty list elements are allowed,
/// it never panics.
pub fn parse_www_authenticate(header: &str) -> Vec<Challenge> {
    let mut out = Vec::new();
    // `None` also after a malformed scheme, so its params are dropped rather
    // than attached to the challenge before it.
    let mut current: Option<Challenge> = None;
    let mut c = Cursor { s: header, pos: 0 };

    loop {
        // OWS and empty list elements (`a, , b`).
        while c.peek().is_some_and(|b| is_ws(b) || b == b',') {
            c.pos += 1;
        }
        if c.peek().is_none() {
            break;
        }

        let element_start = c.pos;
        let tok = c.token();
        if tok.is_empty() {
            c.skip_element();
            continue;
        }
        let had_ws = c.skip_ws();

        if c.peek() == Some(b'=') {
            // An auth-param of the current challenge.
            c.pos = element_start;
            let param = c.auth_param();
            match (param, current.as_mut()) {
                // A challenge in token68 form has no params (RFC 9110 §11.3).
                (Some(p), Some(ch)) if ch.token68.is_none() => ch.params.push(p),
                _ => {}
            }
            c.skip_ws();
            c.skip_element();
            continue;
        }

        // A new challenge.
        if let Some(done) = current.take() {
            out.push(done);
        }
        if !had_ws && !c.at_element_end() {
            // Something like `Bearer"x"` or `Bearer/x`: not a scheme.
            c.skip_element();
            continue;
        }
        let mut ch = Challenge {
            scheme: tok.to_owned(),
            token68: None,
            params: Vec::new(),
        };
        if !c.at_element_end() {
            if let Some(t68) = c.token68() {
                ch.token68 = Some(t68);
            } else {
                // After `scheme 1*SP`, the only other form is an auth-param.
                if let Some(p) = c.auth_param() {
                    ch.params.push(p);
                }
                c.skip_ws();
                c.skip_element();
            }
        }
        current = Some(ch);
    }
    if let Some(done) = current {
        out.push(done);
    }
    out
}

/// The parameters of a `Bearer` challenge (RFC 6750 §3, RFC 9728 §5.1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BearerChallenge {
    pub error: Option<String>,
    pub error_description: Option<String>,
    pub error_uri: Option<String>,
    /// Split on ASCII whitespace, deduplicated, first-seen order.
    pub scope: Vec<String>,
    /// Only when an absolute http(s) URL (P-1); anything else is ignored.
    pub resource_metadata: Option<String>,
}

/// Whether `s` is an absolute `http://` or `https://` URL with a non-empty
/// host and no whitespace or control characters. A relative or garbage value
/// must be ignored (P-1) rather than resolved against the server URL, since
/// P-3 then fetches exactly that URL.
fn is_absolute_http_url(s: &str) -> bool {
    endpoint::parse(s, Source::Server("resource_metadata"))
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty()))
}

/// The first challenge whose scheme is `Bearer` (case-insensitive), read into
/// a [`BearerChallenge`]; `None` when there is none.
pub fn bearer_challenge(header: &str) -> Option<BearerChallenge> {
    scheme_challenge(header, "Bearer")
}

/// The challenge a resource request is answered with: `Bearer`'s, else
/// `DPoP`'s (P-38: a server that took a DPoP-bound token challenges in that
/// scheme, with the same parameters, RFC 9449 §7.1).
pub fn auth_challenge(header: &str) -> Option<BearerChallenge> {
    bearer_challenge(header).or_else(|| scheme_challenge(header, "DPoP"))
}

fn scheme_challenge(header: &str, scheme: &str) -> Option<BearerChallenge> {
    let all = parse_www_authenticate(header);
    let ch = all.iter().find(|c| c.is_scheme(scheme))?;
    let owned = |name: &str| ch.param(name).map(str::to_owned);
    Some(BearerChallenge {
        error: owned("error"),
        error_description: owned("error_description"),
        error_uri: owned("error_uri"),
        scope: ch.param("scope").map(scope::split).unwrap_or_default(),
        resource_metadata: ch
            .param("resource_metadata")
            .filter(|u| is_absolute_http_url(u))
            .map(str::to_owned),
    })
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(name: &str, value: &str) -> (String, String) {
        (name.to_owned(), value.to_owned())
    }

    fn strings(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| (*x).to_owned()).collect()
    }

    #[test]
    fn p1_parses_two_challenges_in_one_header() {
        let got =
            parse_www_authenticate(r#"Basic realm="x", Bearer error="insufficient_scope", scope="a b""#);
        assert_eq!(
            got,
            vec![
                Challenge {
                    scheme: "Basic".into(),
                    token68: None,
                    params: vec![p("realm", "x")],
                },
                Challenge {
                    scheme: "Bearer".into(),
                    token68: None,
                    params: vec![p("error", "insufficient_scope"), p("scope", "a b")],
                },
            ]
        );
    }

    #[test]
    fn p1_bearer_found_when_not_first() {
        let b =
            bearer_challenge(r#"Basic realm="x", Bearer error="insufficient_scope", scope="a b""#).unwrap();
        assert_eq!(b.error.as_deref(), Some("insufficient_scope"));
        assert_eq!(b.scope, strings(&["a", "b"]));
    }

    #[test]
    fn p1_scheme_and_param_names_are_case_insensitive() {
        let b = bearer_challenge(r#"bEaReR SCOPE="x""#).unwrap();
        assert_eq!(b.scope, strings(&["x"]));
    }

    #[test]
    fn p1_param_names_are_lowercased() {
        let got = parse_www_authenticate(r#"Bearer Error_Description="d""#);
        assert_eq!(got[0].params, vec![p("error_description", "d")]);
        assert_eq!(got[0].param("ERROR_description"), Some("d"));
    }

    #[test]
    fn p1_scheme_kept_as_written() {
        let got = parse_www_authenticate("bEaReR");
        assert_eq!(got[0].scheme, "bEaReR");
        assert!(got[0].is_scheme("Bearer"));
        assert!(!got[0].is_scheme("Basic"));
    }

    #[test]
    fn p1_quoted_string_escapes_are_resolved() {
        let b = bearer_challenge(r#"Bearer error_description="say \"hi\" \\ \o""#).unwrap();
        assert_eq!(b.error_description.as_deref(), Some(r#"say "hi" \ o"#));
    }

    #[test]
    fn p1_comma_inside_quoted_string_stays_in_value() {
        let got = parse_www_authenticate(r#"Bearer error_description="a, b=c, Basic x", scope="s""#);
        assert_eq!(got.len(), 1);
        assert_eq!(
            got[0].params,
            vec![p("error_description", "a, b=c, Basic x"), p("scope", "s")]
        );
    }

    #[test]
    fn p1_token_values_are_read_unquoted() {
        let b = bearer_challenge("Bearer error=invalid_token, scope=read").unwrap();
        assert_eq!(b.error.as_deref(), Some("invalid_token"));
        assert_eq!(b.scope, strings(&["read"]));
    }

    #[test]
    fn p1_unquoted_url_value_is_accepted() {
        let b = bearer_challenge("Bearer resource_metadata=https://h/.well-known/x").unwrap();
        assert_eq!(b.resource_metadata.as_deref(), Some("https://h/.well-known/x"));
    }

    #[test]
    fn p1_whitespace_around_equals_is_allowed() {
        let b = bearer_challenge("Bearer   scope = \"a\" ,\terror\t=\tx  ").unwrap();
        assert_eq!(b.scope, strings(&["a"]));
        assert_eq!(b.error.as_deref(), Some("x"));
    }

    #[test]
    fn p1_empty_list_elements_are_skipped() {
        let got = parse_www_authenticate(r#" , Basic realm="x", , ,Bearer scope="a",, error=e ,"#);
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].params, vec![p("scope", "a"), p("error", "e")]);
    }

    #[test]
    fn p1_empty_scope_gives_no_scopes() {
        let b = bearer_challenge(r#"Bearer scope="""#).unwrap();
        assert!(b.scope.is_empty());
        let b = bearer_challenge(r#"Bearer scope="   ""#).unwrap();
        assert!(b.scope.is_empty());
    }

    #[test]
    fn p1_absent_scope_gives_no_scopes() {
        let b = bearer_challenge(r#"Bearer error="invalid_token""#).unwrap();
        assert!(b.scope.is_empty());
    }

    #[test]
    fn p1_duplicated_scopes_are_deduped_in_first_seen_order() {
        let b = bearer_challenge(r#"Bearer scope="b a  b c a""#).unwrap();
        assert_eq!(b.scope, strings(&["b", "a", "c"]));
    }

    #[test]
    fn p1_absolute_resource_metadata_is_kept() {
        let b = bearer_challenge(
            r#"Bearer resource_metadata="HTTPS://as.example/.well-known/oauth-protected-resource/mcp""#,
        )
        .unwrap();
        assert_eq!(
            b.resource_metadata.as_deref(),
            Some("HTTPS://as.example/.well-known/oauth-protected-resource/mcp")
        );
        let b = bearer_challenge(r#"Bearer resource_metadata="http://127.0.0.1:8080""#).unwrap();
        assert_eq!(b.resource_metadata.as_deref(), Some("http://127.0.0.1:8080"));
    }

    #[test]
    fn p1_relative_or_garbage_resource_metadata_is_ignored() {
        for bad in [
            "/.well-known/oauth-protected-resource",
            "well-known",
            "",
            "ftp://h/x",
            "https://",
            "https:///path",
            "https://:443/x",
            "https://user@/x",
            "https://h/a b",
            "https:h/x",
            "javascript:alert(1)",
        ] {
            let header = format!(r#"Bearer resource_metadata="{bad}""#);
            let b = bearer_challenge(&header).unwrap();
            assert_eq!(b.resource_metadata, None, "{bad:?} must be ignored");
        }
    }

    #[test]
    fn p1_scope_inside_another_quoted_value_is_not_the_scope() {
        let b = bearer_challenge(r#"Bearer error_description="need scope=admin", scope="read""#).unwrap();
        assert_eq!(b.scope, strings(&["read"]));
        let b = bearer_challenge(r#"Bearer error_description="scope=\"admin\"""#).unwrap();
        assert!(b.scope.is_empty());
    }

    #[test]
    fn p1_scope_of_another_challenge_is_not_the_bearer_scope() {
        let b = bearer_challenge(r#"Other scope="admin", Bearer error="e""#).unwrap();
        assert!(b.scope.is_empty());
    }

    #[test]
    fn p1_unterminated_quote_is_tolerated() {
        let b = bearer_challenge(r#"Bearer error="invalid_token", scope="a b"#).unwrap();
        assert_eq!(b.error.as_deref(), Some("invalid_token"));
        assert_eq!(b.scope, strings(&["a", "b"]));
    }

    #[test]
    fn p1_trailing_backslash_in_unterminated_quote_is_tolerated() {
        let got = parse_www_authenticate("Bearer scope=\"a\\");
        assert_eq!(got[0].params, vec![p("scope", "a")]);
    }

    #[test]
    fn p1_header_with_only_a_scheme() {
        let got = parse_www_authenticate("Bearer");
        assert_eq!(
            got,
            vec![Challenge {
                scheme: "Bearer".into(),
                token68: None,
                params: vec![],
            }]
        );
        assert_eq!(bearer_challenge("Bearer"), Some(BearerChallenge::default()));
    }

    #[test]
    fn p1_token68_form_is_parsed() {
        let got = parse_www_authenticate("Basic dXNlcjpwYXNz==, Bearer scope=x");
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].token68.as_deref(), Some("dXNlcjpwYXNz=="));
        assert!(got[0].params.is_empty());
        assert_eq!(got[1].params, vec![p("scope", "x")]);
    }

    #[test]
    fn p1_params_after_token68_are_dropped() {
        let got = parse_www_authenticate("Basic abc=, realm=x");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].token68.as_deref(), Some("abc="));
        assert!(got[0].params.is_empty());
    }

    #[test]
    fn p1_no_bearer_challenge_gives_none() {
        assert_eq!(bearer_challenge(r#"Basic realm="x""#), None);
        assert_eq!(bearer_challenge(""), None);
        assert_eq!(bearer_challenge(" , ,"), None);
    }

    #[test]
    fn p1_first_bearer_challenge_wins() {
        let b = bearer_challenge(r#"Bearer scope="a", Bearer scope="b""#).unwrap();
        assert_eq!(b.scope, strings(&["a"]));
    }

    #[test]
    fn p1_first_occurrence_of_repeated_param_wins() {
        let b = bearer_challenge(r#"Bearer scope="a", SCOPE="b""#).unwrap();
        assert_eq!(b.scope, strings(&["a"]));
    }

    #[test]
    fn p1_malformed_pieces_are_skipped() {
        let got = parse_www_authenticate(
            r#"=junk, Bearer/x y=z, Basic realm="r" trailing, "q,uoted", Bearer scope="s", @=1, error=e"#,
        );
        let schemes: Vec<&str> = got.iter().map(|c| c.scheme.as_str()).collect();
        assert_eq!(schemes, ["Basic", "Bearer"]);
        assert_eq!(got[0].params, vec![p("realm", "r")]);
        assert_eq!(got[1].params, vec![p("scope", "s"), p("error", "e")]);
    }

    #[test]
    fn p1_non_ascii_in_values_is_kept() {
        let b = bearer_challenge("Bearer error_description=\"é\\ü ✓\", scope=ñ").unwrap();
        assert_eq!(b.error_description.as_deref(), Some("éü ✓"));
        assert_eq!(b.scope, strings(&["ñ"]));
    }

    #[test]
    fn p1_all_bearer_fields_are_read() {
        let b = bearer_challenge(
            r#"Bearer error="insufficient_scope", error_description="more", error_uri="https://e/doc", scope="a", resource_metadata="https://r/.well-known/oauth-protected-resource""#,
        )
        .unwrap();
        assert_eq!(
            b,
            BearerChallenge {
                error: Some("insufficient_scope".into()),
                error_description: Some("more".into()),
                error_uri: Some("https://e/doc".into()),
                scope: strings(&["a"]),
                resource_metadata: Some("https://r/.well-known/oauth-protected-resource".into()),
            }
        );
    }

    /// The RFC 9110 wire form of a value: quoted, with `"` and `\` escaped.
    fn quote(v: &str) -> String {
        let mut out = String::from("\"");
        for c in v.chars() {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
        out
    }

    fn token() -> impl Strategy<Value = String> {
        "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,8}"
    }

    /// P-32: a challenge naming 40,000 scopes is read in linear time.
    #[test]
    fn p32_challenge_with_forty_thousand_scopes_is_read_at_once() {
        let started = std::time::Instant::now();
        let names: Vec<String> = (0..40_000).map(|i| format!("scope:{i}")).collect();
        let header = format!(
            r#"Bearer error="insufficient_scope", scope="{}""#,
            names.join(" ")
        );
        let c = bearer_challenge(&header).expect("bearer");
        assert_eq!(c.scope, names);
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    proptest! {
        #[test]
        fn p1_prop_never_panics_on_arbitrary_strings(s in any::<String>()) {
            let _ = parse_www_authenticate(&s);
            let _ = bearer_challenge(&s);
        }

        #[test]
        fn p1_prop_never_panics_on_grammar_like_strings(s in "[ \t,=\"\\\\a-zB/é]{0,40}") {
            let _ = parse_www_authenticate(&s);
            let _ = bearer_challenge(&s);
        }

        #[test]
        fn p1_prop_format_then_parse_round_trips(
            challenges in prop::collection::vec(
                (token(), prop::collection::vec((token(), any::<String>()), 0..4)),
                1..4,
            ),
            spacing in "[ \t]{0,2}",
        ) {
            let header = challenges
                .iter()
                .map(|(scheme, params)| {
                    let params: Vec<String> = params
                        .iter()
                        .map(|(n, v)| format!("{n}{spacing}={spacing}{}", quote(v)))
                        .collect();
                    if params.is_empty() {
                        scheme.clone()
                    } else {
                        format!("{scheme} {}", params.join(&format!("{spacing},{spacing}")))
                    }
                })
                .collect::<Vec<_>>()
                .join(&format!("{spacing},{spacing}"));
            let expected: Vec<Challenge> = challenges
                .iter()
                .map(|(scheme, params)| Challenge {
                    scheme: scheme.clone(),
                    token68: None,
                    params: params
                        .iter()
                        .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
                        .collect(),
                })
                .collect();
            prop_assert_eq!(parse_www_authenticate(&header), expected, "header: {:?}", header);
        }
    }
}
