//! Base64, the one byte encoding the flow needs that the `url` crate does
//! not give: URL-safe without padding for PKCE and `state` (RFC 7636), standard
//! with padding for HTTP Basic credentials (RFC 7617).

const STD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// RFC 4648 base64: three bytes become four characters; a final chunk of
/// k bytes becomes k + 1 characters, then `=` padding if asked for.
fn base64(bytes: &[u8], alphabet: &[u8; 64], pad: bool) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .chain(std::iter::repeat(&0))
            .take(3)
            .fold(0u32, |n, &b| (n << 8) | u32::from(b));
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

    proptest! {
        #[test]
        fn base64_lengths_are_consistent(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            prop_assert_eq!(base64_std(&bytes).len(), bytes.len().div_ceil(3) * 4);
            prop_assert_eq!(base64url_nopad(&bytes).len(), (bytes.len() * 4).div_ceil(3));
        }
    }
}
