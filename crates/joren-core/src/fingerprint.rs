//! The fingerprint of a request's content: what tells a retry of the same order (answered with
//! the first result) from another order sent under the same key or order number (a conflict).

use sha2::Digest;

/// The first 16 bytes of the SHA-256 of a request's JSON: 128 bits, so two different requests
/// under one key collide with odds of 2⁻¹²⁸, stored in 16 bytes instead of 64 hex digits (a
/// million imported orders write 48 MB less).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 16]);

impl Fingerprint {
    /// The fingerprint of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        let digest = sha2::Sha256::digest(bytes);
        let mut out = [0; 16];
        out.copy_from_slice(&digest[..16]);
        Self(out)
    }

    /// The fingerprint of `value` written as JSON (its fields in declaration order).
    pub fn of_json(value: &impl serde::Serialize) -> Self {
        Self::of(&serde_json::to_vec(value).unwrap_or_default())
    }

    /// A fingerprint as stored (`None` unless exactly 16 bytes).
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Self)
    }

    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// 32 lower-case hex digits (for the text columns of idempotency records).
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl std::fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Fingerprint({})", self.to_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fingerprint_is_the_first_half_of_the_sha256() {
        // SHA-256("abc") = ba7816bf8f01cfea414140de5dae2223 b00361a396177a9cb410ff61f20015ad
        let f = Fingerprint::of(b"abc");
        assert_eq!(f.to_hex(), "ba7816bf8f01cfea414140de5dae2223");
        assert_eq!(Fingerprint::from_slice(f.as_bytes()), Some(f));
        assert_eq!(Fingerprint::from_slice(&[0; 15]), None);
        assert_ne!(Fingerprint::of_json(&("a", 1)), Fingerprint::of_json(&("a", 2)));
    }
}
