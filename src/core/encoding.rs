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
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        // A chunk of k bytes yields k + 1 significant sextets.
        for i in 0..4 {
            if i <= chunk.len() {
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

/// SHA-256 round constants (FIPS 180-4 §4.2.2).
const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

/// SHA-256 (FIPS 180-4), for the PKCE S256 challenge: a verifier is 43
/// bytes, so speed is irrelevant and this replaces the `sha2` crate and its
/// digest plumbing (some 4 KB of wasm).
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
    ];
    let mut blocks = data.chunks_exact(64);
    for block in blocks.by_ref() {
        sha256_block(&mut h, block);
    }
    // The padding: the remainder, 0x80, zeros, the bit length (one or two blocks).
    let rest = blocks.remainder();
    let mut tail = [0u8; 128];
    let len = if rest.len() < 56 { 64 } else { 128 };
    for (t, b) in tail.iter_mut().zip(rest.iter().chain([&0x80])) {
        *t = *b;
    }
    let bits = (data.len() as u64).wrapping_mul(8).to_be_bytes();
    for (t, b) in tail.iter_mut().skip(len - 8).zip(bits) {
        *t = b;
    }
    for block in tail.chunks_exact(64).take(len / 64) {
        sha256_block(&mut h, block);
    }
    let mut out = [0u8; 32];
    for (o, word) in out.chunks_exact_mut(4).zip(h) {
        o.copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// One 64-byte block of the compression function (FIPS 180-4 §6.2.2).
fn sha256_block(h: &mut [u32; 8], block: &[u8]) {
    let mut w = [0u32; 64];
    for (w, c) in w.iter_mut().zip(block.chunks_exact(4)) {
        *w = c.iter().fold(0, |acc, &b| acc << 8 | u32::from(b));
    }
    for i in 16..64 {
        // Masked indexes: provably in bounds, so no panic paths.
        let (a, b) = (w[(i - 15) & 63], w[(i - 2) & 63]);
        let s0 = a.rotate_right(7) ^ a.rotate_right(18) ^ (a >> 3);
        let s1 = b.rotate_right(17) ^ b.rotate_right(19) ^ (b >> 10);
        w[i & 63] = w[(i - 16) & 63]
            .wrapping_add(s0)
            .wrapping_add(w[(i - 7) & 63])
            .wrapping_add(s1);
    }
    let mut v = *h;
    for (k, w) in K.iter().zip(w) {
        let [a, b, c, d, e, f, g, hh] = v;
        let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
        let ch = (e & f) ^ (!e & g);
        let t1 = hh
            .wrapping_add(s1)
            .wrapping_add(ch)
            .wrapping_add(*k)
            .wrapping_add(w);
        let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
        let maj = (a & b) ^ (a & c) ^ (b & c);
        v = [
            t1.wrapping_add(s0.wrapping_add(maj)),
            a,
            b,
            c,
            d.wrapping_add(t1),
            e,
            f,
            g,
        ];
    }
    for (x, y) in h.iter_mut().zip(v) {
        *x = x.wrapping_add(y);
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    // FIPS 180-4 examples (via NIST's CSRC example values) and the empty message.
    #[test]
    fn sha256_known_answers() {
        let cases: [(&[u8], &str); 4] = [
            (b"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            (b"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            (
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
            ),
            (
                b"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
                "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(hex(&sha256(input)), want);
        }
        assert_eq!(
            hex(&sha256(&vec![b'a'; 1_000_000])),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        );
    }

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
        fn sha256_matches_the_sha2_crate(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            use sha2::Digest;
            prop_assert_eq!(sha256(&bytes), <[u8; 32]>::from(sha2::Sha256::digest(&bytes)));
        }

        #[test]
        fn base64_lengths_are_consistent(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            prop_assert_eq!(base64_std(&bytes).len(), bytes.len().div_ceil(3) * 4);
            prop_assert_eq!(base64url_nopad(&bytes).len(), (bytes.len() * 4).div_ceil(3));
        }
    }
}
