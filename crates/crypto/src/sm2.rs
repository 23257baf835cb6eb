//! SM2 digital signatures (GB/T 32918.2-2016) over the recommended curve `sm2p256v1`.
//!
//! A signature covers `Z_A || message` hashed with SM3, where `Z_A` binds the signer's
//! distinguishing identifier and public key; [`DEFAULT_ID`] is the identifier GB/T 35276
//! prescribes when none is agreed. Signing uses deterministic nonces (RFC 6979 with SM3), so no
//! random number generator is involved after key generation. Signatures are 64 bytes, `r || s`.

use sm2::dsa::signature::{Signer, Verifier};

use crate::{errformat, Error, Result};

/// The distinguishing identifier used when none is agreed (GB/T 35276-2017).
pub const DEFAULT_ID: &str = "1234567812345678";

/// Length of a signature (`r || s`).
pub const SIGNATURE_LEN: usize = 64;

/// A private signing key.
pub struct SigningKey {
    key: sm2::dsa::SigningKey,
}

impl SigningKey {
    /// A fresh key from the operating system's random number generator.
    pub fn generate() -> Self {
        loop {
            let mut secret = [0u8; 32];
            crate::random_bytes(&mut secret);
            // Rejects zero and values at or above the group order (probability about 2^-32).
            if let Ok(key) = sm2::dsa::SigningKey::from_slice(DEFAULT_ID, &secret) {
                zeroize::Zeroize::zeroize(&mut secret);
                return Self { key };
            }
        }
    }

    /// The key whose secret scalar is the 32 big-endian bytes `secret`, signing as `id`.
    pub fn from_bytes(id: &str, secret: &[u8]) -> Result<Self> {
        sm2::dsa::SigningKey::from_slice(id, secret)
            .map(|key| Self { key })
            .map_err(|_| errformat!("not an SM2 private key"))
    }

    /// The secret scalar, 32 bytes big-endian (for sealed storage only).
    pub fn to_bytes(&self) -> [u8; 32] {
        self.key.to_bytes().into()
    }

    /// Signs `message`.
    pub fn sign(&self, message: &[u8]) -> [u8; SIGNATURE_LEN] {
        let signature: sm2::dsa::Signature = self.key.sign(message);
        signature.to_bytes().into()
    }

    /// The matching public key.
    pub fn verifying_key(&self) -> VerifyingKey {
        VerifyingKey {
            key: self.key.verifying_key().clone(),
        }
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(..)")
    }
}

/// A public key that checks signatures.
#[derive(Clone, Debug)]
pub struct VerifyingKey {
    key: sm2::dsa::VerifyingKey,
}

impl VerifyingKey {
    /// The key from its SEC1 encoding (`04 || x || y`, or compressed), for signer `id`.
    pub fn from_sec1(id: &str, bytes: &[u8]) -> Result<Self> {
        sm2::dsa::VerifyingKey::from_sec1_bytes(id, bytes)
            .map(|key| Self { key })
            .map_err(|_| errformat!("not an SM2 public key"))
    }

    /// The uncompressed SEC1 encoding, `04 || x || y`.
    pub fn to_sec1(&self) -> Vec<u8> {
        self.key.to_sec1_bytes().into_vec()
    }

    /// Checks `signature` (`r || s`) over `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<()> {
        let signature = sm2::dsa::Signature::from_slice(signature)
            .map_err(|_| Error::Authentication("malformed SM2 signature".into()))?;
        self.key
            .verify(message, &signature)
            .map_err(|_| Error::Authentication("SM2 signature does not verify".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::unhex;

    const SECRET: &str = "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8";
    const PUBLIC_X: &str = "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020";
    const PUBLIC_Y: &str = "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13";

    /// The signature example on the recommended curve (GB/T 32918.2-2016 / GM/T 0003.2,
    /// signer ID "1234567812345678", message "message digest", with the standard's fixed
    /// random k): the public key derives from the private one, and the published (r, s)
    /// verifies.
    #[test]
    fn gbt_32918_signature_example() {
        let key = SigningKey::from_bytes(DEFAULT_ID, &unhex(SECRET).expect("hex")).expect("key");
        let public = [
            vec![4u8],
            unhex(PUBLIC_X).expect("hex"),
            unhex(PUBLIC_Y).expect("hex"),
        ]
        .concat();
        assert_eq!(key.verifying_key().to_sec1(), public);

        let r = "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3";
        let s = "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA";
        let signature = unhex(&format!("{r}{s}")).expect("hex");
        let verifier = VerifyingKey::from_sec1(DEFAULT_ID, &public).expect("public key");
        verifier
            .verify(b"message digest", &signature)
            .expect("the standard's signature verifies");
        assert!(verifier.verify(b"message digesT", &signature).is_err());
        let other_id = VerifyingKey::from_sec1("ALICE123@YAHOO.COM", &public).expect("key");
        assert!(other_id.verify(b"message digest", &signature).is_err());
    }

    #[test]
    fn sign_then_verify_and_reject_changes() {
        let key = SigningKey::generate();
        let signature = key.sign(b"audit record 17");
        let verifier = key.verifying_key();
        verifier
            .verify(b"audit record 17", &signature)
            .expect("verifies");
        assert!(verifier.verify(b"audit record 18", &signature).is_err());
        let mut bad = signature;
        bad[10] ^= 1;
        assert!(verifier.verify(b"audit record 17", &bad).is_err());
        assert!(verifier
            .verify(b"audit record 17", &signature[..63])
            .is_err());
        let again = SigningKey::from_bytes(DEFAULT_ID, &key.to_bytes()).expect("round trip");
        assert_eq!(again.verifying_key().to_sec1(), verifier.to_sec1());
    }
}
