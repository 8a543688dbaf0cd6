//! Host functions behind `crypto.subtle` (W3C Web Cryptography), with RustCrypto:
//!
//! - `subtleDigest(hash, data) -> Uint8Array` for SHA-1, SHA-256, SHA-384 and SHA-512;
//! - `subtleHmacSign(hash, key, data) -> Uint8Array`;
//! - `subtleHmacVerify(hash, key, signature, data) -> bool` (constant-time comparison).
//!
//! - `subtleOp(op, name, numbers, byteStrings) -> Uint8Array | Uint8Array[] | bool | null` for
//!   everything else (see `ops.rs`); `null` means the operation failed.
//!
//! Hash names are the normalised WebCrypto names; anything else is a NotSupportedError raised
//! by the JavaScript side before it gets here.

use hmac::{KeyInit, Mac};
use rquickjs::{Ctx, Exception, Function, Object, TypedArray, Value};
use sha2::Digest;

use std::rc::Weak;

use crate::host::{copy_bytes, new_bytes};
use crate::isolate::Inner;

/// Calls `$f::<H>($args...)` with the RustCrypto hash `H` named by `$hash` (a normalised
/// WebCrypto name); `None` for any other name. Defined before the sub-modules, which use it too.
macro_rules! by_hash {
    ($hash:expr, $f:ident $(, $arg:expr)*) => {
        match $hash {
            "SHA-1" => $f::<sha1::Sha1>($($arg),*),
            "SHA-256" => $f::<sha2::Sha256>($($arg),*),
            "SHA-384" => $f::<sha2::Sha384>($($arg),*),
            "SHA-512" => $f::<sha2::Sha512>($($arg),*),
            _ => None,
        }
    };
}

mod ops;
mod rsa_ops;

fn digest<D: Digest>(data: &[u8]) -> Option<Vec<u8>> {
    Some(D::digest(data).to_vec())
}

fn hmac_sign<D>(key: &[u8], data: &[u8]) -> Option<Vec<u8>>
where
    D: hmac::EagerHash,
    hmac::Hmac<D>: KeyInit + Mac,
{
    let mut mac = <hmac::Hmac<D> as KeyInit>::new_from_slice(key).ok()?;
    mac.update(data);
    Some(mac.finalize().into_bytes().to_vec())
}

fn hmac_verify<D>(key: &[u8], signature: &[u8], data: &[u8]) -> Option<bool>
where
    D: hmac::EagerHash,
    hmac::Hmac<D>: KeyInit + Mac,
{
    let mut mac = <hmac::Hmac<D> as KeyInit>::new_from_slice(key).ok()?;
    mac.update(data);
    Some(mac.verify_slice(signature).is_ok())
}

pub(crate) fn install<'js>(
    ctx: &Ctx<'js>,
    host: &Object<'js>,
    weak: &Weak<Inner>,
) -> rquickjs::Result<()> {
    let unsupported = |ctx: &Ctx<'js>, hash: &str| {
        Exception::throw_type(ctx, &format!("unsupported hash {hash}"))
    };
    let w = weak.clone();
    host.set(
        "subtleDigest",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>,
                  hash: String,
                  data: Value<'js>|
                  -> rquickjs::Result<TypedArray<'js, u8>> {
                let data = copy_bytes(&ctx, data)?;
                let out = by_hash!(hash.as_str(), digest, &data)
                    .ok_or_else(|| unsupported(&ctx, &hash))?;
                new_bytes(&ctx, &w, out)
            },
        )?,
    )?;
    let w = weak.clone();
    host.set(
        "subtleHmacSign",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>,
                  hash: String,
                  key: Value<'js>,
                  data: Value<'js>|
                  -> rquickjs::Result<TypedArray<'js, u8>> {
                let key = copy_bytes(&ctx, key)?;
                let data = copy_bytes(&ctx, data)?;
                let out = by_hash!(hash.as_str(), hmac_sign, &key, &data)
                    .ok_or_else(|| unsupported(&ctx, &hash))?;
                new_bytes(&ctx, &w, out)
            },
        )?,
    )?;
    host.set(
        "subtleHmacVerify",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>,
                  hash: String,
                  key: Value<'js>,
                  signature: Value<'js>,
                  data: Value<'js>|
                  -> rquickjs::Result<bool> {
                let key = copy_bytes(&ctx, key)?;
                let signature = copy_bytes(&ctx, signature)?;
                let data = copy_bytes(&ctx, data)?;
                by_hash!(hash.as_str(), hmac_verify, &key, &signature, &data)
                    .ok_or_else(|| unsupported(&ctx, &hash))
            },
        )?,
    )?;
    let w = weak.clone();
    host.set(
        "subtleOp",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>,
                  op: String,
                  name: String,
                  numbers: Vec<f64>,
                  buffers: Vec<Value<'js>>|
                  -> rquickjs::Result<Value<'js>> {
                let buffers = buffers
                    .into_iter()
                    .map(|b| copy_bytes(&ctx, b).map(|b| b.to_vec()))
                    .collect::<rquickjs::Result<Vec<_>>>()?;
                Ok(match ops::run(&op, &name, &numbers, &buffers) {
                    None => Value::new_null(ctx),
                    Some(ops::Out::Bool(b)) => Value::new_bool(ctx, b),
                    Some(ops::Out::Bytes(b)) => new_bytes(&ctx, &w, b)?.into_value(),
                    Some(ops::Out::List(list)) => {
                        let array = rquickjs::Array::new(ctx.clone())?;
                        for (i, b) in list.into_iter().enumerate() {
                            array.set(i, new_bytes(&ctx, &w, b)?)?;
                        }
                        array.into_value()
                    }
                })
            },
        )?,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_and_hmac_match_known_vectors() {
        let hex = |b: Vec<u8>| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        assert_eq!(
            hex(by_hash!("SHA-256", digest, b"abc").unwrap()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        // RFC 4231 test case 2.
        let mac = by_hash!(
            "SHA-256",
            hmac_sign,
            b"Jefe",
            b"what do ya want for nothing?"
        )
        .unwrap();
        assert_eq!(
            hex(mac.clone()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            by_hash!(
                "SHA-256",
                hmac_verify,
                b"Jefe",
                &mac,
                b"what do ya want for nothing?"
            ),
            Some(true)
        );
        assert_eq!(
            by_hash!("SHA-256", hmac_verify, b"Jefe", &mac, b"tampered"),
            Some(false)
        );
        assert!(by_hash!("MD5", digest, b"").is_none());
    }
}
