//! Byte encodings the OAuth flow needs: base64 (URL-safe for PKCE and state,
//! standard for HTTP Basic), application/x-www-form-urlencoded, and the
//! SHA-256 of PKCE S256, written by hand so the wasm build carries no
//! encoding or digest crates.

const STD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Shared base64 core: the two variants differ only in alphabet and padding.
fn base64(bytes: &[u8], alphabet: &[u8; 64], pad: bool) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    // Three bytes at a time, by index (`chunks` links a slice splitter).
    let byte = |i: usize| u32::from(bytes.get(i).copied().unwrap_or(0));
    let mut at = 0;
    while at < bytes.len() {
        let len = (bytes.len() - at).min(3);
        let n = (byte(at) << 16) | (byte(at + 1) << 8) | byte(at + 2);
        at += 3;
        // A chunk of k bytes yields k + 1 significant sextets.
        for i in 0..4 {
            if i <= len {
                out.push(char::from(alphabet[((n >> (18 - 6 * i)) & 63) as usize]));
            } else if pad {
                out.push('=');
            }
        }
    }
    out
}

/// RFC 4648 §5 base64url without padding, as PKCE (RFC 7636) and state use.
pub fn base64url_nopad(bytes: &[u8]) -> String {
    base64(bytes, URL, false)
}

/// RFC 4648 §4 base64 with padding, as HTTP Basic credentials use.
pub fn base64_std(bytes: &[u8]) -> String {
    base64(bytes, STD, true)
}

/// WHATWG urlencoded byte serializer for one name or value.
pub fn form_urlencode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => out.push(char::from(b)),
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 15)]));
            }
        }
    }
    out
}

/// Serializes pairs as `k=v&k=v`, each side encoded as a form component.
pub fn form_urlencode(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(&form_urlencode_component(k));
        out.push('=');
        out.push_str(&form_urlencode_component(v));
    }
    out
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-decodes one form component; bytes are gathered first so that
/// multi-byte UTF-8 split across escapes decodes correctly.
fn decode_component(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = bytes.get(i + 1).copied().and_then(hex_val);
                let lo = bytes.get(i + 2).copied().and_then(hex_val);
                if let (Some(hi), Some(lo)) = (hi, lo) {
                    out.push((hi << 4) | lo);
                    i += 3;
                    continue;
                }
                // Malformed escapes stay literal, as in the WHATWG parser.
                out.push(b'%');
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// WHATWG urlencoded parser: accepts a query (optionally with its leading
/// `?`) or a form body and returns the decoded pairs in order.
pub fn form_urldecode(s: &str) -> Vec<(String, String)> {
    let s = s.strip_prefix('?').unwrap_or(s);
    s.split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (k, v) = piece.split_once('=').unwrap_or((piece, ""));
            (decode_component(k), decode_component(v))
        })
        .collect()
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const VECTORS: [(&str, &str); 7] = [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ];

    #[test]
    fn base64_std_matches_rfc4648_vectors() {
        for (input, expected) in VECTORS {
            assert_eq!(base64_std(input.as_bytes()), expected);
        }
    }

    #[test]
    fn base64url_matches_rfc4648_vectors_without_padding() {
        for (input, expected) in VECTORS {
            assert_eq!(base64url_nopad(input.as_bytes()), expected.trim_end_matches('='));
        }
    }

    #[test]
    fn base64_variants_differ_in_alphabet() {
        assert_eq!(base64_std(&[0xfb, 0xff, 0xbf]), "+/+/");
        assert_eq!(base64url_nopad(&[0xfb, 0xff, 0xbf]), "-_-_");
    }

    #[test]
    fn base64url_encodes_rfc7636_appendix_b_verifier() {
        let bytes = [
            116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37, 77, 105,
            214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
        ];
        assert_eq!(
            base64url_nopad(&bytes),
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
        );
    }

    #[test]
    fn form_component_keeps_unreserved_and_escapes_rest() {
        assert_eq!(form_urlencode_component("aZ09*-._"), "aZ09*-._");
        assert_eq!(form_urlencode_component("a b~/:"), "a+b%7E%2F%3A");
    }

    #[test]
    fn form_component_escapes_utf8_bytes_uppercase() {
        assert_eq!(form_urlencode_component("é"), "%C3%A9");
    }

    #[test]
    fn form_urlencode_joins_pairs() {
        assert_eq!(
            form_urlencode(&[("a", "1"), ("b c", "x&y=z")]),
            "a=1&b+c=x%26y%3Dz"
        );
        assert_eq!(form_urlencode(&[]), "");
    }

    #[test]
    fn form_decode_treats_plus_and_percent20_as_space() {
        assert_eq!(
            form_urldecode("a+b=c%20d"),
            vec![("a b".to_string(), "c d".to_string())]
        );
    }

    #[test]
    fn form_decode_strips_leading_question_mark_and_skips_empty_pieces() {
        assert_eq!(
            form_urldecode("?&a=1&&b&c=&=d"),
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "".into()),
                ("c".into(), "".into()),
                ("".into(), "d".into()),
            ]
        );
    }

    #[test]
    fn form_decode_splits_on_first_equals_only() {
        assert_eq!(
            form_urldecode("k=a=b"),
            vec![("k".to_string(), "a=b".to_string())]
        );
    }

    #[test]
    fn form_decode_keeps_malformed_percent_literally() {
        assert_eq!(
            form_urldecode("a=%zz%4&b=%"),
            vec![
                ("a".to_string(), "%zz%4".to_string()),
                ("b".to_string(), "%".to_string())
            ]
        );
    }

    #[test]
    fn form_decode_handles_unicode() {
        assert_eq!(
            form_urldecode("n=%E2%9C%93&r=\u{e9}"),
            vec![
                ("n".to_string(), "\u{2713}".to_string()),
                ("r".to_string(), "\u{e9}".to_string())
            ]
        );
    }

    #[test]
    fn form_decode_replaces_invalid_utf8() {
        assert_eq!(
            form_urldecode("x=%FF"),
            vec![("x".to_string(), "\u{fffd}".to_string())]
        );
    }

    proptest! {
        #[test]
        fn form_round_trips(pairs in proptest::collection::vec((".*", ".*"), 0..6)) {
            let refs: Vec<(&str, &str)> =
                pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            // Empty pairs ("=") survive the round trip; only empty pieces are skipped.
            prop_assert_eq!(form_urldecode(&form_urlencode(&refs)), pairs);
        }

        #[test]
        fn form_decode_never_panics(s in ".*") {
            let _ = form_urldecode(&s);
        }

        #[test]
        fn base64_lengths_are_consistent(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            prop_assert_eq!(base64_std(&bytes).len(), bytes.len().div_ceil(3) * 4);
            prop_assert_eq!(base64url_nopad(&bytes).len(), (bytes.len() * 4).div_ceil(3));
        }
    }
}
