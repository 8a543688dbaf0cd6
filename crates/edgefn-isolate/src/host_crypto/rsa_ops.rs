//! RSA for `host.subtleOp` (WebCrypto §20 RSASSA-PKCS1-v1_5, §21 RSA-PSS, §22 RSA-OAEP).
//!
//! Private keys travel as PKCS#8 DER and public keys as SPKI DER; JWK members are big-endian
//! byte strings with no leading zeros.

use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use rsa::{BoxedUint, Oaep, Pkcs1v15Sign, Pss, RsaPrivateKey, RsaPublicKey};

use super::ops::Out;

fn rng() -> rsa::rand_core::UnwrapErr<getrandom04::SysRng> {
    rsa::rand_core::UnwrapErr(getrandom04::SysRng)
}

fn uint(bytes: &[u8]) -> Option<BoxedUint> {
    if bytes.is_empty() {
        return None;
    }
    let bits = u32::try_from(bytes.len() * 8).ok()?;
    BoxedUint::from_be_slice(bytes, bits).ok()
}

fn trimmed(value: &BoxedUint) -> Vec<u8> {
    value.to_be_bytes_trimmed_vartime().to_vec()
}

fn pair(key: &RsaPrivateKey) -> Option<Out> {
    Some(Out::List(vec![
        key.to_pkcs8_der().ok()?.as_bytes().to_vec(),
        key.to_public_key().to_public_key_der().ok()?.into_vec(),
    ]))
}

fn private(der: &[u8]) -> Option<RsaPrivateKey> {
    RsaPrivateKey::from_pkcs8_der(der).ok()
}

fn public(der: &[u8]) -> Option<RsaPublicKey> {
    RsaPublicKey::from_public_key_der(der).ok()
}

fn hashed<D: sha2::Digest>(data: &[u8]) -> Vec<u8> {
    D::digest(data).to_vec()
}

fn sign<D>(op: &str, salt: usize, der: &[u8], data: &[u8]) -> Option<Out>
where
    D: sha2::Digest + sha2::digest::FixedOutputReset + rsa::pkcs8::der::oid::AssociatedOid,
{
    let key = private(der)?;
    let digest = hashed::<D>(data);
    let sig = match op {
        "rsa-pss-sign" => key.sign_with_rng(&mut rng(), Pss::<D>::new_with_salt(salt), &digest),
        _ => key.sign_with_rng(&mut rng(), Pkcs1v15Sign::new::<D>(), &digest),
    };
    sig.ok().map(Out::Bytes)
}

fn verify<D>(op: &str, salt: usize, der: &[u8], data: &[u8], sig: &[u8]) -> Option<Out>
where
    D: sha2::Digest + sha2::digest::FixedOutputReset + rsa::pkcs8::der::oid::AssociatedOid,
{
    let key = public(der)?;
    let digest = hashed::<D>(data);
    let ok = match op {
        "rsa-pss-verify" => key.verify(Pss::<D>::new_with_salt(salt), &digest, sig),
        _ => key.verify(Pkcs1v15Sign::new::<D>(), &digest, sig),
    };
    Some(Out::Bool(ok.is_ok()))
}

fn oaep<D>(encrypt: bool, der: &[u8], label: &[u8], data: &[u8]) -> Option<Out>
where
    D: sha2::Digest + sha2::digest::FixedOutputReset + Send + Sync + 'static,
{
    let padding = if label.is_empty() {
        Oaep::<D>::new()
    } else {
        Oaep::<D>::new_with_label(label.to_vec())
    };
    let out = if encrypt {
        public(der)?.encrypt(&mut rng(), padding, data)
    } else {
        private(der)?.decrypt_blinded(&mut rng(), padding, data)
    };
    out.ok().map(Out::Bytes)
}

pub(super) fn op(op: &str, hash: &str, n: &[f64], b: &[Vec<u8>]) -> Option<Out> {
    let num = |i: usize| n.get(i).copied().filter(|x| x.is_finite() && *x >= 0.0);
    match (op, b) {
        ("rsa-generate", [e]) => {
            let bits = num(0)? as usize;
            let key = RsaPrivateKey::new_with_exp(&mut rng(), bits, uint(e)?).ok()?;
            pair(&key)
        }
        ("rsa-import-pkcs8", [der]) => pair(&private(der)?),
        ("rsa-import-spki", [der]) => Some(Out::Bytes(
            public(der)?.to_public_key_der().ok()?.into_vec(),
        )),
        // [n, e] of a public key, for the algorithm dictionary and JWK export.
        ("rsa-info", [der]) => {
            let key = public(der)?;
            Some(Out::List(vec![trimmed(key.n()), trimmed(key.e())]))
        }
        ("rsa-from-jwk", [n, e]) => {
            let key = RsaPublicKey::new(uint(n)?, uint(e)?).ok()?;
            Some(Out::Bytes(key.to_public_key_der().ok()?.into_vec()))
        }
        ("rsa-from-jwk", [n, e, d, p, q, dp, dq, qi]) => {
            let key = RsaPrivateKey::from_components(
                uint(n)?,
                uint(e)?,
                uint(d)?,
                vec![uint(p)?, uint(q)?],
            )
            .ok()?;
            // The CRT members must be the ones the key implies (RFC 7518 §6.3.2).
            let parts = jwk_parts(&key)?;
            let trim = |v: &Vec<u8>| {
                let start = v.iter().position(|&x| x != 0).unwrap_or(v.len());
                v[start..].to_vec()
            };
            if [dp, dq, qi]
                .iter()
                .zip(&parts[5..])
                .any(|(given, own)| trim(given) != *own)
            {
                return None;
            }
            pair(&key)
        }
        ("rsa-export-jwk", [der]) => Some(Out::List(jwk_parts(&private(der)?)?)),
        ("rsa-pss-sign" | "rsa-pkcs1-sign", [der, data]) => {
            let salt = num(0)? as usize;
            by_hash!(hash, sign, op, salt, der, data)
        }
        ("rsa-pss-verify" | "rsa-pkcs1-verify", [der, data, sig]) => {
            let salt = num(0)? as usize;
            by_hash!(hash, verify, op, salt, der, data, sig)
        }
        ("rsa-oaep-encrypt", [der, label, data]) => by_hash!(hash, oaep, true, der, label, data),
        ("rsa-oaep-decrypt", [der, label, data]) => by_hash!(hash, oaep, false, der, label, data),
        _ => None,
    }
}

/// [n, e, d, p, q, dp, dq, qi] of a two-prime key.
fn jwk_parts(key: &RsaPrivateKey) -> Option<Vec<Vec<u8>>> {
    let [p, q] = key.primes() else { return None };
    Some(vec![
        trimmed(key.n()),
        trimmed(key.e()),
        trimmed(key.d()),
        trimmed(p),
        trimmed(q),
        trimmed(key.dp()?),
        trimmed(key.dq()?),
        trimmed(&key.crt_coefficient()?),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rsa_round_trips() {
        let Some(Out::List(keys)) = op("rsa-generate", "", &[1024.0], &[vec![1, 0, 1]]) else {
            panic!("generation failed")
        };
        let (private_der, public_der) = (&keys[0], &keys[1]);
        let sig = match op(
            "rsa-pss-sign",
            "SHA-256",
            &[32.0],
            &[private_der.clone(), b"m".to_vec()],
        ) {
            Some(Out::Bytes(sig)) => sig,
            other => panic!("{other:?}"),
        };
        let verify = |data: &[u8]| {
            op(
                "rsa-pss-verify",
                "SHA-256",
                &[32.0],
                &[public_der.clone(), data.to_vec(), sig.clone()],
            )
        };
        assert_eq!(verify(b"m"), Some(Out::Bool(true)));
        assert_eq!(verify(b"n"), Some(Out::Bool(false)));
        let Some(Out::Bytes(ct)) = op(
            "rsa-oaep-encrypt",
            "SHA-1",
            &[],
            &[public_der.clone(), vec![], b"hi".to_vec()],
        ) else {
            panic!()
        };
        let pt = op(
            "rsa-oaep-decrypt",
            "SHA-1",
            &[],
            &[private_der.clone(), vec![], ct.clone()],
        );
        assert_eq!(pt, Some(Out::Bytes(b"hi".to_vec())));
        assert!(
            op(
                "rsa-oaep-decrypt",
                "SHA-1",
                &[],
                &[private_der.clone(), vec![1], ct]
            )
            .is_none()
        );
        // JWK members survive a round trip through from_components.
        let Some(Out::List(parts)) =
            op("rsa-export-jwk", "", &[], std::slice::from_ref(private_der))
        else {
            panic!()
        };
        let Some(Out::List(again)) = op("rsa-from-jwk", "", &[], &parts) else {
            panic!()
        };
        assert_eq!(&again[0], private_der);
    }
}
