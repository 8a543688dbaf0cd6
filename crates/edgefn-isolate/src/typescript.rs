//! TypeScript to JavaScript by type stripping, with oxc.
//!
//! Types are erased, never checked (as `deno run` does without `--check`). Constructs that need
//! code generation rather than erasure (enums, namespaces, parameter properties) go through
//! oxc's TypeScript transform; nothing is lowered to an older ECMAScript version, since
//! QuickJS-NG runs current ECMAScript.

use std::path::Path;

use oxc::allocator::Allocator;
use oxc::codegen::{Codegen, CodegenOptions};
use oxc::diagnostics::OxcDiagnostic;
use oxc::parser::Parser;
use oxc::semantic::SemanticBuilder;
use oxc::span::SourceType;
use oxc::transformer::{TransformOptions, Transformer};

/// Why a TypeScript module could not be turned into JavaScript.
#[derive(Debug, thiserror::Error)]
#[error("{path}:{line}:{column}: {message}")]
pub struct TranspileError {
    /// The file that failed, as given to [`strip_types`].
    pub path: String,
    /// 1-based line of the first error.
    pub line: usize,
    /// 1-based column of the first error.
    pub column: usize,
    /// What the parser or transformer said.
    pub message: String,
}

/// Returns `true` when a file with this path is TypeScript and must go through [`strip_types`].
pub fn is_typescript(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("ts" | "mts" | "cts")
    )
}

/// Strips the types from one TypeScript module and returns the JavaScript.
pub fn strip_types(path: &Path, source: &str) -> Result<String, TranspileError> {
    let allocator = Allocator::default();
    let source_type = SourceType::ts().with_module(true);
    let parsed = Parser::new(&allocator, source, source_type).parse();
    if let Some(error) = parsed.diagnostics.into_iter().next() {
        return Err(diagnostic_error(path, source, error));
    }
    let mut program = parsed.program;
    let semantic = SemanticBuilder::new()
        .with_excess_capacity(2.0)
        .with_enum_eval(true)
        .build(&program);
    let scoping = semantic.semantic.into_scoping();
    let options = TransformOptions::default();
    let transformed =
        Transformer::new(&allocator, path, &options).build_with_scoping(scoping, &mut program);
    if let Some(error) = transformed.diagnostics.into_iter().next() {
        return Err(diagnostic_error(path, source, error));
    }
    let output = Codegen::new()
        .with_options(CodegenOptions::default())
        .build(&program);
    Ok(output.code)
}

fn diagnostic_error(path: &Path, source: &str, error: OxcDiagnostic) -> TranspileError {
    let offset = error
        .labels
        .first()
        .map(|label| label.offset() as usize)
        .unwrap_or(0);
    let (line, column) = line_and_column(source, offset);
    TranspileError {
        path: path.display().to_string(),
        line,
        column,
        message: error.message.to_string(),
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_and_column(source: &str, offset: usize) -> (usize, usize) {
    let before = &source[..offset.min(source.len())];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strip(source: &str) -> String {
        strip_types(Path::new("test.ts"), source).expect("valid TypeScript")
    }

    #[test]
    fn erases_annotations_interfaces_and_generics() {
        let js = strip(
            "interface A { x: number }\ntype B = A | null;\n\
             export function id<T>(value: T): T { return value satisfies T; }\n",
        );
        assert!(!js.contains("interface"), "{js}");
        assert!(!js.contains("satisfies"), "{js}");
        assert!(js.contains("export function id(value)"), "{js}");
    }

    #[test]
    fn generates_code_for_enums_and_parameter_properties() {
        let js = strip(
            "enum Color { Red, Green = 5 }\n\
             class P { constructor(private readonly name: string) {} }\n",
        );
        assert!(js.contains("Color[Color[\"Red\"] = 0]"), "{js}");
        assert!(js.contains("this.name = name"), "{js}");
    }

    #[test]
    fn syntax_error_names_file_line_and_column() {
        let err = strip_types(Path::new("bad.ts"), "let a = 1;\nlet b: = 2;\n").unwrap_err();
        assert_eq!(err.path, "bad.ts");
        assert_eq!(err.line, 2);
        assert!(err.to_string().starts_with("bad.ts:2:"), "{err}");
    }
}
