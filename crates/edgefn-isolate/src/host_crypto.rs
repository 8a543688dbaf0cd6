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

use crate::host::copy_bytes;

mod ops;
mod rsa_ops;

fn digest(hash: &str, data: &[u8]) -> Option<Vec<u8>> {
    Some(match hash {
        "SHA-1" => sha1::Sha1::digest(data).to_vec(),
        "SHA-256" => sha2::Sha256::digest(data).to_vec(),
        "SHA-384" => sha2::Sha384::digest(data).to_vec(),
        "SHA-512" => sha2::Sha512::digest(data).to_vec(),
        _ => return None,
    })
}

fn hmac_sign(hash: &str, key: &[u8], data: &[u8]) -> Option<Vec<u8>> {
    macro_rules! sign {
        ($hash:ty) => {{
            let mut mac = <hmac::Hmac<$hash> as KeyInit>::new_from_slice(key).ok()?;
            mac.update(data);
            mac.finalize().into_bytes().to_vec()
        }};
    }
    Some(match hash {
        "SHA-1" => sign!(sha1::Sha1),
        "SHA-256" => sign!(sha2::Sha256),
        "SHA-384" => sign!(sha2::Sha384),
        "SHA-512" => sign!(sha2::Sha512),
        _ => return None,
    })
}

fn hmac_verify(hash: &str, key: &[u8], signature: &[u8], data: &[u8]) -> Option<bool> {
    macro_rules! verify {
        ($hash:ty) => {{
            let mut mac = <hmac::Hmac<$hash> as KeyInit>::new_from_slice(key).ok()?;
            mac.update(data);
            mac.verify_slice(signature).is_ok()
        }};
    }
    Some(match hash {
        "SHA-1" => verify!(sha1::Sha1),
        "SHA-256" => verify!(sha2::Sha256),
        "SHA-384" => verify!(sha2::Sha384),
        "SHA-512" => verify!(sha2::Sha512),
        _ => return None,
    })
}

pub(crate) fn install<'js>(ctx: &Ctx<'js>, host: &Object<'js>) -> rquickjs::Result<()> {
    let unsupported = |ctx: &Ctx<'js>, hash: &str| {
        Exception::throw_type(ctx, &format!("unsupported hash {hash}"))
    };
    host.set(
        "subtleDigest",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>,
                  hash: String,
                  data: Value<'js>|
                  -> rquickjs::Result<TypedArray<'js, u8>> {
                let data = copy_bytes(&ctx, data)?;
                let out = digest(&hash, &data).ok_or_else(|| unsupported(&ctx, &hash))?;
                TypedArray::new(ctx, out)
            },
        )?,
    )?;
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
                let out = hmac_sign(&hash, &key, &data).ok_or_else(|| unsupported(&ctx, &hash))?;
                TypedArray::new(ctx, out)
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
                hmac_verify(&hash, &key, &signature, &data).ok_or_else(|| unsupported(&ctx, &hash))
            },
        )?,
    )?;
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
                    Some(ops::Out::Bytes(b)) => TypedArray::new(ctx, b)?.into_value(),
                    Some(ops::Out::List(list)) => {
                        let array = rquickjs::Array::new(ctx.clone())?;
                        for (i, b) in list.into_iter().enumerate() {
                            array.set(i, TypedArray::new(ctx.clone(), b)?)?;
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
            hex(digest("SHA-256", b"abc").unwrap()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        // RFC 4231 test case 2.
        let mac = hmac_sign("SHA-256", b"Jefe", b"what do ya want for nothing?").unwrap();
        assert_eq!(
            hex(mac.clone()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hmac_verify("SHA-256", b"Jefe", &mac, b"what do ya want for nothing?"),
            Some(true)
        );
        assert_eq!(
            hmac_verify("SHA-256", b"Jefe", &mac, b"tampered"),
            Some(false)
        );
        assert!(digest("MD5", b"").is_none());
    }
}
