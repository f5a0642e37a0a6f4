//! The parser, from the outside: the syntax tree of every good fixture and
//! the rendered diagnostics of every bad one are snapshots; the properties
//! below (spans, limits, no panics) hold for any input.

use std::path::Path;
use std::time::Instant;

use hyoka_dsl::ast::{Clause, Expr, ExprKind, File, ItemKind, ScaleEntryKind, Scope, TemplatePart};
use hyoka_dsl::syntax::{parse, parse_expr};
use hyoka_dsl::syntax_error::SyntaxError;
use miette::{GraphicalReportHandler, GraphicalTheme};

/// Diagnostics as a terminal without colour shows them, 100 columns wide.
fn render(errors: &[SyntaxError]) -> String {
    let handler =
        GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor()).with_width(100);
    let mut out = String::new();
    for error in errors {
        handler
            .render_report(&mut out, error)
            .expect("rendering to a string cannot fail");
    }
    out
}

/// `fixtures/syntax/good/x.hyk` → `good/x.hyk`, so snapshots do not depend
/// on where the repository lives.
fn source_name(path: &Path) -> String {
    let dir = path
        .parent()
        .and_then(Path::file_name)
        .map(|d| d.to_string_lossy().into_owned())
        .unwrap_or_default();
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!("{dir}/{file}")
}

fn parse_ok(text: &str) -> File {
    match parse("test.hyk", text) {
        Ok(file) => file,
        Err(errors) => panic!("unexpected syntax errors:\n{}", render(&errors)),
    }
}

fn codes(text: &str) -> Vec<&'static str> {
    match parse("test.hyk", text) {
        Ok(_) => Vec::new(),
        Err(errors) => errors.iter().map(SyntaxError::code_str).collect(),
    }
}

/// `text` parses as an expression that displays as `expected`.
#[track_caller]
fn expr(text: &str, expected: &str) {
    match parse_expr("expr", text) {
        Ok(e) => assert_eq!(e.to_string(), expected, "parsing `{text}`"),
        Err(errors) => panic!("`{text}` does not parse:\n{}", render(&errors)),
    }
}

/// `text` fails to parse as an expression with the error code `code`.
#[track_caller]
fn expr_error(text: &str, code: &str) {
    match parse_expr("expr", text) {
        Ok(e) => panic!("`{text}` parsed as {e}"),
        Err(errors) => assert_eq!(errors[0].code_str(), code, "{}", render(&errors)),
    }
}

// ---------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------

#[test]
fn good_fixtures() {
    insta::glob!("fixtures/syntax/good/*.hyk", |path| {
        let text = std::fs::read_to_string(path).expect("fixture is readable");
        match parse(&source_name(path), &text) {
            Ok(file) => insta::assert_snapshot!(file.to_string()),
            Err(errors) => panic!("{}", render(&errors)),
        }
    });
}

#[test]
fn bad_fixtures() {
    insta::glob!("fixtures/syntax/bad/*.hyk", |path| {
        let text = std::fs::read_to_string(path).expect("fixture is readable");
        match parse(&source_name(path), &text) {
            Ok(file) => panic!("{} parsed:\n{file}", path.display()),
            Err(errors) => insta::assert_snapshot!(render(&errors)),
        }
    });
}

// ---------------------------------------------------------------------------
// Spans
// ---------------------------------------------------------------------------

fn all_exprs(file: &File) -> Vec<&Expr> {
    fn walk<'a>(e: &'a Expr, out: &mut Vec<&'a Expr>) {
        out.push(e);
        match &e.node {
            ExprKind::Number(_) | ExprKind::Bool(_) | ExprKind::Missing | ExprKind::Name(_) => {}
            ExprKind::String(t) => t.interpolations().for_each(|i| walk(i, out)),
            ExprKind::Field { base, .. } => walk(base, out),
            ExprKind::Call { args, .. } | ExprKind::List(args) | ExprKind::Tuple(args) => {
                args.iter().for_each(|a| walk(a, out))
            }
            ExprKind::Aggregate(a) => {
                walk(&a.collection, out);
                a.filter.iter().chain(&a.map).for_each(|x| walk(x, out));
            }
            ExprKind::Unary { operand, .. } | ExprKind::IsMissing { operand, .. } => {
                walk(operand, out)
            }
            ExprKind::Binary { lhs, rhs, .. } => {
                walk(lhs, out);
                walk(rhs, out);
            }
            ExprKind::If {
                cond,
                then,
                otherwise,
            } => {
                walk(cond, out);
                walk(then, out);
                walk(otherwise, out);
            }
            ExprKind::Paren(inner) => walk(inner, out),
        }
    }
    let mut out = Vec::new();
    for item in &file.items {
        match &item.kind {
            ItemKind::Param(p) => walk(&p.default, &mut out),
            ItemKind::Fn(f) => walk(&f.body, &mut out),
            ItemKind::Derive(d) => walk(&d.body, &mut out),
            ItemKind::Scale(s) => {
                for entry in &s.entries {
                    if let ScaleEntryKind::Band(b) = &entry.kind {
                        b.lo.iter().chain(&b.hi).for_each(|x| walk(x, &mut out));
                    }
                }
            }
            ItemKind::Rule(r) => {
                if let Scope::Group { key, .. } = &r.scope.node {
                    walk(key, &mut out);
                }
                r.filter.iter().for_each(|x| walk(x, &mut out));
                for clause in &r.clauses {
                    match &clause.node {
                        Clause::When(e) | Clause::Suggest(e) => walk(e, &mut out),
                        Clause::Title(s)
                        | Clause::Message(s)
                        | Clause::Help(s)
                        | Clause::Rationale(s)
                        | Clause::Reference(s) => {
                            for part in &s.parts {
                                if let TemplatePart::Interp(e) = part {
                                    walk(e, &mut out);
                                }
                            }
                        }
                        Clause::Severity(_) | Clause::Tags(_) => {}
                    }
                }
            }
        }
    }
    out
}

/// Every expression's span covers exactly its text: re-parsing the text
/// under the span gives the same expression.
#[test]
fn expression_spans_cover_their_text() {
    insta::glob!("fixtures/syntax/good/*.hyk", |path| {
        let text = std::fs::read_to_string(path).expect("fixture is readable");
        let file = parse_ok(&text);
        for e in all_exprs(&file) {
            let slice = e.span.slice(&text);
            match parse_expr("slice", slice) {
                Ok(again) => assert_eq!(
                    &again,
                    e,
                    "span {} of {}: `{slice}`",
                    e.span,
                    path.display()
                ),
                Err(errors) => panic!("`{slice}` at {}:\n{}", e.span, render(&errors)),
            }
        }
    });
}

#[test]
fn declaration_and_clause_spans() {
    let text = "/// doc\nparam a: number = 1   // c\n\nrule r for indicator {\n    severity info\n    when a\n    message \"m\"\n}\n";
    let file = parse_ok(text);
    let param = &file.items[0];
    assert_eq!(param.span.slice(text), "param a: number = 1");
    assert_eq!(
        param.doc.as_ref().map(|d| d.span.slice(text)),
        Some("/// doc")
    );
    assert_eq!(param.name().span.slice(text), "a");
    let rule = &file.items[1];
    assert!(rule.span.slice(text).starts_with("rule r") && rule.span.slice(text).ends_with('}'));
    let ItemKind::Rule(r) = &rule.kind else {
        panic!("not a rule")
    };
    let clauses: Vec<&str> = r.clauses.iter().map(|c| c.span.slice(text)).collect();
    assert_eq!(clauses, ["severity info", "when a", "message \"m\""]);
}

// ---------------------------------------------------------------------------
// One grammar rule at a time
// ---------------------------------------------------------------------------

#[test]
fn literals() {
    expr("261", "261");
    expr("61.4", "61.4");
    expr("1_000", "1_000");
    expr("90%", "90%");
    expr("0.5%", "0.5%");
    expr("-490", "(- 490)");
    expr("true", "true");
    expr("false", "false");
    expr("missing", "missing");
    expr(r#""a\"b""#, r#""a\"b""#);
    expr(r#""{x}{{y}}""#, r#""{x}{{y}}""#);
    expr_error("1__0", "hyoka::syntax::invalid_number");
    expr_error("1_", "hyoka::syntax::invalid_number");
    expr_error("1.5.3", "hyoka::syntax::invalid_number");
    expr_error("12abc", "hyoka::syntax::invalid_number");
    expr_error(r#""a\qb""#, "hyoka::syntax::invalid_escape");
    expr_error(r#""\u{110000}""#, "hyoka::syntax::invalid_escape");
    expr_error("\"abc", "hyoka::syntax::unterminated_string");
    expr_error("\"{a\"", "hyoka::syntax::unclosed_interpolation");
    expr_error("\"{ }\"", "hyoka::syntax::empty_interpolation");
    expr_error("\"}\"", "hyoka::syntax::unmatched_brace");
}

#[test]
fn numbers_keep_their_text() {
    let e = parse_expr("n", "1_000.5%").expect("parses");
    let ExprKind::Number(n) = &e.node else {
        panic!("not a number")
    };
    assert_eq!(n.text, "1_000.5%");
    assert!(n.is_percent);
    assert_eq!(n.digits(), "1000.5");
}

#[test]
fn names_and_fields() {
    expr("未算出", "未算出");
    expr("_x1", "_x1");
    expr("indicator.target.value", "indicator.target.value");
    expr("x.state", "x.state");
    expr("a . b", "a.b");
    expr_error("if", "hyoka::syntax::unexpected_token");
    expr_error("x.", "hyoka::syntax::unexpected_token");
    expr_error("◎", "hyoka::syntax::unexpected_character");
}

#[test]
fn operators_and_precedence() {
    expr("a or b or c", "(or (or a b) c)");
    expr("a or b and c", "(or a (and b c))");
    expr("not a and b", "(and (not a) b)");
    expr("not a == b", "(not (== a b))");
    expr("a == b + c * d", "(== a (+ b (* c d)))");
    expr("a - b - c", "(- (- a b) c)");
    expr("-a.b", "(- a.b)");
    expr("x ?? y + 1", "(?? x (+ y 1))");
    expr("x ?? y ?? z", "(?? (?? x y) z)");
    expr("x + 1 is missing", "(is-missing (+ x 1))");
    expr("x is not missing and y", "(and (is-not-missing x) y)");
    expr("a in [1, 2]", "(in a [1, 2])");
    expr("a not in b", "(not in a b)");
    expr("a != b", "(!= a b)");
    expr("a <= b", "(<= a b)");
    expr("a >= b", "(>= a b)");
    expr("(a < b) == c", "(== (paren (< a b)) c)");
    expr_error("a < b < c", "hyoka::syntax::chained_comparison");
    expr_error("a == b in c", "hyoka::syntax::chained_comparison");
    expr_error("a = b", "hyoka::syntax::unexpected_token");
    expr_error("a && b", "hyoka::syntax::unexpected_token");
    expr_error("a is 3", "hyoka::syntax::unexpected_token");
}

#[test]
fn if_expressions() {
    expr("if a then b else c", "(if a b c)");
    expr("if a then b else if c then d else e", "(if a b (if c d e))");
    expr("if a then b else c + 1", "(if a b (+ c 1))");
    expr_error("if a then b", "hyoka::syntax::unexpected_token");
    expr_error("if a b else c", "hyoka::syntax::unexpected_token");
}

#[test]
fn calls_and_aggregates() {
    expr("f()", "f()");
    expr("round(x, 1)", "round(x, 1)");
    expr("f(a, b,)", "f(a, b)");
    expr("count(i in xs)", "count(i in xs)");
    expr(
        "avg(i in xs where i.ok => i.rate)",
        "avg(i in xs where i.ok => i.rate)",
    );
    expr("sum(i in xs => i.v + 1)", "sum(i in xs => (+ i.v 1))");
    expr("min(a, b)", "min(a, b)");
    expr("f((x in xs))", "f((paren (in x xs)))");
    expr_error("cnt(i in xs)", "hyoka::syntax::unknown_aggregate");
    expr_error("count(i in xs, 1)", "hyoka::syntax::unexpected_token");
    expr_error("count(i in xs", "hyoka::syntax::unclosed_delimiter");
    expr_error("a.b(c)", "hyoka::syntax::unexpected_token");
}

#[test]
fn lists_tuples_and_parentheses() {
    expr("[]", "[]");
    expr("[1, 2,]", "[1, 2]");
    expr("(a)", "(paren a)");
    expr("(a, b)", "(tuple a b)");
    expr("(a,)", "(tuple a)");
    expr_error("()", "hyoka::syntax::unexpected_token");
    expr_error("[1, 2)", "hyoka::syntax::unexpected_delimiter");
    expr_error("a)", "hyoka::syntax::unexpected_delimiter");
}

#[test]
fn declarations() {
    let file = parse_ok(
        "param a: number = 1\nfn f(x: number): number = x\nderive d for indicator: list(number) = []\n",
    );
    assert_eq!(file.items.len(), 3);
    assert_eq!(
        file.items[2].to_string(),
        "derive d for indicator: list(number) = []\n"
    );
    assert_eq!(
        codes("param a number = 1"),
        ["hyoka::syntax::unexpected_token"]
    );
    assert_eq!(
        codes("param a: number"),
        ["hyoka::syntax::unexpected_token"]
    );
    assert_eq!(
        codes("fn f(x): number = x"),
        ["hyoka::syntax::unexpected_token"]
    );
    assert_eq!(
        codes("param for: number = 1"),
        ["hyoka::syntax::reserved_word"]
    );
    assert_eq!(
        codes("derive for indicator: number = 1"),
        ["hyoka::syntax::reserved_word"]
    );
}

#[test]
fn doc_comments() {
    let file = parse_ok("/// one\n///\n///   three\nparam a: number = 1\n//// banner\n");
    assert_eq!(
        file.items[0].doc.as_ref().map(|d| d.node.as_str()),
        Some("one\n\n  three")
    );
    assert_eq!(
        codes("param a: number = 1\n/// dangling\n"),
        ["hyoka::syntax::misplaced_doc_comment"]
    );
}

#[test]
fn scales() {
    let file =
        parse_ok("scale s {\n A = 1 ..\n B = .. 1\n C = 0 ..= 1\n D = missing\n E = state\n}\n");
    assert_eq!(
        file.to_string(),
        "scale s\n    A = 1 ..\n    B = .. 1\n    C = 0 ..= 1\n    D = missing\n    E = state\n"
    );
    assert_eq!(codes("scale s { A = .. }"), ["hyoka::syntax::invalid_band"]);
    assert_eq!(
        codes("scale s { A = 1 ..= }"),
        ["hyoka::syntax::invalid_band"]
    );
    assert_eq!(codes("scale s { }"), ["hyoka::syntax::empty_scale"]);
    assert_eq!(
        codes("scale s { \"{x}\" = 1 .. }"),
        ["hyoka::syntax::invalid_label"]
    );
    assert_eq!(
        codes("scale s { A == 1 .. }"),
        ["hyoka::syntax::unexpected_token"]
    );
}

#[test]
fn rules() {
    let ok = "rule r for indicator { severity info when true message \"m\" }";
    assert_eq!(codes(ok), Vec::<&str>::new());
    assert_eq!(
        codes("rule r for indicator { }"),
        ["hyoka::syntax::empty_rule"]
    );
    assert_eq!(
        codes("rule r for indicator { severity info }"),
        [
            "hyoka::syntax::missing_clause",
            "hyoka::syntax::missing_clause"
        ]
    );
    assert_eq!(
        codes("rule r for indicator { severity fatal when true message \"m\" }"),
        ["hyoka::syntax::invalid_severity"]
    );
    assert_eq!(
        codes("rule r for indicator { severity info when true when false message \"m\" }"),
        ["hyoka::syntax::duplicate_clause"]
    );
    assert_eq!(
        codes("rule r for group indicator { severity info when true message \"m\" }"),
        ["hyoka::syntax::unexpected_token"]
    );
}

// ---------------------------------------------------------------------------
// Recovery, limits, robustness
// ---------------------------------------------------------------------------

#[test]
fn one_error_per_broken_declaration() {
    let text = "rule a for indicator {\n severity warn\n when true\n message \"a\"\n}\n\
                param b: number = \n\
                rule c for indicator {\n severty info\n when true\n message \"c\"\n}\n\
                param ok: number = 1\n\
                scale d {\n A = ..\n}\n";
    assert_eq!(
        codes(text),
        [
            "hyoka::syntax::invalid_severity",
            "hyoka::syntax::unexpected_token",
            "hyoka::syntax::unknown_keyword",
            "hyoka::syntax::invalid_band",
        ]
    );
}

#[test]
fn errors_name_the_file_line_and_column() {
    let errors = parse(
        "rules/x.hyk",
        "param a: number = 1\nparam b: number = 2__0\n",
    )
    .expect_err("invalid number");
    assert_eq!(errors[0].source_name(), "rules/x.hyk");
    assert_eq!(errors[0].line_col(), (2, 19));
    assert!(render(&errors).contains("rules/x.hyk:2:19"));
}

/// Nesting 10,000 deep in every way the grammar allows is an error, not a
/// stack overflow (tests run on 2 MiB threads in debug builds).
#[test]
fn deep_nesting_is_refused() {
    let n = 10_000;
    let cases = [
        format!("{}1{}", "(".repeat(n), ")".repeat(n)),
        format!("{}1{}", "[".repeat(n), "]".repeat(n)),
        format!("{}true", "not ".repeat(n)),
        format!("{}1", "-".repeat(n)),
        format!("{}1", "- ".repeat(n)),
        format!("{}1{}", "f(".repeat(n), ")".repeat(n)),
        format!("{}x{}", "count(i in ".repeat(n), ")".repeat(n)),
        format!("{}1", "if a then b else ".repeat(n)),
        format!("{}1{}", "if a then ".repeat(n), " else b".repeat(n)),
        format!("{}1", "if a <= b then 1 else ".repeat(n)),
        format!("{}x{}", "\"{".repeat(n), "}\"".repeat(n)),
        format!("a{}", " + a".repeat(n)),
        format!("a{}", " or a".repeat(n)),
        format!("a{}", ".b".repeat(n)),
        format!("a{}", " is missing".repeat(n)),
        format!("a{}", " ?? a".repeat(n)),
    ];
    for case in &cases {
        let head: String = case.chars().take(30).collect();
        for text in [
            format!("param p: number = {case}\n"),
            format!("rule r for x {{ severity info when {case} message \"m\" }}"),
        ] {
            let errors = parse("deep.hyk", &text).expect_err(&head);
            assert_eq!(errors.len(), 1, "{head}: {errors:?}");
            assert_eq!(errors[0].code_str(), "hyoka::syntax::too_deep", "{head}");
            assert!(errors[0]
                .to_string()
                .starts_with("expression nested deeper than"));
        }
        let errors = parse_expr("deep", case).expect_err(&head);
        assert_eq!(errors[0].code_str(), "hyoka::syntax::too_deep", "{head}");
    }
}

#[test]
fn nesting_up_to_the_limit_is_fine() {
    let n = 60;
    parse_ok(&format!(
        "param p: number = {}1{}\n",
        "(".repeat(n),
        ")".repeat(n)
    ));
    parse_ok(&format!("param p: bool = {}true\n", "not ".repeat(n)));
}

#[test]
fn oversized_input_is_refused() {
    let text = format!("param a: number = 1\n{}", " ".repeat(16 * 1024 * 1024));
    let errors = parse("big.hyk", &text).expect_err("too large");
    assert_eq!(errors[0].code_str(), "hyoka::syntax::too_large");
}

/// A 100,000-line file of small rules parses with no stack overflow.
#[test]
fn a_hundred_thousand_lines() {
    // Seven lines per rule.
    let rules = 100_000 / 7 + 1;
    let mut text = String::new();
    for n in 0..rules {
        text.push_str(&format!(
            "/// Rule {n}.\nrule r{n} for indicator {{\n    severity warning\n    when indicator.rate < {}% and not indicator.monitoring\n    message \"{{indicator.name}}: {{indicator.rate}}\"\n}}\n\n",
            n % 100
        ));
    }
    assert!(text.lines().count() >= 100_000);
    let started = Instant::now();
    let file = parse_ok(&text);
    assert_eq!(file.items.len(), rules);
    // Printed for whoever runs the test; speed itself is a benchmark's job.
    eprintln!(
        "{} lines, {} rules parsed in {:?}",
        text.lines().count(),
        rules,
        started.elapsed()
    );
}

/// Every prefix of every fixture (the shapes a file has while being typed)
/// parses or fails cleanly, and so does formatting it.
#[test]
fn no_panic_on_any_prefix() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut texts = Vec::new();
    for sub in ["syntax/good", "syntax/bad", "fmt"] {
        for entry in std::fs::read_dir(dir.join(sub))
            .expect("fixture dir")
            .flatten()
        {
            if entry.path().extension().is_some_and(|e| e == "hyk") {
                texts.push(std::fs::read_to_string(entry.path()).expect("readable"));
            }
        }
    }
    let mut runs = 0;
    for text in &texts {
        // Every character boundary of small files; of bigger ones, every
        // boundary in the first 200 bytes and every 7th after (debug builds).
        let boundaries: Vec<usize> = (0..=text.len())
            .filter(|i| text.is_char_boundary(*i))
            .enumerate()
            .filter(|(n, i)| text.len() < 600 || *i < 200 || n % 7 == 0 || *i == text.len())
            .map(|(_, i)| i)
            .collect();
        for end in boundaries {
            let prefix = &text[..end];
            let _ = hyoka_dsl::fmt::format("prefix.hyk", prefix);
            runs += 1;
        }
    }
    assert!(runs > 1000);
}

/// Mangled files (a character dropped, doubled or swapped) never panic.
#[test]
fn no_panic_on_mangled_input() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/syntax/good");
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for entry in std::fs::read_dir(dir).expect("fixture dir").flatten() {
        let text = std::fs::read_to_string(entry.path()).expect("readable");
        let chars: Vec<char> = text.chars().collect();
        for _ in 0..60 {
            let mut mangled = chars.clone();
            let at = (next() as usize) % mangled.len().max(1);
            match next() % 4 {
                0 => {
                    mangled.remove(at);
                }
                1 => mangled.insert(at, mangled[at]),
                2 if at + 1 < mangled.len() => mangled.swap(at, at + 1),
                _ => mangled.insert(
                    at,
                    ['(', '"', '{', '/', '\\', '.', '0', '÷'][(next() % 8) as usize],
                ),
            }
            let mangled: String = mangled.into_iter().collect();
            let _ = hyoka_dsl::fmt::format("mangled.hyk", &mangled);
        }
    }
}
