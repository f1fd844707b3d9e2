//! Random secrets (codes, tokens, CSRF tokens, client secrets), the SHA-256 form in which they
//! are stored, and constant-time comparison. Shared by every protocol and by `sso`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// A fresh random value of 256 bits, base64url: codes, tokens, secrets, CSRF tokens.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// SHA-256 hex of a random token: the only form in which codes and tokens are stored.
pub fn token_hash(token: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(token.as_bytes());
    let mut hex = String::with_capacity(64);
    for b in digest.iter() {
        hex.push(char::from(HEX[usize::from(b >> 4)]));
        hex.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    hex
}

/// The letters activation codes use: no 0/O, 1/I/L, so a code read off paper is typed right.
const ACTIVATION_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

/// An activation code like `K7Q2-9XW4-M3HT` (12 letters of 31: about 59 bits), for paper.
pub fn activation_code() -> String {
    let limit = 256 - (256 % ACTIVATION_ALPHABET.len());
    let mut letters = Vec::with_capacity(12);
    while letters.len() < 12 {
        let mut byte = [0u8; 1];
        rand::fill(&mut byte);
        // Rejection sampling keeps every letter equally likely.
        if usize::from(byte[0]) < limit {
            letters.push(char::from(ACTIVATION_ALPHABET[usize::from(byte[0]) % ACTIVATION_ALPHABET.len()]));
        }
    }
    letters.chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join("-")
}

/// The stored form of an activation code as typed: case, spaces and dashes do not matter.
pub fn activation_code_hash(typed: &str) -> String {
    let normal: String = typed.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect();
    token_hash(&format!("activation:{normal}"))
}

/// Constant-time equality for secrets.
pub fn secure_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_hash_is_lowercase_hex_sha256() {
        assert_eq!(token_hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}

#[cfg(test)]
mod activation_tests {
    use super::*;

    #[test]
    fn activation_codes_read_off_paper_are_typed_right() {
        let code = activation_code();
        assert_eq!(code.len(), 14, "{code}");
        assert!(code.chars().all(|c| c == '-' || ACTIVATION_ALPHABET.contains(&(c as u8))), "{code}");
        assert_ne!(code, activation_code());
        let typed = code.to_lowercase().replace('-', " ");
        assert_eq!(activation_code_hash(&typed), activation_code_hash(&code));
        assert_ne!(activation_code_hash("AAAA-AAAA-AAAA"), activation_code_hash(&code));
    }
}
