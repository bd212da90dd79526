//! PKCE S256 and `state` from caller-supplied random bytes (P-16).
//!
//! The randomness comes in as data (the web adapter fills it from
//! `crypto.getRandomValues`), so tests can pin it.

use crate::core::encoding::{base64url_nopad, sha256};
use crate::core::secret::Secret;

/// Bytes of randomness a new authorization needs: 32 for the verifier, 32 for `state`.
pub const RANDOM_BYTES: usize = 64;

/// The verifier: base64url of 32 random bytes (43 characters).
pub fn verifier(random: &[u8; 32]) -> Secret {
    Secret::new(base64url_nopad(random))
}

/// The S256 challenge: base64url(SHA-256(verifier)).
pub fn challenge(verifier: &Secret) -> String {
    base64url_nopad(&sha256(verifier.expose().as_bytes()))
}

/// `state`: 256 random bits, base64url (P-16 asks for at least 128).
pub fn state(random: &[u8; 32]) -> String {
    base64url_nopad(random)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn p16_challenge_matches_rfc7636_appendix_b() {
        let v = Secret::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        assert_eq!(challenge(&v), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn p16_verifier_is_43_base64url_chars_from_32_bytes() {
        let v = verifier(&[0xff; 32]);
        assert_eq!(v.expose().len(), 43);
        assert!(v
            .expose()
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    }

    #[test]
    fn p16_state_carries_at_least_128_bits() {
        let s = state(&[7; 32]);
        assert!(s.len() * 6 >= 128);
        assert_ne!(state(&[1; 32]), state(&[2; 32]));
    }
}
