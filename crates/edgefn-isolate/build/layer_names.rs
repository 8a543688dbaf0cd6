//! What `build.rs` reads from the Web layer's files: the names they declare and use, by a scan
//! that relies on how the files are formatted (a top-level declaration starts at the beginning
//! of a line, and a function spanning lines ends with a `}` line of its own), and the move of
//! the core's chunk-only declarations into the chunks. Also compiled into the crate's tests.

use std::collections::{BTreeMap, BTreeSet};

/// The file of a chunk that holds what [`move_chunk_only_declarations`] moved into it.
const FROM_CORE: &str = "00_from_core.js";

/// Moves each top-level declaration of the core that only chunks use into every chunk that
/// uses it (into its first file, `00_from_core.js`), so that a tenant holds it only once it
/// loads such a chunk, and not from its start through the array of core bindings: a function
/// (`function`, `async function`, `function*`; to the `}` that ends a line of its own, or its
/// first line if that ends with `}`) and a stub that forwards to a chunk (`const name =
/// forwardToChunk(...);` on one line), each with the comment right above it. Repeated until
/// nothing moves, since a function moved may have been the core's only user of another. A
/// function that no chunk uses either stays. Fails if a file breaks the formatting the scan
/// relies on (see [`movable_declarations`]).
///
/// Chunk-only means that no core file names it (also in a comment) outside its declaration.
/// What moves is a function or a stub, not state: what it refers to in the core the chunk takes
/// from the core like its own code. A declaration stays in the core if it refers to a core
/// `let` (the chunk would see a `let` only through a getter for calls), or to a name that a
/// chunk using it, or a chunk that one depends on (`dependencies`: (chunk, the chunk it uses)),
/// declares itself: moved, it would see that chunk's binding instead of the core's.
pub(crate) fn move_chunk_only_declarations(
    core: &mut [(String, String)],
    chunks: &mut [(&str, Vec<(String, String)>)],
    dependencies: &[(&str, &str)],
) -> Result<(), String> {
    // A `let` a moved function assigned or read as a value would be a copy in the chunk.
    let core_lets: BTreeSet<String> = core
        .iter()
        .flat_map(|(_, text)| lets(text))
        .map(str::to_owned)
        .collect();
    loop {
        let mut counts: BTreeMap<&str, usize> = Default::default();
        for word in core.iter().flat_map(|(_, text)| references(text)) {
            *counts.entry(word).or_default() += 1;
        }
        let counts: BTreeMap<String, usize> = counts
            .into_iter()
            .map(|(word, n)| (word.to_owned(), n))
            .collect();
        // Each chunk read once a pass (what moves is appended after it): the names it uses
        // without declaring them, and those it sees declared by itself or by a chunk it
        // depends on, other than those moved in from the core (which are the core's bindings).
        let scans: Vec<(&str, BTreeSet<&str>, BTreeSet<&str>)> = chunks
            .iter()
            .map(|(chunk, files)| {
                let texts = || files.iter().map(|(_, text)| text.as_str());
                let declared: BTreeSet<&str> = texts().flat_map(declarations).collect();
                let used = texts()
                    .flat_map(references)
                    .filter(|word| !declared.contains(word))
                    .collect();
                let seen = chunks
                    .iter()
                    .filter(|(other, _)| other == chunk || dependencies.contains(&(chunk, other)))
                    .flat_map(|(_, files)| files)
                    .filter(|(file, _)| file != FROM_CORE)
                    .flat_map(|(_, text)| declarations(text))
                    .collect();
                (*chunk, used, seen)
            })
            .collect();
        // Each declaration moved, and the chunks (by index) it moves into.
        let mut moved: Vec<(String, Vec<usize>)> = Vec::new();
        for (_, text) in core.iter_mut() {
            // Taken out from the end, so that the spans before stay valid; moved in file order.
            let first = moved.len();
            for (name, span) in movable_declarations(text)?.into_iter().rev() {
                let declaration = &text[span.clone()];
                let referenced: Vec<&str> = references(declaration).collect();
                let own = referenced.iter().filter(|word| **word == name).count();
                let users: Vec<usize> = (0..scans.len())
                    .filter(|&i| scans[i].1.contains(name.as_str()))
                    .collect();
                let shadowed = users.iter().any(|&i| {
                    referenced
                        .iter()
                        .any(|word| *word != name && scans[i].2.contains(word))
                });
                if counts[&name] == own
                    && !referenced.iter().any(|word| core_lets.contains(*word))
                    && !users.is_empty()
                    && !shadowed
                {
                    moved.push((text[span.clone()].to_owned(), users));
                    text.replace_range(span, "");
                }
            }
            moved[first..].reverse();
        }
        if moved.is_empty() {
            return Ok(());
        }
        for (declaration, users) in &moved {
            for &i in users {
                let files = &mut chunks[i].1;
                if files.first().is_none_or(|(file, _)| file != FROM_CORE) {
                    files.insert(0, (FROM_CORE.to_owned(), String::new()));
                }
                files[0].1.push_str(declaration);
            }
        }
    }
}

/// Writes the value of each integer constant of the core (`const NAME = 12;` at the start of a
/// line, the name in capitals, a comment after it allowed) where the core and the chunks use
/// it, and leaves its declaration, which nothing refers to any more. A function that used such
/// a name held a reference to the variable of `init` for its life, in every isolate: the
/// layer's records are arrays indexed by such constants (see `newRequestContext()` in
/// `js/99_internal.js`). A property access (`.NAME`) is not a use, and a string or a comment
/// that names a constant gets its value too. Fails if a chunk declares a name the core's
/// constants have.
pub(crate) fn inline_integer_constants(
    core: &mut [(String, String)],
    chunks: &mut [(&str, Vec<(String, String)>)],
) -> Result<(), String> {
    let mut constants: BTreeMap<String, String> = BTreeMap::new();
    for line in core.iter().flat_map(|(_, text)| text.lines()) {
        if let Some((name, value)) = integer_constant(line) {
            // A negative value in parentheses: `a-NAME` must not become a decrement.
            let value = if value.starts_with('-') {
                format!("({value})")
            } else {
                value.to_owned()
            };
            constants.insert(name.to_owned(), value);
        }
    }
    for (chunk, files) in chunks.iter() {
        let declared = files.iter().flat_map(|(_, text)| declarations(text));
        if let Some(name) = declared
            .into_iter()
            .find(|name| constants.contains_key(*name))
        {
            return Err(format!(
                "the chunk {chunk} declares {name}, an integer constant of the core"
            ));
        }
    }
    let files = core
        .iter_mut()
        .chain(chunks.iter_mut().flat_map(|(_, files)| files.iter_mut()));
    for (_, text) in files {
        let mut inlined = String::with_capacity(text.len());
        for line in text.split_inclusive('\n') {
            if integer_constant(line).is_some() {
                inlined.push_str(line);
                continue;
            }
            let mut copied = 0;
            for word in references(line) {
                if let Some(value) = constants.get(word) {
                    let start = word.as_ptr() as usize - line.as_ptr() as usize;
                    inlined.push_str(&line[copied..start]);
                    inlined.push_str(value);
                    copied = start + word.len();
                }
            }
            inlined.push_str(&line[copied..]);
        }
        *text = inlined;
    }
    Ok(())
}

/// The name and the value of the integer constant `line` declares, if it declares one as
/// [`inline_integer_constants`] takes it.
fn integer_constant(line: &str) -> Option<(&str, &str)> {
    let ("const ", name) = declared(line)? else {
        return None;
    };
    if !name
        .chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
    {
        return None;
    }
    let rest = line["const ".len() + name.len()..].strip_prefix(" = ")?;
    let (value, after) = rest.split_once(';')?;
    let digits = value.strip_prefix('-').unwrap_or(value);
    let after = after.trim();
    (!digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit())
        && (after.is_empty() || after.starts_with("//")))
    .then_some((name, value))
}

/// The functions and chunk stubs declared at the top level of a core file that
/// [`move_chunk_only_declarations`] may move: each name with the span of its text (the
/// comment right above it included), in the order of the file. Fails if a span declares
/// another name too: a function that does not end as the scan expects.
fn movable_declarations(text: &str) -> Result<Vec<(String, std::ops::Range<usize>)>, String> {
    let mut found = Vec::new();
    // The start of the comment lines right above the current line, if any.
    let mut comment_start: Option<usize> = None;
    // A function being read: its name and the start of its span.
    let mut open: Option<(String, usize)> = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let bare = line.trim_end();
        if let Some((name, span_start)) = &open {
            if bare == "}" {
                found.push((name.clone(), *span_start..offset));
                open = None;
            }
            continue;
        }
        let span_start = comment_start.take().unwrap_or(start);
        if bare.starts_with("//") {
            comment_start = Some(span_start);
            continue;
        }
        if let Some(("function* " | "function ", name)) = declared(bare) {
            // A function on one line (`function noop() {}`) ends there.
            match bare.ends_with('}') {
                true => found.push((name.to_owned(), span_start..offset)),
                false => open = Some((name.to_owned(), span_start)),
            }
        } else if let Some(rest) = bare.strip_prefix("const ")
            && let Some(name) = identifiers(rest).next()
            && rest.starts_with(&format!("{name} = forwardToChunk("))
            && rest.ends_with(");")
        {
            found.push((name.to_owned(), span_start..offset));
        }
    }
    for (name, span) in &found {
        let names: Vec<&str> = declarations(&text[span.clone()]).collect();
        if names != [name.as_str()] {
            return Err(format!(
                "the span read for the top-level `{name}` declares {names:?}: a function must \
                 end with a line `}}` of its own, or on its first line with `}}`"
            ));
        }
    }
    Ok(found)
}

/// The keyword and the name of the top-level declaration `line` starts, if it starts one (an
/// `async function` as a `function`): the layer's files are formatted so that exactly those
/// declarations start at the beginning of a line.
fn declared(line: &str) -> Option<(&'static str, &str)> {
    let line = line.strip_prefix("async ").unwrap_or(line);
    let (keyword, rest) = ["function* ", "function ", "const ", "let ", "class "]
        .iter()
        .find_map(|keyword| Some((*keyword, line.strip_prefix(keyword)?)))?;
    let name = identifiers(rest).next()?;
    rest.starts_with(name).then_some((keyword, name))
}

/// The names declared at the top level of a file.
pub(crate) fn declarations(text: &str) -> impl Iterator<Item = &str> {
    text.lines().filter_map(|line| Some(declared(line)?.1))
}

/// The names a file declares with `let` at its top level.
pub(crate) fn lets(text: &str) -> impl Iterator<Item = &str> {
    text.lines().filter_map(|line| match declared(line)? {
        ("let ", name) => Some(name),
        _ => None,
    })
}

/// The identifier-like words of `text` that are not a property access (`.name`; a spread,
/// `...name`, is a reference).
pub(crate) fn references(text: &str) -> impl Iterator<Item = &str> {
    identifiers(text).filter(move |word| {
        // `word` is a sub-slice of `text`, so this is its offset.
        let before = &text[..word.as_ptr() as usize - text.as_ptr() as usize];
        !before.ends_with('.') || before.ends_with("...")
    })
}

/// Every identifier-like word of `text` (also inside strings and comments, which only adds
/// names that need not be passed).
pub(crate) fn identifiers(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '$'))
        .filter(|word| word.chars().next().is_some_and(|c| !c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A folder's files: each name with its text.
    type Files = Vec<(String, String)>;

    fn file(name: &str, text: &str) -> (String, String) {
        (name.to_owned(), text.to_owned())
    }

    /// The core's files and the chunks' after the move, each file's text by name.
    fn moved<'a>(
        core: &[(&str, &str)],
        chunks: &[(&'a str, &[(&str, &str)])],
    ) -> (Files, Vec<(&'a str, Files)>) {
        let mut core: Vec<_> = core.iter().map(|(n, t)| file(n, t)).collect();
        let mut chunks: Vec<_> = chunks
            .iter()
            .map(|(chunk, files)| (*chunk, files.iter().map(|(n, t)| file(n, t)).collect()))
            .collect();
        move_chunk_only_declarations(&mut core, &mut chunks, &[("two", "one")])
            .expect("the files are formatted as the scan expects");
        (core, chunks)
    }

    #[test]
    fn the_cores_integer_constants_are_written_as_their_values_where_they_are_used() {
        let mut core = vec![file(
            "01_a.js",
            "const A_B = 3; // the third\n\
             const NEG = -1;\n\
             const NAME = \"x\";\n\
             const lower = 2;\n\
             const SUM = 1 + 2;\n\
             function f(r) {\n  r[A_B] = r.A_B - NEG + lower + SUM;\n  return r[A_B]-NEG;\n}\n",
        )];
        let mut chunks = vec![(
            "one",
            vec![file("10_b.js", "function g(r) {\n  return r[A_B];\n}\n")],
        )];
        inline_integer_constants(&mut core, &mut chunks).expect("no chunk declares A_B or NEG");
        assert_eq!(
            core[0].1,
            "const A_B = 3; // the third\n\
             const NEG = -1;\n\
             const NAME = \"x\";\n\
             const lower = 2;\n\
             const SUM = 1 + 2;\n\
             function f(r) {\n  r[3] = r.A_B - (-1) + lower + SUM;\n  return r[3]-(-1);\n}\n"
        );
        assert_eq!(chunks[0].1[0].1, "function g(r) {\n  return r[3];\n}\n");

        let mut shadowing = vec![("two", vec![file("10_c.js", "const NEG = 1;\n")])];
        assert_eq!(
            inline_integer_constants(&mut core, &mut shadowing),
            Err("the chunk two declares NEG, an integer constant of the core".to_owned())
        );
    }

    #[test]
    fn a_function_only_chunks_use_moves_with_its_comment_into_each_chunk_that_uses_it() {
        let core = "function noop() {}\n\
                    // Doubles.\n\
                    // Twice.\n\
                    function twice(x) {\n  return x * 2;\n}\n\
                    function used() {\n  return noop();\n}\n\
                    used();\n";
        let (core, chunks) = moved(
            &[("01_a.js", core)],
            &[
                ("one", &[("a.js", "twice(1);\n")]),
                ("two", &[("b.js", "const y = twice(2);\n")]),
                ("three", &[("c.js", "used();\n")]),
            ],
        );
        assert_eq!(
            core[0].1,
            "function noop() {}\nfunction used() {\n  return noop();\n}\nused();\n"
        );
        let moved = "// Doubles.\n// Twice.\nfunction twice(x) {\n  return x * 2;\n}\n";
        assert_eq!(
            chunks[0].1,
            [file("00_from_core.js", moved), file("a.js", "twice(1);\n")]
        );
        assert_eq!(chunks[1].1[0], file("00_from_core.js", moved));
        assert_eq!(chunks[2].1, [file("c.js", "used();\n")]);
    }

    #[test]
    fn a_one_line_function_is_a_declaration_of_its_own() {
        let core = "function noop() {}\nfunction helper() {\n  return 1;\n}\nnoop();\n";
        let (core, chunks) = moved(&[("01_a.js", core)], &[("one", &[("a.js", "helper();\n")])]);
        assert_eq!(core[0].1, "function noop() {}\nnoop();\n");
        assert_eq!(chunks[0].1[0].1, "function helper() {\n  return 1;\n}\n");
    }

    #[test]
    fn a_function_the_core_names_elsewhere_stays_also_in_a_comment() {
        let core = "function a() {\n  return 1;\n}\n\
                    function b() {\n  return 2;\n}\n\
                    // b() is for the chunks.\n\
                    a();\n";
        let (core, chunks) = moved(&[("01_a.js", core)], &[("one", &[("a.js", "a(); b();\n")])]);
        assert!(core[0].1.contains("function a()"), "{}", core[0].1);
        assert!(core[0].1.contains("function b()"), "{}", core[0].1);
        assert_eq!(chunks[0].1.len(), 1);
    }

    #[test]
    fn a_function_that_refers_to_a_core_let_stays() {
        let core = "let nextId = 1;\nfunction newId() {\n  return nextId++;\n}\n";
        let (core, chunks) = moved(&[("01_a.js", core)], &[("one", &[("a.js", "newId();\n")])]);
        assert!(core[0].1.contains("function newId()"), "{}", core[0].1);
        assert_eq!(chunks[0].1.len(), 1);
    }

    #[test]
    fn a_function_only_a_moved_function_used_moves_after_it() {
        let core = "function inner() {\n  return 1;\n}\n\
                    function outer() {\n  return inner();\n}\n";
        let (core, chunks) = moved(&[("01_a.js", core)], &[("one", &[("a.js", "outer();\n")])]);
        assert_eq!(core[0].1, "");
        let from_core = &chunks[0].1[0].1;
        assert!(from_core.contains("function outer()"), "{from_core}");
        assert!(from_core.contains("function inner()"), "{from_core}");
    }

    #[test]
    fn a_chunk_stub_moves_and_other_constants_stay() {
        let core = "const format = forwardToChunk(\"console\", \"format\");\n\
                    const limit = 3;\n\
                    function forwardToChunk(chunk, name) {\n  return [chunk, name];\n}\n\
                    forwardToChunk(\"x\", \"y\");\n";
        let (core, chunks) = moved(
            &[("01_a.js", core)],
            &[("one", &[("a.js", "format(limit);\n")])],
        );
        assert!(!core[0].1.contains("const format"), "{}", core[0].1);
        assert!(core[0].1.contains("const limit = 3;"), "{}", core[0].1);
        assert_eq!(
            chunks[0].1[0].1,
            "const format = forwardToChunk(\"console\", \"format\");\n"
        );
    }

    #[test]
    fn a_function_that_refers_to_a_name_a_user_or_its_dependency_declares_stays() {
        let core = "function state() {\n  return 1;\n}\n\
                    function helper() {\n  return state();\n}\n\
                    function other() {\n  return state();\n}\n";
        let (core, chunks) = moved(
            &[("01_a.js", core)],
            &[
                (
                    "one",
                    &[("a.js", "function state() {\n  return 2;\n}\nhelper();\n")],
                ),
                ("two", &[("b.js", "other();\n")]),
            ],
        );
        // `helper` would call chunk one's `state`, and `other` the `state` of chunk one, which
        // chunk two depends on.
        assert!(core[0].1.contains("function helper()"), "{}", core[0].1);
        assert!(core[0].1.contains("function other()"), "{}", core[0].1);
        assert_eq!(chunks[1].1.len(), 1);
    }

    #[test]
    fn a_function_line_that_does_not_end_the_function_is_refused() {
        let error = movable_declarations(
            "function noop() {} // nothing\nfunction next() {\n  return 1;\n}\n",
        )
        .unwrap_err();
        assert!(error.contains(r#"declares ["noop", "next"]"#), "{error}");
    }

    #[test]
    fn a_function_no_chunk_uses_and_a_name_a_chunk_declares_itself_stay() {
        let core = "function unused() {\n  return 1;\n}\nfunction shadowed() {\n  return 2;\n}\n";
        let (core, chunks) = moved(
            &[("01_a.js", core)],
            &[(
                "one",
                &[(
                    "a.js",
                    "function shadowed() {\n  return 3;\n}\nshadowed();\n",
                )],
            )],
        );
        assert_eq!(
            core[0].1,
            "function unused() {\n  return 1;\n}\nfunction shadowed() {\n  return 2;\n}\n"
        );
        assert_eq!(chunks[0].1.len(), 1);
    }
}
