//! Host functions behind `CompressionStream` / `DecompressionStream` (WHATWG Compression):
//! gzip, deflate (zlib) and deflate-raw, with `flate2`.
//!
//! - `codecCreate(format, decompress) -> codecId` (a TypeError for an unknown format);
//! - `codecWrite(codecId, u8) -> Uint8Array` (what the codec produced so far);
//! - `codecFinish(codecId) -> Uint8Array` (the rest; for a decompressor, a TypeError when the
//!   input was truncated or is not valid);
//! - `codecDrop(codecId)` (the stream was cancelled).

use std::io::Write;
use std::rc::Weak;

use flate2::Compression;
use flate2::write::{
    DeflateDecoder, DeflateEncoder, GzDecoder, GzEncoder, ZlibDecoder, ZlibEncoder,
};
use rquickjs::{Ctx, Exception, Function, Object, TypedArray};

use crate::host::{copy_bytes, live_inner, new_bytes};
use crate::isolate::Inner;

/// One compressor or decompressor writing into a buffer drained after every call.
pub(crate) enum Codec {
    GzipEncode(GzEncoder<Vec<u8>>),
    ZlibEncode(ZlibEncoder<Vec<u8>>),
    RawEncode(DeflateEncoder<Vec<u8>>),
    GzipDecode(GzDecoder<Vec<u8>>),
    ZlibDecode(ZlibDecoder<Vec<u8>>),
    RawDecode(DeflateDecoder<Vec<u8>>),
}

impl Codec {
    fn new(format: &str, decompress: bool) -> Option<Codec> {
        let level = Compression::default();
        Some(match (format, decompress) {
            ("gzip", false) => Codec::GzipEncode(GzEncoder::new(Vec::new(), level)),
            ("deflate", false) => Codec::ZlibEncode(ZlibEncoder::new(Vec::new(), level)),
            ("deflate-raw", false) => Codec::RawEncode(DeflateEncoder::new(Vec::new(), level)),
            ("gzip", true) => Codec::GzipDecode(GzDecoder::new(Vec::new())),
            ("deflate", true) => Codec::ZlibDecode(ZlibDecoder::new(Vec::new())),
            ("deflate-raw", true) => Codec::RawDecode(DeflateDecoder::new(Vec::new())),
            _ => return None,
        })
    }

    fn write(&mut self, input: &[u8]) -> std::io::Result<Vec<u8>> {
        macro_rules! step {
            ($codec:expr) => {{
                $codec.write_all(input)?;
                Ok(std::mem::take($codec.get_mut()))
            }};
        }
        match self {
            Codec::GzipEncode(c) => step!(c),
            Codec::ZlibEncode(c) => step!(c),
            Codec::RawEncode(c) => step!(c),
            Codec::GzipDecode(c) => step!(c),
            Codec::ZlibDecode(c) => step!(c),
            Codec::RawDecode(c) => step!(c),
        }
    }

    fn finish(self) -> std::io::Result<Vec<u8>> {
        match self {
            Codec::GzipEncode(c) => c.finish(),
            Codec::ZlibEncode(c) => c.finish(),
            Codec::RawEncode(c) => c.finish(),
            Codec::GzipDecode(c) => c.finish(),
            Codec::ZlibDecode(c) => c.finish(),
            Codec::RawDecode(c) => c.finish(),
        }
    }
}

pub(crate) fn install<'js>(
    ctx: &Ctx<'js>,
    host: &Object<'js>,
    weak: &Weak<Inner>,
) -> rquickjs::Result<()> {
    let w = weak.clone();
    host.set(
        "codecCreate",
        Function::new(ctx.clone(), move |ctx: Ctx<'js>, format: String, decompress: bool| {
            let inner = live_inner(&ctx, &w)?;
            let codec = Codec::new(&format, decompress).ok_or_else(|| {
                Exception::throw_type(
                    &ctx,
                    &format!("unsupported compression format {format:?}: use \"gzip\", \"deflate\" or \"deflate-raw\""),
                )
            })?;
            let mut state = inner.state.borrow_mut();
            let id = state.next_id();
            state.codecs.insert(id, codec);
            Ok::<u32, rquickjs::Error>(id)
        })?,
    )?;

    let w = weak.clone();
    host.set(
        "codecWrite",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>,
                  id: u32,
                  chunk: rquickjs::Value<'js>|
                  -> rquickjs::Result<TypedArray<'js, u8>> {
                let inner = live_inner(&ctx, &w)?;
                let input = copy_bytes(&ctx, chunk)?;
                let output = {
                    let mut state = inner.state.borrow_mut();
                    let codec = state
                        .codecs
                        .get_mut(&id)
                        .ok_or_else(|| Exception::throw_type(&ctx, "the stream is closed"))?;
                    codec.write(&input)
                };
                match output {
                    Ok(bytes) => new_bytes(&ctx, &w, bytes),
                    Err(error) => {
                        inner.state.borrow_mut().codecs.remove(&id);
                        Err(Exception::throw_type(
                            &ctx,
                            &format!("the compressed data is not valid: {error}"),
                        ))
                    }
                }
            },
        )?,
    )?;

    let w = weak.clone();
    host.set(
        "codecFinish",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, id: u32| -> rquickjs::Result<TypedArray<'js, u8>> {
                let inner = live_inner(&ctx, &w)?;
                let codec = inner
                    .state
                    .borrow_mut()
                    .codecs
                    .remove(&id)
                    .ok_or_else(|| Exception::throw_type(&ctx, "the stream is closed"))?;
                match codec.finish() {
                    Ok(bytes) => new_bytes(&ctx, &w, bytes),
                    Err(error) => Err(Exception::throw_type(
                        &ctx,
                        &format!("the compressed data is truncated or not valid: {error}"),
                    )),
                }
            },
        )?,
    )?;

    let w = weak.clone();
    host.set(
        "codecDrop",
        Function::new(ctx.clone(), move |id: u32| {
            if let Some(inner) = w.upgrade() {
                inner.state.borrow_mut().codecs.remove(&id);
            }
        })?,
    )?;
    Ok(())
}
