//! Host functions behind `TextDecoder` for every WHATWG encoding besides UTF-8 (which the Web
//! layer decodes on its own fast path), with `encoding_rs`:
//!
//! - `encodingForLabel(label) -> name | null` (WHATWG Encoding §4.2 "get an encoding"; the name
//!   lowercased, as `TextDecoder.encoding` shows it);
//! - `decodeOnce(name, bytes, fatal, ignoreBOM) -> string` (a whole input);
//! - `decoderCreate(name, ignoreBOM) -> id`, `decoderDecode(id, bytes, fatal, last) -> string`
//!   (a streaming decode; the decoder is freed after the `last` call).
//!
//! With `fatal`, malformed input throws a TypeError; otherwise it becomes U+FFFD.

use std::rc::Weak;

use encoding_rs::{CoderResult, Decoder, DecoderResult, Encoding};
use rquickjs::{Ctx, Exception, Function, Object, Value};

use crate::host::{copy_bytes, live_inner};
use crate::isolate::Inner;

/// Live streaming decoders one isolate may hold: each is host memory outside the JS heap limit.
const MAX_STREAMING_DECODERS: usize = 4096;

fn encoding(ctx: &Ctx<'_>, name: &str) -> rquickjs::Result<&'static Encoding> {
    Encoding::for_label(name.as_bytes())
        .ok_or_else(|| Exception::throw_range(ctx, &format!("unknown encoding {name}")))
}

fn new_decoder(encoding: &'static Encoding, ignore_bom: bool) -> Decoder {
    if ignore_bom {
        encoding.new_decoder_without_bom_handling()
    } else {
        encoding.new_decoder_with_bom_removal()
    }
}

/// Decodes `input` with `decoder`; `None` when `fatal` and the input is malformed.
fn decode(decoder: &mut Decoder, input: &[u8], fatal: bool, last: bool) -> Option<String> {
    let capacity = decoder
        .max_utf8_buffer_length(input.len())
        .unwrap_or(input.len().saturating_mul(3) + 16);
    let mut output = String::with_capacity(capacity);
    if fatal {
        let (result, _) = decoder.decode_to_string_without_replacement(input, &mut output, last);
        match result {
            DecoderResult::InputEmpty => Some(output),
            DecoderResult::Malformed(..) | DecoderResult::OutputFull => None,
        }
    } else {
        let (result, _, _) = decoder.decode_to_string(input, &mut output, last);
        matches!(result, CoderResult::InputEmpty).then_some(output)
    }
}

pub(crate) fn install<'js>(
    ctx: &Ctx<'js>,
    host: &Object<'js>,
    weak: &Weak<Inner>,
) -> rquickjs::Result<()> {
    host.set(
        "encodingForLabel",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>, label: String| -> rquickjs::Result<Value<'js>> {
                match Encoding::for_label(label.as_bytes()) {
                    Some(encoding) => {
                        rquickjs::String::from_str(ctx, &encoding.name().to_ascii_lowercase())
                            .map(|s| s.into_value())
                    }
                    None => Ok(Value::new_null(ctx)),
                }
            },
        )?,
    )?;

    let malformed = |ctx: &Ctx<'js>, name: &str| {
        Exception::throw_type(
            ctx,
            &format!("The encoded data was not valid for encoding {name}"),
        )
    };
    host.set(
        "decodeOnce",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, name: String, bytes: Value<'js>, fatal: bool, ignore_bom: bool| {
                let input = copy_bytes(&ctx, bytes)?;
                let mut decoder = new_decoder(encoding(&ctx, &name)?, ignore_bom);
                decode(&mut decoder, &input, fatal, true).ok_or_else(|| malformed(&ctx, &name))
            },
        )?,
    )?;

    let w = weak.clone();
    host.set(
        "decoderCreate",
        Function::new(ctx.clone(), move |ctx: Ctx<'js>, name: String, ignore_bom: bool| {
            let inner = live_inner(&ctx, &w)?;
            let decoder = new_decoder(encoding(&ctx, &name)?, ignore_bom);
            let mut state = inner.state.borrow_mut();
            if state.decoders.len() >= MAX_STREAMING_DECODERS {
                return Err(Exception::throw_range(
                    &ctx,
                    &format!(
                        "too many unfinished streaming TextDecoder calls (at most {MAX_STREAMING_DECODERS}); end a stream with decode() without {{stream: true}}"
                    ),
                ));
            }
            let id = state.next_id();
            state.decoders.insert(id, decoder);
            Ok::<u32, rquickjs::Error>(id)
        })?,
    )?;

    let w = weak.clone();
    host.set(
        "decoderDecode",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, id: u32, bytes: Value<'js>, fatal: bool, last: bool| {
                let inner = live_inner(&ctx, &w)?;
                let input = copy_bytes(&ctx, bytes)?;
                let mut state = inner.state.borrow_mut();
                let decoder = state
                    .decoders
                    .get_mut(&id)
                    .ok_or_else(|| Exception::throw_type(&ctx, "the decoder is gone"))?;
                let name = decoder.encoding().name();
                let text = decode(decoder, &input, fatal, last);
                if last || text.is_none() {
                    state.decoders.remove(&id);
                }
                drop(state);
                text.ok_or_else(|| malformed(&ctx, name))
            },
        )?,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_legacy_encodings_and_reports_malformed_input() {
        let latin = Encoding::for_label(b"latin1").unwrap();
        assert_eq!(latin.name(), "windows-1252");
        let mut d = new_decoder(latin, false);
        assert_eq!(
            decode(&mut d, &[0x63, 0x61, 0x66, 0xe9, 0x80], false, true).unwrap(),
            "café€"
        );
        let sjis = Encoding::for_label(b"shift_jis").unwrap();
        let mut d = new_decoder(sjis, false);
        assert_eq!(
            decode(&mut d, &[0x93, 0xfa, 0x96, 0x7b], false, true).unwrap(),
            "日本"
        );
        let mut d = new_decoder(sjis, false);
        assert!(decode(&mut d, &[0x93], true, true).is_none());
        // Streaming: a split multi-byte sequence joins across calls.
        let mut d = new_decoder(sjis, false);
        assert_eq!(decode(&mut d, &[0x93], false, false).unwrap(), "");
        assert_eq!(decode(&mut d, &[0xfa], false, true).unwrap(), "日");
    }
}
