//! Loading plan files, end to end:
//!
//! - the bad-input catalogue `tests/plans/bad/` (one problem per case; a
//!   folder is a case of several files), each case's rendered diagnostics
//!   snapshotted, and its first error's code checked against [`EXPECTED`];
//! - `tests/plans/bad-many/`, one file with many problems, all reported;
//! - the bundled `plans/`: no diagnostic at all, and counts and values that
//!   follow from the source documents;
//! - the exit codes of `hyoka check`.
//!
//! Paths are relative to the package root (the working directory of
//! `cargo test`), so the snapshots are the same on every machine.

use std::path::{Path, PathBuf};
use std::process::Command;

use hyoka_engine::model::{
    Amount, Corpus, Direction, Indicator, Level, NoValue, Owner, Plan, PlanIdx, ProjectStatus,
    RevisionKind, SourceFile, YearBasis,
};
use hyoka_engine::{load, load_sources, Loaded, PlanDiagnostic, Severity};
use miette::{GraphicalReportHandler, GraphicalTheme};

/// Each case of the catalogue and the code of the one problem it holds.
const EXPECTED: &[(&str, &str)] = &[
    ("01-unclosed-string.toml", "hyoka::plan::toml"),
    ("02-missing-bracket.toml", "hyoka::plan::toml"),
    ("03-duplicate-key.toml", "hyoka::plan::toml"),
    ("04-empty-file.toml", "hyoka::plan::empty_file"),
    ("05-unknown-plan-key.toml", "hyoka::plan::unknown_key"),
    ("06-unknown-indicator-key.toml", "hyoka::plan::unknown_key"),
    ("07-unknown-table.toml", "hyoka::plan::unknown_key"),
    ("08-wrong-type-cumulative.toml", "hyoka::plan::wrong_type"),
    ("09-wrong-type-name.toml", "hyoka::plan::wrong_type"),
    ("10-era-year-h32.toml", "hyoka::plan::bad_year"),
    ("11-era-year-r0.toml", "hyoka::plan::bad_year"),
    ("12-unreadable-year.toml", "hyoka::plan::bad_year"),
    ("13-unknown-kind.toml", "hyoka::plan::unknown_choice"),
    ("14-unknown-direction.toml", "hyoka::plan::unknown_choice"),
    ("15-no-value-typo.toml", "hyoka::plan::bad_value"),
    ("16-number-as-string.toml", "hyoka::plan::bad_value"),
    ("17-plan-missing-period.toml", "hyoka::plan::missing_key"),
    ("18-indicator-missing-name.toml", "hyoka::plan::missing_key"),
    ("19-duplicate-plan-id", "hyoka::plan::duplicate_id"),
    (
        "20-duplicate-indicator-id.toml",
        "hyoka::plan::duplicate_id",
    ),
    (
        "21-unresolved-under.toml",
        "hyoka::plan::unresolved_reference",
    ),
    (
        "22-unresolved-parent.toml",
        "hyoka::plan::unresolved_parent",
    ),
    (
        "23-unresolved-relisted-from.toml",
        "hyoka::plan::unresolved_reference",
    ),
    (
        "24-unresolved-same-as-plan",
        "hyoka::plan::unresolved_reference",
    ),
    (
        "25-unresolved-same-as-indicator",
        "hyoka::plan::unresolved_reference",
    ),
    (
        "26-unresolved-replaced-by.toml",
        "hyoka::plan::unresolved_reference",
    ),
    ("27-policy-under-measure.toml", "hyoka::plan::bad_under"),
    ("28-period-reversed.toml", "hyoka::plan::period_order"),
    ("29-not-utf8.toml", "hyoka::plan::encoding"),
    ("30-empty-target.toml", "hyoka::plan::empty_target"),
    ("31-missing-plan-table.toml", "hyoka::plan::missing_plan"),
    (
        "32-single-bracket-indicator.toml",
        "hyoka::plan::wrong_type",
    ),
    ("33-by-on-added-marker.toml", "hyoka::plan::misplaced_key"),
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `path` relative to the package root.
fn relative(path: &Path) -> PathBuf {
    path.strip_prefix(root())
        .unwrap_or_else(|_| panic!("{} is outside the package", path.display()))
        .to_path_buf()
}

/// Loads with a path relative to the package root, as a user would type it.
fn load_relative(path: &Path) -> Loaded {
    std::env::set_current_dir(root()).unwrap();
    load(&[relative(path)])
}

/// The diagnostics as `hyoka check --color never` prints them.
fn render(diagnostics: &[PlanDiagnostic]) -> String {
    let handler =
        GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor()).with_width(100);
    let mut out = String::new();
    for d in diagnostics {
        handler.render_report(&mut out, d).unwrap();
        out.push('\n');
    }
    out
}

fn errors(loaded: &Loaded) -> Vec<&PlanDiagnostic> {
    loaded
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect()
}

#[test]
fn bad_catalogue() {
    let mut seen = Vec::new();
    insta::glob!("plans/bad/*", |path| {
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        let expected = EXPECTED
            .iter()
            .find(|(case, _)| *case == name)
            .unwrap_or_else(|| panic!("{name}: add the case to EXPECTED"))
            .1;
        let loaded = load_relative(path);
        let rendered = render(&loaded.diagnostics);
        let errors = errors(&loaded);
        assert!(!errors.is_empty(), "{name}: no error reported");
        assert_eq!(errors[0].code, expected, "{name}:\n{rendered}");
        // One problem per case: one diagnostic, pointing into the case.
        assert_eq!(
            loaded.diagnostics.len(),
            1,
            "{name}: expected one diagnostic:\n{rendered}"
        );
        let (file, _, _) = errors[0]
            .location()
            .unwrap_or_else(|| panic!("{name}: the error has no location"));
        assert!(
            file.starts_with(&format!("tests/plans/bad/{name}")),
            "{name}: points at {file}"
        );
        insta::assert_snapshot!(rendered);
        seen.push(name);
    });
    for (case, _) in EXPECTED {
        assert!(
            seen.iter().any(|s| s == case),
            "{case} is not in tests/plans/bad"
        );
    }
    assert!(seen.len() >= 22);
}

#[test]
fn bad_many_reports_everything_at_once() {
    let loaded = load_relative(&root().join("tests/plans/bad-many"));
    let rendered = render(&loaded.diagnostics);
    insta::assert_snapshot!(rendered);

    let errors = errors(&loaded);
    assert_eq!(errors.len(), 25, "{rendered}");
    assert_eq!(errors.len(), loaded.diagnostics.len());
    // Every error in the file, in file order.
    let lines: Vec<usize> = errors.iter().map(|d| d.location().unwrap().1).collect();
    let mut sorted = lines.clone();
    sorted.sort_unstable();
    assert_eq!(lines, sorted);
    let codes: std::collections::BTreeSet<&str> = errors.iter().map(|d| d.code.as_str()).collect();
    for code in [
        "hyoka::plan::unknown_key",
        "hyoka::plan::missing_key",
        "hyoka::plan::unknown_choice",
        "hyoka::plan::bad_year",
        "hyoka::plan::bad_value",
        "hyoka::plan::wrong_type",
        "hyoka::plan::empty_target",
        "hyoka::plan::duplicate_id",
        "hyoka::plan::unresolved_parent",
        "hyoka::plan::unresolved_reference",
        "hyoka::plan::bad_under",
    ] {
        assert!(codes.contains(code), "{code} not reported:\n{rendered}");
    }
    // The `[plan]` is invalid: the file's entities were checked against a
    // placeholder plan that did not stay in the corpus.
    let c = &loaded.corpus;
    assert!(c.plans.is_empty() && c.nodes.is_empty());
    assert!(c.projects.is_empty() && c.indicators.is_empty());
}

fn source(name: &str, text: &str) -> SourceFile {
    SourceFile {
        name: name.to_string(),
        text: text.into(),
    }
}

const PLAN_A: &str = r#"
[plan]
id = "plan-a"
name = "A"
municipality = "郡山市"
kind = "sectoral"
period = { from = 2018, to = 2025 }
"#;

#[test]
fn entities_of_an_invalid_plan_are_still_checked() {
    let text = r#"
[plan]
id = "plan-a"
municipality = "郡山市"
kind = "sectoral"
period = { from = 2018, to = 2025 }

[[measure]]
id = "M1"
name = "m"

[[indicator]]
id = "M1-1"
under = "M2"
name = "x"
"#;
    let loaded = load_sources(vec![source("a.toml", text)]);
    let codes: Vec<&str> = loaded.diagnostics.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(
        codes,
        [
            "hyoka::plan::missing_key",
            "hyoka::plan::unresolved_reference"
        ]
    );
    assert!(loaded.corpus.plans.is_empty() && loaded.corpus.indicators.is_empty());
}

#[test]
fn references_to_invalid_entities_are_not_reported_twice() {
    // M1 has no name and M1-1 a bad direction: each is reported once, and
    // what refers to them is not reported again.
    let text = format!(
        r#"{PLAN_A}
[[measure]]
id = "M1"

[[indicator]]
id = "M1-1"
name = "x"
direction = "up"

[[indicator]]
id = "M1-2"
under = "M1"
name = "y"
revisions = [ {{ kind = "replaced", by = "M1-1" }} ]
"#
    );
    let b = r#"
[plan]
id = "plan-b"
name = "B"
municipality = "郡山市"
kind = "sectoral"
period = { from = 2018, to = 2025 }

[[indicator]]
id = "K-1"
name = "z"
same_as = [ { plan = "plan-a", indicator = "M1-1" } ]
"#;
    let loaded = load_sources(vec![source("a.toml", &text), source("b.toml", b)]);
    let codes: Vec<&str> = loaded.diagnostics.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(
        codes,
        ["hyoka::plan::missing_key", "hyoka::plan::unknown_choice"],
        "{}",
        render(&loaded.diagnostics)
    );
}

#[test]
fn replaced_by_may_name_an_indicator_of_a_later_plan() {
    let a = format!(
        r#"{PLAN_A}
[[indicator]]
id = "X"
name = "x"
revisions = [ {{ kind = "replaced", year = 2022, by = "plan-b:Y" }} ]
"#
    );
    let b = r#"
[plan]
id = "plan-b"
name = "B"
municipality = "郡山市"
kind = "sectoral"
period = { from = 2018, to = 2025 }

[[indicator]]
id = "Y"
name = "y"
"#;
    let loaded = load_sources(vec![source("a.toml", &a), source("b.toml", b)]);
    assert!(
        loaded.diagnostics.is_empty(),
        "{}",
        render(&loaded.diagnostics)
    );
    let c = &loaded.corpus;
    let x = indicator(c, plan(c, "plan-a"), "X");
    let by = x.revisions[0].by.expect("`by` resolved").value;
    assert_eq!(c.indicators[by as usize].id.value, "Y");
}

// ----- the bundled plans -------------------------------------------------

fn bundled() -> Loaded {
    std::env::set_current_dir(root()).unwrap();
    let loaded = load(&[PathBuf::from("plans")]);
    assert!(
        loaded.diagnostics.is_empty(),
        "plans/ should load without any diagnostic:\n{}",
        render(&loaded.diagnostics)
    );
    loaded
}

fn plan(c: &Corpus, id: &str) -> PlanIdx {
    c.plan_by_id(id).unwrap_or_else(|| panic!("no plan `{id}`"))
}

fn indicators(c: &Corpus, p: PlanIdx) -> impl Iterator<Item = &Indicator> {
    c.plans[p as usize]
        .indicators
        .iter()
        .map(|&i| &c.indicators[i as usize])
}

fn indicator<'c>(c: &'c Corpus, p: PlanIdx, id: &str) -> &'c Indicator {
    indicators(c, p)
        .find(|i| i.id.value == id)
        .unwrap_or_else(|| panic!("no indicator `{id}`"))
}

fn indicator_named<'c>(c: &'c Corpus, p: PlanIdx, name: &str) -> &'c Indicator {
    let found: Vec<_> = indicators(c, p).filter(|i| i.name.value == name).collect();
    assert_eq!(found.len(), 1, "indicators named {name}");
    found[0]
}

/// An amount as written (`63.2`, `70.0`, `-490`, `—`).
fn text(a: &Amount) -> String {
    a.to_string()
}

#[test]
fn bundled_plans_load_cleanly() {
    let loaded = bundled();
    let c = &loaded.corpus;
    assert_eq!(c.files.len(), 5);
    assert_eq!(c.plans.len(), 5);
    let ids: Vec<&str> = c.plans.iter().map(|p| p.id.value.as_str()).collect();
    assert_eq!(
        ids,
        [
            "aizuwakamatsu-sousei-2",
            "iwaki-kihon-houshin",
            "koriyama-budget-2021",
            "koriyama-kouiki-vision-2",
            "koriyama-kyodo-2",
        ]
    );
    // Every file name is relative, as given.
    for f in &c.files {
        assert!(f.name.starts_with("plans/"), "{}", f.name);
    }
}

#[test]
fn kouiki_vision_projects() {
    let loaded = bundled();
    let c = &loaded.corpus;
    let p = plan(c, "koriyama-kouiki-vision-2");
    let projects: Vec<_> = c.plans[p as usize]
        .projects
        .iter()
        .map(|&i| &c.projects[i as usize])
        .collect();
    assert_eq!(projects.len(), 87);
    let numbered: Vec<_> = projects.iter().filter(|p| p.number.is_some()).collect();
    assert_eq!(numbered.len(), 80);
    let numbers: Vec<String> = numbered
        .iter()
        .map(|p| p.number.as_ref().unwrap().value.clone())
        .collect();
    let expected: Vec<String> = (1..=80).map(|n| n.to_string()).collect();
    assert_eq!(numbers, expected, "numbered 1 to 80 in order");

    let new: Vec<&str> = projects
        .iter()
        .filter(|p| p.status.value == ProjectStatus::New)
        .map(|p| p.id.value.as_str())
        .collect();
    assert_eq!(new, ["N1", "N2", "N3", "N4", "N5", "N6", "N7"]);
    assert!(projects
        .iter()
        .filter(|p| p.status.value == ProjectStatus::New)
        .all(|p| p.number.is_none()));

    let relisted: Vec<(&str, &str)> = projects
        .iter()
        .filter_map(|p| {
            let orig = p.relisted_from?.value;
            Some((
                p.id.value.as_str(),
                c.projects[orig as usize].id.value.as_str(),
            ))
        })
        .collect();
    assert_eq!(
        relisted,
        [("10", "68"), ("12", "69"), ("17", "22"), ("19", "55")]
    );

    let completed: Vec<&str> = projects
        .iter()
        .filter(|p| p.status.value == ProjectStatus::Completed)
        .map(|p| p.id.value.as_str())
        .collect();
    assert_eq!(completed, ["38", "42", "65"]);

    // The tree: 3 goals (連携協約項目) and 19 policy fields, every project
    // under a policy field.
    let nodes: Vec<_> = c.plans[p as usize]
        .nodes
        .iter()
        .map(|&n| &c.nodes[n as usize])
        .collect();
    assert_eq!(nodes.iter().filter(|n| n.level == Level::Goal).count(), 3);
    assert_eq!(
        nodes.iter().filter(|n| n.level == Level::Policy).count(),
        19
    );
    assert!(projects.iter().all(|p| matches!(p.under, Owner::Node(_))));

    // The recorded KPI summary: 76 projects (80 less the 4 re-listings).
    let summary = &c.plans[p as usize].recorded_summaries[0];
    assert_eq!(summary.rows.iter().map(|r| r.count.value).sum::<i64>(), 76);
}

#[test]
fn kyodo_indicators_of_both_periods() {
    let loaded = bundled();
    let c = &loaded.corpus;
    let p = plan(c, "koriyama-kyodo-2");
    assert_eq!(indicators(c, p).count(), 48);

    // Indicators of the early period only carry a `replaced` marker (the
    // file's convention); every other indicator is of the late period.
    let replaced = |i: &Indicator| i.revisions.iter().any(|r| r.kind == RevisionKind::Replaced);
    let late = indicators(c, p).filter(|i| !replaced(i)).count();
    assert_eq!(late, 40);
    let early: Vec<&str> = indicators(c, p)
        .filter(|i| replaced(i))
        .map(|i| i.id.value.as_str())
        .collect();
    assert_eq!(
        early,
        ["M2-5", "M3-5", "M3-6", "M4-8", "M5-7", "M6-6", "M7-7", "M7-8"]
    );

    // Replacements resolved to the indicator that took over.
    let by = |id: &str| -> Option<&str> {
        let r = indicator(c, p, id)
            .revisions
            .iter()
            .find(|r| r.kind == RevisionKind::Replaced)?;
        Some(c.indicators[r.by?.value as usize].id.value.as_str())
    };
    assert_eq!(by("M2-5"), Some("M2-3"));
    assert_eq!(by("M4-8"), Some("M4-7"));
    assert_eq!(by("M7-7"), Some("M7-1"));
    assert_eq!(by("M7-8"), Some("M7-2"));
    assert_eq!(by("M3-5"), None, "no successor named in the source");

    let i = indicator_named(c, p, "町内会等加入率");
    assert_eq!(i.id.value, "M4-1");
    assert_eq!(i.unit.as_ref().unwrap().value, "%");
    assert_eq!(i.direction.unwrap().value, Direction::Increase);
    let base = i.baseline.as_ref().unwrap();
    assert_eq!(
        (base.year.value, text(&base.value.value)),
        (2016, "63.2".into())
    );
    assert_eq!(i.actuals.len(), 1);
    let actual = &i.actuals[0];
    assert_eq!(
        (actual.year.value, text(&actual.value.value)),
        (2020, "61.4".into())
    );
    let target = i.target.as_ref().unwrap();
    assert_eq!(
        (target.year.value, text(&target.value.unwrap().value)),
        (2025, "70.0".into())
    );
    // It hangs from measure M4, the plan's year basis applies.
    let Owner::Node(m) = i.under else {
        panic!("M4-1 hangs from {:?}", i.under)
    };
    assert_eq!(c.nodes[m as usize].id.value, "M4");
    assert_eq!(i.year_basis, YearBasis::Fiscal);

    // A target revised from "no value" (a monitoring indicator given a target).
    let m22 = indicator(c, p, "M2-2");
    let rev = m22
        .revisions
        .iter()
        .find(|r| r.kind == RevisionKind::TargetRevised)
        .unwrap();
    assert_eq!(rev.from.unwrap().value, Amount::Missing(NoValue::NotSet));
    assert_eq!(text(&rev.to.unwrap().value), "1500");
}

#[test]
fn aizuwakamatsu_messy_cases() {
    let loaded = bundled();
    let c = &loaded.corpus;
    let p = plan(c, "aizuwakamatsu-sousei-2");
    let plan: &Plan = &c.plans[p as usize];
    assert_eq!(indicators(c, p).count(), 36);
    // Era years normalised: R2–R6.
    assert_eq!((plan.period.from.value, plan.period.to.value), (2020, 2024));

    // A negative baseline, R元 → 2019, a calendar year.
    let social = indicator(c, p, "G3-N1");
    assert_eq!(social.name.value, "人口の社会動態／年");
    let base = social.baseline.as_ref().unwrap();
    assert_eq!(
        (base.year.value, text(&base.value.value)),
        (2019, "-490".into())
    );
    let target = social.target.as_ref().unwrap();
    assert_eq!(
        (target.year.value, text(&target.value.unwrap().value)),
        (2024, "-270".into())
    );
    assert_eq!(social.year_basis, YearBasis::Calendar);

    // A zero target.
    let waiting = indicator(c, p, "G4-P2-K1");
    assert_eq!(waiting.direction.unwrap().value, Direction::Decrease);
    let target = waiting.target.as_ref().unwrap();
    assert_eq!(
        (target.year.value, text(&target.value.unwrap().value)),
        (2024, "0".into())
    );

    // A maintain indicator, 839 → 839, H30 → 2018.
    let births = indicator(c, p, "G4-N1");
    assert_eq!(births.direction.unwrap().value, Direction::Maintain);
    let base = births.baseline.as_ref().unwrap();
    assert_eq!(
        (base.year.value, text(&base.value.value)),
        (2018, "839".into())
    );
    assert_eq!(
        text(&births.target.as_ref().unwrap().value.unwrap().value),
        "839"
    );

    // Cumulative indicators, two of them counted from R2 = 2020.
    let cumulative: Vec<&str> = indicators(c, p)
        .filter(|i| i.cumulative)
        .map(|i| i.id.value.as_str())
        .collect();
    assert_eq!(
        cumulative,
        [
            "G1-N1", "G1-N2", "G1-N3", "G1-P2-K1", "G1-P3-K1", "G2-P6-K1", "G4-P2-K2", "G4-P3-K1",
            "G4-P4-K2",
        ]
    );
    let from: Vec<(&str, i32)> = indicators(c, p)
        .filter_map(|i| Some((i.id.value.as_str(), i.cumulative_from?.value)))
        .collect();
    assert_eq!(
        from,
        [("G1-P2-K1", 2020), ("G2-P6-K1", 2020), ("G4-P3-K1", 2020)]
    );

    // A baseline without a value: "—" in the R元 column.
    let firms = indicator(c, p, "G1-N1");
    let base = firms.baseline.as_ref().unwrap();
    assert_eq!(base.year.value, 2019);
    assert_eq!(base.value.value, Amount::Missing(NoValue::NotRecorded));

    // A qualitative target: no value, no direction, R5 → 2023.
    let devices = indicator(c, p, "G4-P4-K3");
    let target = devices.target.as_ref().unwrap();
    assert_eq!(target.year.value, 2023);
    assert_eq!(target.text.as_ref().unwrap().value, "整備完了");
    assert!(target.value.is_none());
    assert!(devices.direction.is_none());

    // The re-listed 取組 of pillar 4 points at its original in pillar 2.
    let relisted: Vec<(&str, &str)> = plan
        .projects
        .iter()
        .map(|&i| &c.projects[i as usize])
        .filter_map(|pr| {
            let orig = pr.relisted_from?.value;
            Some((
                pr.id.value.as_str(),
                c.projects[orig as usize].id.value.as_str(),
            ))
        })
        .collect();
    assert_eq!(relisted, [("G4-P3", "G2-P6")]);
}

#[test]
fn indices_are_consistent() {
    // Every child list points back at its owner.
    let loaded = bundled();
    let c = &loaded.corpus;
    for (pi, plan) in c.plans.iter().enumerate() {
        for &i in &plan.indicators {
            assert_eq!(c.indicators[i as usize].plan as usize, pi);
        }
        for &n in &plan.nodes {
            let node = &c.nodes[n as usize];
            assert_eq!(node.plan as usize, pi);
            for &ch in &node.children {
                assert_eq!(c.nodes[ch as usize].under, Owner::Node(n));
            }
            for &i in &node.indicators {
                assert_eq!(c.indicators[i as usize].under, Owner::Node(n));
            }
        }
    }
    let total: usize = c.plans.iter().map(|p| p.indicators.len()).sum();
    assert_eq!(total, c.indicators.len());
}

// ----- the binary --------------------------------------------------------

fn hyoka(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_hyoka"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        // The cache of loaded plans goes to the build's scratch space, not
        // the home directory.
        .env(
            "HYOKA_CACHE_DIR",
            concat!(env!("CARGO_TARGET_TMPDIR"), "/hyoka-cache"),
        )
        .output()
        .expect("run hyoka")
}

/// `hyoka check` with a rule pack without rules: only what loading finds.
const NO_RULES: [&str; 3] = ["check", "--rules", "tests/rules/no-rules"];

fn check(args: &[&str]) -> std::process::Output {
    hyoka(&[&NO_RULES[..], args].concat())
}

#[test]
fn check_exits_0_on_the_bundled_plans() {
    let out = check(&["plans"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("0 errors, 0 warnings"), "{stderr}");
}

/// A plan file hyoka cannot load is an input error (2), not a finding (1):
/// see docs/ci.md, "Exit codes".
#[test]
fn check_exits_2_on_a_bad_file() {
    let out = check(&[
        "--color",
        "never",
        "tests/plans/bad/06-unknown-indicator-key.toml",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("tests/plans/bad/06-unknown-indicator-key.toml:14:1"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `baseline`?"), "{stderr}");
}

#[test]
fn check_exits_2_on_a_missing_path() {
    let out = check(&["no/such/plans"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no/such/plans"));
}

#[test]
fn check_exits_2_on_a_usage_error() {
    let out = check(&["--no-such-flag", "plans"]);
    assert_eq!(out.status.code(), Some(2));
    let out = hyoka(&["no-such-command"]);
    assert_eq!(out.status.code(), Some(2));
}
