//! `hyoka test` itself, on the small pack of `tests/ruletest/`: a suite
//! that passes with full coverage, cases that fail each in their own way
//! (wrong values, a missing and an unexpected finding, names that do not
//! exist) with the messages snapshotted, and coverage that reports the
//! bands, rule outcomes and values no case exercised.
//!
//! Paths are relative to the package root (the working directory of
//! `cargo test`), so the snapshots are the same on every machine.

use std::process::{Command, Output};

fn hyoka(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hyoka"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the hyoka binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn a_passing_suite_exits_0_with_full_coverage() {
    let out = hyoka(&[
        "test",
        "tests/ruletest/passing",
        "--color",
        "never",
        "--min-coverage",
        "100",
        "--verbose",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    insta::assert_snapshot!("passing", stdout(&out));
}

#[test]
fn failing_cases_show_expected_and_actual_values() {
    let out = hyoka(&["test", "tests/ruletest/failing", "--color", "never"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("value demo.grade of `demo/I1`: expected A, got B"),
        "{text}"
    );
    assert!(
        text.contains("value demo.rate of `demo/I1`: expected 79.4%, got 0.793333 (79.3 %)"),
        "{text}"
    );
    // The explanation says why: the band the rate fell in.
    assert!(
        text.contains("grade(abc, indicator.rate): 79.3 % ≥ 70 % and < 90 % → B"),
        "{text}"
    );
    // A missing finding says which condition was false, an unexpected one
    // shows its diagnostic, a misspelled name gets a suggestion.
    assert!(
        text.contains("because `indicator.rate < b_min` (95 % < 80 %) is false"),
        "{text}"
    );
    assert!(
        text.contains("⚠ きらめき出前講座実施件数: 達成率 79.3%"),
        "{text}"
    );
    assert!(text.contains("did you mean `demo.behind`?"), "{text}");
    // A fixture written inline is reported at its line of the test file.
    assert!(
        text.contains("could not run: a fixture plan does not load"),
        "{text}"
    );
    assert!(
        text.contains("tests/ruletest/failing/tests/cases.toml:50:"),
        "{text}"
    );
    assert!(text.contains("hyoka test: 1 passed, 4 failed"), "{text}");
    insta::assert_snapshot!("failing", text);
}

#[test]
fn coverage_reports_what_no_case_exercised() {
    let out = hyoka(&["test", "tests/ruletest/uncovered", "--color", "never"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "coverage alone does not fail without --min-coverage"
    );
    let text = stdout(&out);
    assert!(
        text.contains("grades no case produced: abc.C, abc.未算出"),
        "{text}"
    );
    assert!(
        text.contains("rules that never fired: demo.behind"),
        "{text}"
    );
    insta::assert_snapshot!("uncovered", text);

    let out = hyoka(&[
        "test",
        "tests/ruletest/uncovered",
        "--color",
        "never",
        "--min-coverage",
        "90%",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("44.4 % (4 of 9 items, 1 case) — below the minimum of 90 %"));
}

#[test]
fn filter_runs_some_cases_only() {
    let out = hyoka(&[
        "test",
        "tests/ruletest/failing",
        "--color",
        "never",
        "--filter",
        "passes",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("hyoka test: 1 passed, 0 failed"));
}

#[test]
fn a_directory_without_packs_is_a_usage_error() {
    let out = hyoka(&["test", "tests/ruletest/passing/tests", "--color", "never"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no rule pack here"));
}
