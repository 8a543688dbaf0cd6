//! The algorithms behind `host.subtleOp` beyond digest and HMAC: AES (GCM, CBC, CTR, KW),
//! PBKDF2, HKDF, ECDSA and ECDH on P-256 and P-384, Ed25519 and X25519.
//!
//! Every operation takes byte strings and returns byte strings; `None` means the operation
//! failed (bad key data, failed authentication, ...) and the JavaScript side turns that into
//! the DOMException the WebCrypto spec asks for at that step.

use aes::cipher::{BlockCipherEncrypt, BlockModeDecrypt, BlockModeEncrypt, KeyInit, KeyIvInit};
use aes_gcm::AeadInOut;

/// What an operation hands back to JavaScript.
#[derive(Debug, PartialEq)]
pub(crate) enum Out {
    Bytes(Vec<u8>),
    List(Vec<Vec<u8>>),
    Bool(bool),
}

fn random_bytes(n: usize) -> Option<Vec<u8>> {
    let mut out = vec![0u8; n];
    getrandom::fill(&mut out).ok()?;
    Some(out)
}

macro_rules! by_aes_key {
    ($key:expr, $f:ident $(, $arg:expr)*) => {
        match $key.len() {
            16 => $f::<aes::Aes128>($key $(, $arg)*),
            24 => $f::<aes::Aes192>($key $(, $arg)*),
            32 => $f::<aes::Aes256>($key $(, $arg)*),
            _ => None,
        }
    };
}

// --- AES-GCM (WebCrypto §27; 96-bit IVs, tags of 32 to 128 bits) ---

fn gcm<C>(
    key: &[u8],
    iv: &[u8],
    aad: &[u8],
    data: &[u8],
    tag_len: usize,
    encrypt: bool,
) -> Option<Vec<u8>>
where
    C: aes::cipher::BlockCipherEncrypt<BlockSize = aes::cipher::consts::U16>
        + aes::cipher::KeyInit
        + aes::cipher::KeySizeUser,
{
    if !(4..=16).contains(&tag_len) {
        return None;
    }
    let cipher = aes_gcm::AesGcm::<C, aes::cipher::consts::U12>::new_from_slice(key).ok()?;
    let nonce = aes_gcm::Nonce::<aes::cipher::consts::U12>::try_from(iv).ok()?;
    // Encrypts in place and returns the full 128-bit tag.
    let seal = |buf: &mut Vec<u8>| {
        cipher
            .encrypt_inout_detached(&nonce, aad, buf.as_mut_slice().into())
            .ok()
    };
    if encrypt {
        let mut buf = data.to_vec();
        let tag = seal(&mut buf)?;
        buf.extend_from_slice(&tag[..tag_len]);
        return Some(buf);
    }
    let split = data.len().checked_sub(tag_len)?;
    let (body, tag) = data.split_at(split);
    let mut buf = body.to_vec();
    if tag_len == 16 {
        let tag = aes_gcm::Tag::try_from(tag).ok()?;
        cipher
            .decrypt_inout_detached(&nonce, aad, buf.as_mut_slice().into(), &tag)
            .ok()?;
        return Some(buf);
    }
    // A truncated tag: GCM's keystream is an XOR, so "encrypting" the ciphertext recovers the
    // plaintext; encrypting that again yields the ciphertext's full tag, whose prefix must
    // match (compared in constant time). The plaintext is released only after the check.
    seal(&mut buf)?;
    let mut again = buf.clone();
    let full = seal(&mut again)?;
    let diff = full[..tag_len]
        .iter()
        .zip(tag)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b));
    (diff == 0).then_some(buf)
}

// --- AES-CBC (§26; PKCS#7 padding) ---

fn cbc_op<C>(key: &[u8], iv: &[u8], data: &[u8], encrypt: bool) -> Option<Vec<u8>>
where
    C: aes::cipher::BlockCipherEncrypt<BlockSize = aes::cipher::consts::U16>
        + aes::cipher::BlockCipherDecrypt<BlockSize = aes::cipher::consts::U16>
        + aes::cipher::KeyInit,
{
    use aes::cipher::block_padding::Pkcs7;
    if encrypt {
        let enc = cbc::Encryptor::<C>::new_from_slices(key, iv).ok()?;
        Some(enc.encrypt_padded_vec::<Pkcs7>(data))
    } else {
        let dec = cbc::Decryptor::<C>::new_from_slices(key, iv).ok()?;
        dec.decrypt_padded_vec::<Pkcs7>(data).ok()
    }
}

// --- AES-CTR (§25): the rightmost `length` bits of the counter block are the counter ---

fn ctr_op<C>(key: &[u8], counter: &[u8], length: u32, data: &[u8]) -> Option<Vec<u8>>
where
    C: BlockCipherEncrypt<BlockSize = aes::cipher::consts::U16> + KeyInit,
{
    if counter.len() != 16 || !(1..=128).contains(&length) {
        return None;
    }
    // §25.4 encrypt step 3: the counter must not wrap around within one message.
    let blocks = data.len().div_ceil(16) as u128;
    if length < 128 && blocks > (1u128 << length) {
        return None;
    }
    let cipher = C::new_from_slice(key).ok()?;
    let start = u128::from_be_bytes(counter.try_into().ok()?);
    let mask = if length == 128 {
        u128::MAX
    } else {
        (1u128 << length) - 1
    };
    let mut out = Vec::with_capacity(data.len());
    for (i, chunk) in data.chunks(16).enumerate() {
        let low = (start & mask).wrapping_add(i as u128) & mask;
        let block = (start & !mask) | low;
        let mut ks = aes::Block::from(block.to_be_bytes());
        cipher.encrypt_block(&mut ks);
        out.extend(chunk.iter().zip(ks.iter()).map(|(a, b)| a ^ b));
    }
    Some(out)
}

// --- AES-KW (§28, RFC 3394) ---

fn kw_op<C>(key: &[u8], data: &[u8], wrap: bool) -> Option<Vec<u8>>
where
    C: BlockCipherEncrypt<BlockSize = aes::cipher::consts::U16>
        + aes::cipher::BlockCipherDecrypt<BlockSize = aes::cipher::consts::U16>
        + KeyInit,
{
    let kw = aes_kw::AesKw::<C>::new_from_slice(key).ok()?;
    if wrap {
        let mut buf = vec![0u8; data.len() + 8];
        kw.wrap_key(data, &mut buf).ok().map(<[u8]>::to_vec)
    } else {
        let mut buf = vec![0u8; data.len().checked_sub(8)?];
        kw.unwrap_key(data, &mut buf).ok().map(<[u8]>::to_vec)
    }
}

// --- PBKDF2 (§31) and HKDF (§30) ---

fn pbkdf2_op<D>(password: &[u8], salt: &[u8], rounds: u32, len: usize) -> Option<Vec<u8>>
where
    D: hmac::EagerHash,
    hmac::Hmac<D>: hmac::KeyInit,
{
    let mut out = vec![0u8; len];
    pbkdf2::pbkdf2_hmac::<D>(password, salt, rounds, &mut out);
    Some(out)
}

fn hkdf_op<D>(ikm: &[u8], salt: &[u8], info: &[u8], len: usize) -> Option<Vec<u8>>
where
    D: hmac::EagerHash,
    hmac::Hmac<D>: hmac::KeyInit,
{
    let mut out = vec![0u8; len];
    hkdf::Hkdf::<D>::new(Some(salt), ikm)
        .expand(info, &mut out)
        .ok()?;
    Some(out)
}

// --- ECDSA and ECDH on the NIST curves (§23, §24) ---

macro_rules! ec_curve {
    ($m:ident, $c:ident) => {
        mod $m {
            use super::Out;
            use $c::ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
            use $c::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
            use $c::{PublicKey, SecretKey};

            fn pair(secret: &SecretKey) -> Out {
                Out::List(vec![
                    secret.to_bytes().to_vec(),
                    secret.public_key().to_sec1_bytes().to_vec(),
                ])
            }

            pub(super) fn op(op: &str, b: &[Vec<u8>]) -> Option<Out> {
                Some(match (op, b) {
                    ("ec-generate", []) => loop {
                        let bytes = super::random_bytes(field_len())?;
                        if let Ok(secret) = SecretKey::from_slice(&bytes) {
                            break pair(&secret);
                        }
                    },
                    // A public point in SEC1 form (compressed or not) -> uncompressed.
                    ("ec-public-raw", [point]) => Out::Bytes(
                        PublicKey::from_sec1_bytes(point).ok()?.to_sec1_bytes().to_vec(),
                    ),
                    // A private scalar, and the public point it must match when given.
                    ("ec-private-raw", [d, point]) => {
                        if d.len() != field_len() {
                            return None;
                        }
                        let secret = SecretKey::from_slice(d).ok()?;
                        if !point.is_empty()
                            && PublicKey::from_sec1_bytes(point).ok()? != secret.public_key()
                        {
                            return None;
                        }
                        pair(&secret)
                    }
                    ("ec-import-spki", [der]) => Out::Bytes(
                        PublicKey::from_public_key_der(der).ok()?.to_sec1_bytes().to_vec(),
                    ),
                    ("ec-import-pkcs8", [der]) => pair(&SecretKey::from_pkcs8_der(der).ok()?),
                    ("ec-export-spki", [point]) => Out::Bytes(
                        PublicKey::from_sec1_bytes(point)
                            .ok()?
                            .to_public_key_der()
                            .ok()?
                            .into_vec(),
                    ),
                    ("ec-export-pkcs8", [d]) => Out::Bytes(
                        SecretKey::from_slice(d).ok()?.to_pkcs8_der().ok()?.as_bytes().to_vec(),
                    ),
                    ("ecdsa-sign", [d, prehash]) => {
                        let key = $c::ecdsa::SigningKey::from_slice(d).ok()?;
                        let sig: $c::ecdsa::Signature = key.sign_prehash(prehash).ok()?;
                        Out::Bytes(sig.to_bytes().to_vec())
                    }
                    ("ecdsa-verify", [point, prehash, sig]) => {
                        let key = $c::ecdsa::VerifyingKey::from_sec1_bytes(point).ok()?;
                        // §23.4 verify: a signature of the wrong length is simply invalid.
                        let ok = match $c::ecdsa::Signature::from_slice(sig) {
                            Ok(sig) => key.verify_prehash(prehash, &sig).is_ok(),
                            Err(_) => false,
                        };
                        Out::Bool(ok)
                    }
                    ("ecdh", [d, point]) => {
                        let secret = SecretKey::from_slice(d).ok()?;
                        let public = PublicKey::from_sec1_bytes(point).ok()?;
                        let shared = secret.diffie_hellman(&public);
                        Out::Bytes(shared.raw_secret_bytes().to_vec())
                    }
                    _ => return None,
                })
            }

            fn field_len() -> usize {
                <$c::FieldBytes as Default>::default().len()
            }
        }
    };
}

ec_curve!(p256_ops, p256);
ec_curve!(p384_ops, p384);

// --- Ed25519 (§33) and X25519 (§34): raw 32-byte keys ---

fn key32(b: &[u8]) -> Option<[u8; 32]> {
    b.try_into().ok()
}

fn curve25519(op: &str, b: &[Vec<u8>]) -> Option<Out> {
    use ed25519_dalek::{Signer, Verifier};
    Some(match (op, b) {
        ("ed-generate", []) => {
            let seed = key32(&random_bytes(32)?)?;
            let public = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key();
            Out::List(vec![seed.to_vec(), public.to_bytes().to_vec()])
        }
        ("ed-public", [seed]) => Out::Bytes(
            ed25519_dalek::SigningKey::from_bytes(&key32(seed)?)
                .verifying_key()
                .to_bytes()
                .to_vec(),
        ),
        ("ed-check-public", [public]) => {
            ed25519_dalek::VerifyingKey::from_bytes(&key32(public)?).ok()?;
            Out::Bytes(public.clone())
        }
        ("ed-sign", [seed, data]) => Out::Bytes(
            ed25519_dalek::SigningKey::from_bytes(&key32(seed)?)
                .sign(data)
                .to_bytes()
                .to_vec(),
        ),
        ("ed-verify", [public, data, sig]) => {
            let key = ed25519_dalek::VerifyingKey::from_bytes(&key32(public)?).ok()?;
            let ok = match ed25519_dalek::Signature::from_slice(sig) {
                Ok(sig) => key.verify(data, &sig).is_ok(),
                Err(_) => false,
            };
            Out::Bool(ok)
        }
        ("x-generate", []) => {
            let secret = x25519_dalek::StaticSecret::from(key32(&random_bytes(32)?)?);
            let public = x25519_dalek::PublicKey::from(&secret);
            Out::List(vec![secret.to_bytes().to_vec(), public.as_bytes().to_vec()])
        }
        ("x-public", [secret]) => {
            let secret = x25519_dalek::StaticSecret::from(key32(secret)?);
            Out::Bytes(x25519_dalek::PublicKey::from(&secret).as_bytes().to_vec())
        }
        ("x-derive", [secret, public]) => {
            let secret = x25519_dalek::StaticSecret::from(key32(secret)?);
            let shared = secret.diffie_hellman(&x25519_dalek::PublicKey::from(key32(public)?));
            // §34.4 derive bits step 7: an all-zero result is an OperationError.
            if !shared.was_contributory() {
                return None;
            }
            Out::Bytes(shared.as_bytes().to_vec())
        }
        _ => return None,
    })
}

/// Runs one operation: `s` is a hash or curve name, `n` numeric parameters, `b` byte strings.
pub(crate) fn run(op: &str, s: &str, n: &[f64], b: &[Vec<u8>]) -> Option<Out> {
    let num = |i: usize| n.get(i).copied().filter(|x| x.is_finite() && *x >= 0.0);
    let bytes = |v: Option<Vec<u8>>| v.map(Out::Bytes);
    match (op, b) {
        ("aes-gcm-encrypt", [key, iv, aad, data]) => {
            let tag_len = num(0)? as usize;
            bytes(by_aes_key!(key, gcm, iv, aad, data, tag_len, true))
        }
        ("aes-gcm-decrypt", [key, iv, aad, data]) => {
            let tag_len = num(0)? as usize;
            bytes(by_aes_key!(key, gcm, iv, aad, data, tag_len, false))
        }
        ("aes-cbc-encrypt", [key, iv, data]) => bytes(by_aes_key!(key, cbc_op, iv, data, true)),
        ("aes-cbc-decrypt", [key, iv, data]) => bytes(by_aes_key!(key, cbc_op, iv, data, false)),
        ("aes-ctr", [key, counter, data]) => {
            let length = num(0)? as u32;
            bytes(by_aes_key!(key, ctr_op, counter, length, data))
        }
        ("aes-kw-wrap", [key, data]) => bytes(by_aes_key!(key, kw_op, data, true)),
        ("aes-kw-unwrap", [key, data]) => bytes(by_aes_key!(key, kw_op, data, false)),
        ("pbkdf2", [password, salt]) => {
            let rounds = u32::try_from(num(0)? as u64).ok()?;
            let len = num(1)? as usize;
            bytes(by_hash!(s, pbkdf2_op, password, salt, rounds, len))
        }
        ("hkdf", [ikm, salt, info]) => {
            let len = num(0)? as usize;
            bytes(by_hash!(s, hkdf_op, ikm, salt, info, len))
        }
        _ if op.starts_with("rsa-") => crate::host_crypto::rsa_ops::op(op, s, n, b),
        _ if op.starts_with("ec") => match s {
            "P-256" => p256_ops::op(op, b),
            "P-384" => p384_ops::op(op, b),
            _ => None,
        },
        _ => curve25519(op, b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn bytes(out: Option<Out>) -> Vec<u8> {
        match out {
            Some(Out::Bytes(b)) => b,
            other => panic!("expected bytes, got {other:?}"),
        }
    }

    #[test]
    fn symmetric_known_answers() {
        // RFC 3394 4.1.
        let kek = unhex("000102030405060708090a0b0c0d0e0f");
        let data = unhex("00112233445566778899aabbccddeeff");
        let wrapped = bytes(run("aes-kw-wrap", "", &[], &[kek.clone(), data.clone()]));
        assert_eq!(
            wrapped,
            unhex("1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5")
        );
        assert_eq!(bytes(run("aes-kw-unwrap", "", &[], &[kek, wrapped])), data);
        // RFC 5869 test case 1.
        let okm = run(
            "hkdf",
            "SHA-256",
            &[42.0],
            &[
                vec![0x0b; 22],
                unhex("000102030405060708090a0b0c"),
                unhex("f0f1f2f3f4f5f6f7f8f9"),
            ],
        );
        assert_eq!(
            bytes(okm),
            unhex(
                "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
            )
        );
        // RFC 6070, c = 2.
        let dk = run(
            "pbkdf2",
            "SHA-1",
            &[2.0, 20.0],
            &[b"password".to_vec(), b"salt".to_vec()],
        );
        assert_eq!(bytes(dk), unhex("ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957"));
        // A GCM tag mismatch fails rather than returning plaintext.
        let key = vec![0u8; 16];
        let mut sealed = bytes(run(
            "aes-gcm-encrypt",
            "",
            &[16.0],
            &[key.clone(), vec![0; 12], vec![], vec![0; 16]],
        ));
        sealed[0] ^= 1;
        assert!(
            run(
                "aes-gcm-decrypt",
                "",
                &[16.0],
                &[key, vec![0; 12], vec![], sealed]
            )
            .is_none()
        );
        assert!(run("unknown", "", &[], &[]).is_none());
    }

    #[test]
    fn ecdh_agrees_and_x25519_rejects_zero_points() {
        let Some(Out::List(a)) = run("ec-generate", "P-384", &[], &[]) else {
            panic!()
        };
        let Some(Out::List(b)) = run("ec-generate", "P-384", &[], &[]) else {
            panic!()
        };
        let ab = bytes(run("ecdh", "P-384", &[], &[a[0].clone(), b[1].clone()]));
        let ba = bytes(run("ecdh", "P-384", &[], &[b[0].clone(), a[1].clone()]));
        assert_eq!(ab, ba);
        assert!(run("x-derive", "", &[], &[vec![1; 32], vec![0; 32]]).is_none());
    }
}
