//! Host functions behind `URLPattern` (WHATWG URL Pattern), with the `urlpattern` crate's
//! browser-integration API: Rust parses patterns and inputs; JavaScript compiles and runs the
//! component regular expressions (ECMAScript syntax, as the standard requires).
//!
//! - `urlPatternParse(inputJson, baseURL?, ignoreCase) -> patternJson`: throws a TypeError for
//!   an invalid pattern. The JSON has, per component, `patternString`, `regexpString` and
//!   `groupNameList`, plus `hasRegexpGroups`.
//! - `urlPatternInput(inputJson, baseURL?) -> {"components": {...}, "inputs": [...]} | null`:
//!   the components of a URL (or init) to match; `null` when it is not a valid URL.

use rquickjs::function::Opt;
use rquickjs::{Ctx, Exception, Function, Object, Value};
use urlpattern::quirks::{self, StringOrInit};
use urlpattern::{RegexSyntax, UrlPatternOptions};

pub(crate) fn install<'js>(ctx: &Ctx<'js>, host: &Object<'js>) -> rquickjs::Result<()> {
    host.set(
        "urlPatternParse",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>,
             input: String,
             base: Opt<Option<String>>,
             ignore_case: Opt<bool>|
             -> rquickjs::Result<String> {
                let type_error = |message: String| {
                    Exception::throw_type(&ctx, &format!("URLPattern: {message}"))
                };
                let input: StringOrInit = serde_json::from_str(&input)
                    .map_err(|e| type_error(format!("invalid input: {e}")))?;
                let init =
                    quirks::process_construct_pattern_input(input, base.0.flatten().as_deref())
                        .map_err(|e| type_error(e.to_string()))?;
                let options = UrlPatternOptions {
                    regex_syntax: RegexSyntax::EcmaScript,
                    ignore_case: ignore_case.0.unwrap_or(false),
                };
                let pattern = quirks::parse_pattern::<quirks::EcmaRegexp>(init, options)
                    .map_err(|e| type_error(e.to_string()))?;
                Ok(serde_json::to_string(&pattern).expect("a pattern serialises"))
            },
        )?,
    )?;

    host.set(
        "urlPatternInput",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>,
             input: String,
             base: Opt<Option<String>>|
             -> rquickjs::Result<Value<'js>> {
                let input: StringOrInit = serde_json::from_str(&input).map_err(|e| {
                    Exception::throw_type(&ctx, &format!("URLPattern: invalid input: {e}"))
                })?;
                let processed = quirks::process_match_input(input, base.0.flatten().as_deref())
                    .map_err(|e| Exception::throw_type(&ctx, &format!("URLPattern: {e}")))?;
                let Some((match_input, inputs)) = processed else {
                    return Ok(Value::new_null(ctx.clone()));
                };
                let Some(components) = quirks::parse_match_input(match_input) else {
                    return Ok(Value::new_null(ctx.clone()));
                };
                let inputs = match inputs {
                    (input, Some(base)) => serde_json::json!([input, base]),
                    (input, None) => serde_json::json!([input]),
                };
                let json = serde_json::json!({ "components": components, "inputs": inputs });
                rquickjs::String::from_str(ctx, &json.to_string()).map(|s| s.into_value())
            },
        )?,
    )?;
    Ok(())
}
