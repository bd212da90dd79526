//! PKCE S256 and `state` from caller-supplied random bytes (P-16).
//!
//! The randomness and the SHA-256 digest come in as data (the web adapter
//! takes them from `crypto.getRandomValues` and `crypto.subtle.digest`), so
//! tests can pin them and the wasm carries no hash function.

use crate::core::encoding::base64url_nopad;
use crate::core::secret::Secret;

/// Bytes of randomness a new authorization needs: 32 for the verifier, 32 for `state`.
pub const RANDOM_BYTES: usize = 64;

/// One authorization's secrets: the verifier, its S256 challenge, `state`.
pub struct Pkce {
    pub verifier: Secret,
    pub challenge: String,
    pub state: String,
}

/// The verifier (base64url of bytes 0..32, 43 characters) and `state`
/// (base64url of bytes 32..64: 256 random bits, P-16 asks for at least 128).
pub fn verifier_and_state(random: &[u8; RANDOM_BYTES]) -> (Secret, String) {
    let (v, s) = random.split_at(32);
    (Secret::new(base64url_nopad(v)), base64url_nopad(s))
}

/// The S256 challenge from SHA-256(verifier): base64url, no padding.
pub fn challenge(sha256_of_verifier: &[u8; 32]) -> String {
    base64url_nopad(sha256_of_verifier)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::core::testing::sha256;

    #[test]
    fn p16_challenge_matches_rfc7636_appendix_b() {
        let v = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(
            challenge(&sha256(v)),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn p16_verifier_is_43_base64url_chars_from_32_bytes() {
        let (v, _) = verifier_and_state(&[0xff; RANDOM_BYTES]);
        assert_eq!(v.expose().len(), 43);
        assert!(v
            .expose()
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    }

    #[test]
    fn p16_state_carries_at_least_128_bits() {
        let (_, s) = verifier_and_state(&[7; RANDOM_BYTES]);
        assert!(s.len() * 6 >= 128);
        let mut other = [7; RANDOM_BYTES];
        other[40] = 8;
        assert_ne!(verifier_and_state(&other).1, s);
    }

    #[test]
    fn p16_verifier_and_state_come_from_different_bytes() {
        let mut r = [0u8; RANDOM_BYTES];
        r[32..].fill(1);
        let (v, s) = verifier_and_state(&r);
        assert_ne!(v.expose(), s);
    }
}
