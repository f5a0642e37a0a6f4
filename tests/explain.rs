//! `hyoka explain`, snapshotted on the fixture plans of
//! `tests/ruletest/explain/` with the standard packs: a grade (the band a
//! rate fell in, and how the rate came out), a missing value (why the rate
//! is missing and the grade 未算出), a cross-plan group rule (the group and
//! its members' values), a rule that did not fire (which condition was
//! false); and the "did you mean" of a name that does not exist.

use std::process::{Command, Output};

const PLANS: &str = "tests/ruletest/explain";

fn hyoka(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hyoka"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the hyoka binary runs")
}

fn explain(rule: &str, entity: &str) -> String {
    let out = hyoka(&[
        "explain", rule, entity, PLANS, "--year", "2021", "--color", "never",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn a_grade() {
    let text = explain("grades.grade", "kyodo/M1-1");
    assert!(text.contains("= B"), "{text}");
    assert!(text.contains("79.3 % ≥ 70 % and < 90 % → B"), "{text}");
    assert!(text.contains("238 ÷ 300 = 79.3 %"), "{text}");
    insta::assert_snapshot!("grade", text);
}

#[test]
fn a_missing_value() {
    let text = explain("grades.grade", "kyodo/M1-2");
    assert!(text.contains("= 未算出"), "{text}");
    assert!(text.contains("missing (集計中)"), "{text}");
    insta::assert_snapshot!("missing_value", text);
}

#[test]
fn a_cross_plan_group_rule() {
    let text = explain("consistency.linked_targets_differ", "kyodo/M1-3");
    assert!(
        text.contains("2 members: koureisha / K-1, kyodo / M1-3"),
        "{text}"
    );
    assert!(text.contains("fired on this group"), "{text}");
    insta::assert_snapshot!("group_rule", text);
}

#[test]
fn a_rule_that_did_not_fire() {
    let text = explain("review.target_met_early", "kyodo/M1-1");
    assert!(
        text.contains("did not fire: its condition is false, because `current_in(i, y) >= i.target.value` (238 ≥ 300) is false"),
        "{text}"
    );
    insta::assert_snapshot!("did_not_fire", text);
}

#[test]
fn a_derived_value_by_its_bare_name() {
    let text = explain("rate", "kyodo/M1");
    assert!(
        text.starts_with("grades.rate of measure kyodo / M1"),
        "{text}"
    );
}

#[test]
fn names_that_do_not_exist_get_a_suggestion() {
    let out = hyoka(&["explain", "grades.grde", "kyodo/M1-1", PLANS]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: no rule or derived value is called `grades.grde`; did you mean `grades.grade`?\n"
    );
    let out = hyoka(&["explain", "grades.grade", "kyodo/M1-9", PLANS]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: no entity is called `kyodo/M1-9`; did you mean `kyodo/M1-1`?\n"
    );
    let out = hyoka(&["explain", "review.completed_project", "kyodo/M1-1", PLANS]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: `review.completed_project` is for project, and `indicator kyodo/M1-1` is not one\n"
    );
}
