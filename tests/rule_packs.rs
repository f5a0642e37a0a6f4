//! The rule tests of the standard packs (`rules/*/tests/`), run by
//! `hyoka test` as part of `cargo test`, so CI fails when a threshold or a
//! formula of a standard pack changes, and when a band, a rule or an
//! outcome of a standard pack is left without a case.

use std::process::Command;

#[test]
fn standard_packs_pass_their_rule_tests_with_full_coverage() {
    let out = Command::new(env!("CARGO_BIN_EXE_hyoka"))
        .args(["test", "rules", "--color", "never", "--min-coverage", "100"])
        .env("NO_COLOR", "1")
        .output()
        .expect("the hyoka binary runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "`hyoka test rules --min-coverage 100` failed:\n{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains(" failed\n") && text.contains("hyoka test: "),
        "{text}"
    );
    // Every standard pack has tests.
    for pack in ["rates", "grades", "review", "consistency", "quality"] {
        assert!(
            text.contains(&format!("rules/{pack}: 100.0 %")),
            "rules/{pack} is not fully covered:\n{text}"
        );
    }
}
