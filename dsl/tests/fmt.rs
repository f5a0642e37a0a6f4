//! The formatter: a fixed point after one pass, the same tree, every comment
//! kept in order; on every fixture and every rule file of the repository.

use std::path::{Path, PathBuf};

use hyoka_dsl::fmt::{format, is_formatted};
use hyoka_dsl::syntax::{comments, parse};

/// Every `.hyk` file under `dir`, recursively, in a stable order.
fn hyk_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "hyk") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn comment_texts(text: &str) -> Vec<String> {
    comments(text)
        .iter()
        .map(|c| c.span.slice(text).trim_end().to_string())
        .collect()
}

/// The properties every formatted file has.
#[track_caller]
fn check_formats(name: &str, text: &str) {
    let Ok(original) = parse(name, text) else {
        // Files with syntax errors are not formatted; the bad fixtures show
        // their errors elsewhere.
        assert!(format(name, text).is_err(), "{name}");
        return;
    };
    let once = format(name, text).unwrap_or_else(|e| panic!("{name}: {e:?}"));
    let twice = format(name, &once).unwrap_or_else(|e| panic!("{name} (formatted): {e:?}\n{once}"));
    assert_eq!(once, twice, "{name}: formatting is not a fixed point");
    assert_eq!(is_formatted(name, &once).ok(), Some(true), "{name}");
    let reparsed = parse(name, &once).unwrap_or_else(|e| panic!("{name}: {e:?}"));
    assert_eq!(
        reparsed, original,
        "{name}: formatting changed the tree\n{once}"
    );
    assert_eq!(
        comment_texts(&once),
        comment_texts(text),
        "{name}: comments changed"
    );
    assert_eq!(
        once.matches("//").count(),
        text.matches("//").count(),
        "{name}: `//` count changed"
    );
    for line in once.lines() {
        assert_eq!(line, line.trim_end(), "{name}: trailing whitespace");
        assert!(!line.contains('\t'), "{name}: tab");
    }
}

#[test]
fn fixtures_format_to_a_fixed_point() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let files = hyk_files(&root);
    assert!(files.len() > 20);
    for path in files {
        let text = std::fs::read_to_string(&path).expect("readable");
        check_formats(&path.display().to_string(), &text);
    }
}

/// The repository's rule packs, whatever they hold when the tests run.
#[test]
fn rule_packs_format_to_a_fixed_point() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules");
    for path in hyk_files(&root) {
        let text = std::fs::read_to_string(&path).expect("readable");
        check_formats(&path.display().to_string(), &text);
    }
}

#[test]
fn messy_file() {
    insta::glob!("fixtures/fmt/*.hyk", |path| {
        let text = std::fs::read_to_string(path).expect("readable");
        let formatted = format("messy.hyk", &text).expect("formats");
        insta::assert_snapshot!(formatted);
    });
}

#[test]
fn long_conditions_break_before_and_and_or() {
    let long_name = "indicator.a_rather_long_field_name_for_testing";
    let text = format!(
        "rule r for indicator {{ severity info when {long_name} > 1 and {long_name} < 2 or {long_name} == 3 message \"m\" }}"
    );
    let formatted = format("t.hyk", &text).expect("formats");
    assert_eq!(
        formatted,
        format!(
            "rule r for indicator {{\n    severity info\n    when {long_name} > 1\n             and {long_name} < 2\n         or {long_name} == 3\n    message \"m\"\n}}\n"
        )
    );
    for line in formatted.lines() {
        assert!(line.chars().count() <= 100, "{line}");
    }
}

#[test]
fn short_conditions_stay_on_one_line() {
    let text = "rule r for indicator {\n    severity info\n    when a\n         and b\n    message \"m\"\n}\n";
    let formatted = format("t.hyk", text).expect("formats");
    assert!(formatted.contains("    when a and b\n"), "{formatted}");
}

#[test]
fn a_comment_between_operands_keeps_the_break() {
    let text = "rule r for indicator {\n    severity info\n    when a // why a\n         and b\n    message \"m\"\n}\n";
    assert_eq!(format("t.hyk", text).expect("formats"), text);
}

#[test]
fn empty_and_comment_only_files() {
    assert_eq!(format("t.hyk", "").expect("formats"), "");
    assert_eq!(format("t.hyk", "\n\n").expect("formats"), "");
    assert_eq!(
        format("t.hyk", "// only\n\n\n// comments  \n").expect("formats"),
        "// only\n\n// comments\n"
    );
}

#[test]
fn syntax_errors_are_returned_not_formatted() {
    let errors = format("t.hyk", "param a: number = 1__0").expect_err("invalid");
    assert_eq!(errors[0].code_str(), "hyoka::syntax::invalid_number");
}

/// Fixtures with comments, blank lines and line breaks inserted at random
/// places: whenever the result still parses, formatting it keeps the tree
/// and the comments and reaches a fixed point.
#[test]
fn random_comments_and_line_breaks() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut files = hyk_files(&root.join("syntax/good"));
    files.extend(hyk_files(&root.join("fmt")));
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let inserts = [" // c\n", "\n", "\n\n", " ", "// x\n", "\n// own\n"];
    let mut checked = 0;
    for path in files {
        let text = std::fs::read_to_string(&path).expect("readable");
        for _ in 0..100 {
            let mut mangled = text.clone();
            for _ in 0..(next() % 4 + 1) {
                let mut at = (next() as usize) % mangled.len().max(1);
                while !mangled.is_char_boundary(at) {
                    at -= 1;
                }
                mangled.insert_str(at, inserts[(next() % inserts.len() as u64) as usize]);
            }
            if parse("mangled.hyk", &mangled).is_ok() {
                check_formats(&format!("{} (mangled)", path.display()), &mangled);
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "only {checked} mangled files parsed");
}
