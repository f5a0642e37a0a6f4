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

/// Formats `text` and checks the usual properties on the way.
#[track_caller]
fn formatted(text: &str) -> String {
    check_formats("t.hyk", text);
    format("t.hyk", text).expect("formats")
}

#[test]
fn long_arithmetic_breaks_before_its_weakest_operator() {
    let text = "fn expected_in(i: indicator, y: year): number = i.baseline.value + (i.target.value - i.baseline.value) * (min(y, i.target.year) - i.baseline.year) / (i.target.year - i.baseline.year)\n";
    assert_eq!(
        formatted(text),
        "fn expected_in(i: indicator, y: year): number =
    i.baseline.value
    + (i.target.value - i.baseline.value)
        * (min(y, i.target.year) - i.baseline.year)
        / (i.target.year - i.baseline.year)
"
    );
    // Inside parentheses, continuation lines are indented one level.
    let text = "fn f(p: project, y: year): bool = (project_lagging_in(p, y) and project_lagging_in(p, y - 1) and any(i in p.indicators where actual(i, y) is not missing)) ?? false\n";
    assert_eq!(
        formatted(text),
        "fn f(p: project, y: year): bool =
    (project_lagging_in(p, y)
        and project_lagging_in(p, y - 1)
        and any(i in p.indicators where actual(i, y) is not missing))
    ?? false
"
    );
}

#[test]
fn long_rule_headers_break_before_where_then_in_the_key() {
    let rule = "{ severity info when true message \"m\" }";
    let text = format!("rule same_name_targets_differ for group indicator by (indicator.name, indicator.target.year) where indicator.link is missing and not retired(indicator) {rule}");
    assert_eq!(
        formatted(&text),
        "rule same_name_targets_differ for group indicator by (indicator.name, indicator.target.year)
    where indicator.link is missing and not retired(indicator)
{
    severity info
    when true
    message \"m\"
}
"
    );
    let text = format!("rule a_rather_long_rule_name for group indicator by (indicator.plan, indicator.target.year, indicator.department) where not retired(indicator) {rule}");
    assert_eq!(
        formatted(&text),
        "rule a_rather_long_rule_name for group indicator by (
    indicator.plan,
    indicator.target.year,
    indicator.department
)
    where not retired(indicator)
{
    severity info
    when true
    message \"m\"
}
"
    );
    let text = format!("rule short for indicator where indicator.monitoring {rule}");
    assert!(formatted(&text).starts_with("rule short for indicator where indicator.monitoring {\n"));
}

#[test]
fn long_branches_move_to_their_own_lines_and_nested_ifs_indent() {
    let text = "fn ratio_of(i: indicator, actual: number): number = if i.direction == decrease then if i.target.value == 0 and actual == 0 then 100% else if i.target.value <= 0 or actual <= 0 then missing else i.target.value / actual else if i.target.value <= 0 or actual < 0 then missing else actual / i.target.value\n";
    assert_eq!(
        formatted(text),
        "fn ratio_of(i: indicator, actual: number): number =
    if i.direction == decrease then
        if i.target.value == 0 and actual == 0 then 100%
        else if i.target.value <= 0 or actual <= 0 then missing
        else i.target.value / actual
    else if i.target.value <= 0 or actual < 0 then missing
    else actual / i.target.value
"
    );
    // A condition that does not fit puts `then` on a line of its own; an
    // `if` inside an expression lines its `else`s up under its `if`.
    let text = "fn f(i: indicator): number = if indicator.baseline.value is not missing and indicator.target.year > indicator.baseline.year then 1 else (if i.direction == increase then i.current_value_of_it >= i.target.value else if i.direction == decrease then 2 else 3) ?? 0\n";
    assert_eq!(
        formatted(text),
        "fn f(i: indicator): number =
    if indicator.baseline.value is not missing
        and indicator.target.year > indicator.baseline.year
    then 1
    else
        (if i.direction == increase then i.current_value_of_it >= i.target.value
         else if i.direction == decrease then 2
         else 3)
        ?? 0
"
    );
}

#[test]
fn long_aggregates_break_before_where_and_arrow() {
    let text = "derive rate for measure: number = avg(i in measure.indicators where i.path_rate is not missing and not i.monitoring => round(capped(i.path_rate), 6))\n";
    assert_eq!(
        formatted(text),
        "derive rate for measure: number =
    avg(i in measure.indicators
        where i.path_rate is not missing and not i.monitoring
        => round(capped(i.path_rate), 6))
"
    );
}

#[test]
fn long_calls_put_one_argument_per_line() {
    let text = "rule r for indicator { severity info when within(indicator.target.value, indicator.baseline.value, indicator.plan.period.from, indicator.plan.period.to) message \"m\" tags [\"a rather long tag\", \"another rather long tag\", \"and a third one\", \"and a few more tags here\"] }";
    assert_eq!(
        formatted(text),
        "rule r for indicator {
    severity info
    when within(
        indicator.target.value,
        indicator.baseline.value,
        indicator.plan.period.from,
        indicator.plan.period.to
    )
    message \"m\"
    tags [
        \"a rather long tag\",
        \"another rather long tag\",
        \"and a third one\",
        \"and a few more tags here\"
    ]
}
"
    );
}

#[test]
fn trailing_comments_stay_on_their_line() {
    let text = "fn gap(i: indicator): number =
    round_to(
        i.target.value - latest(i), // the gap
        i.unit // its unit
    )

fn f(i: indicator): number =
    if i.monitoring then 0 // not graded
    // own line
    else if i.qualitative then 1
    else 2 // the rest
";
    assert_eq!(formatted(text), text);
    // A comment inside goes to the next place where the line may break,
    // which then breaks; with no such place, to the end of the line.
    assert_eq!(
        formatted("param p: number = a. // why\n  b + 1\n"),
        "param p: number =\n    a.b // why\n    + 1\n"
    );
    assert_eq!(
        formatted("param p: number = 1 + a. // why\n  b\n"),
        "param p: number = 1 + a.b // why\n"
    );
}

#[test]
fn short_expressions_stay_on_one_line() {
    for text in [
        "fn capped(r: number): number = if r > 100% then 100% else r\n",
        "derive grade for measure: grade(schedule) = grade(schedule, measure.rate)\n",
        "fn f(i: indicator): number =\n    sum(o in i.actuals where o.value is not missing => o.value) / count(o in i.actuals)\n",
        "rule r for group indicator by (indicator.link, indicator.target.year) where x {\n    severity info\n    when a + b > c * d\n    message \"m\"\n}\n",
    ] {
        assert_eq!(formatted(text), text);
    }
}

/// In the standard packs, only strings and comments make lines too long.
#[test]
fn rule_pack_lines_fit_unless_unbreakable() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rules");
    for path in hyk_files(&root) {
        let text = std::fs::read_to_string(&path).expect("readable");
        let Ok(once) = format(&path.display().to_string(), &text) else {
            continue;
        };
        for line in once.lines() {
            assert!(
                line.chars().count() <= hyoka_dsl::fmt::WIDTH
                    || line.contains('"')
                    || line.contains("//"),
                "{}: {line}",
                path.display()
            );
        }
    }
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
    files.extend(hyk_files(&root.join("../../rules")));
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
