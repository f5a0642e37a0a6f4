//! The standard rule packs over the bundled real plans: concrete values that
//! follow from the seed data under the documented default formula, and the
//! full findings list as a snapshot.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hyoka_dsl::{Number, Obj, OwnedValue, Program};
use hyoka_engine::config::{self, ProjectConfig, DEFAULT_PACKS};
use hyoka_engine::eval::{evaluate, latest_actual_year, Evaluation};
use hyoka_engine::model::{Corpus, SourceFile};
use hyoka_engine::schema::PlanSchema;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn program(schema: &PlanSchema) -> Program {
    let packs: Vec<_> = DEFAULT_PACKS
        .iter()
        .map(|p| config::read_pack(&root().join("rules").join(p)).expect("standard pack reads"))
        .collect();
    hyoka_engine::rules::compile(&packs, &ProjectConfig::default(), &[], schema)
        .unwrap_or_else(|e| panic!("standard packs compile: {e:?}"))
}

fn real_corpus() -> Corpus {
    // Relative paths keep snapshots the same on every machine.
    std::env::set_current_dir(root()).unwrap();
    let loaded = hyoka_engine::load(&[PathBuf::from("plans")]);
    assert!(
        loaded.diagnostics.is_empty(),
        "bundled plans load cleanly: {:?}",
        loaded.diagnostics
    );
    loaded.corpus
}

fn indicator(c: &Corpus, schema: &PlanSchema, plan: &str, id: &str) -> Obj {
    let i = c
        .indicators
        .iter()
        .position(|i| i.id.value == id && c.plans[i.plan as usize].id.value == plan)
        .unwrap_or_else(|| panic!("{plan}/{id} exists"));
    Obj::new(schema.kinds.indicator, i as u32)
}

fn grade_label(program: &Program, e: &Evaluation<'_>, obj: Obj) -> String {
    match e.derived(program, obj, "grade") {
        Some(OwnedValue::Grade(scale, g)) => {
            program.scales()[scale.0 as usize].label(*g).to_string()
        }
        other => panic!("grade is a grade, got {other:?}"),
    }
}

fn rate(program: &Program, e: &Evaluation<'_>, obj: Obj) -> Option<Number> {
    match e.derived(program, obj, "rate") {
        Some(OwnedValue::Num(n)) => Some(*n),
        Some(OwnedValue::Missing(_)) => None,
        other => panic!("rate is a number or missing, got {other:?}"),
    }
}

fn ratio(n: i64, d: i64) -> Number {
    Number::ratio(n, d).unwrap()
}

#[test]
fn seed_values_under_the_default_formula() {
    let schema = PlanSchema::new();
    let program = program(&schema);
    let c = real_corpus();
    let year = latest_actual_year(&c).unwrap();
    assert_eq!(
        year, 2021,
        "the latest actual in the seeds is 2021 (seed 002, O-3)"
    );
    let e = evaluate(&c, &schema, &program, year);

    // 町内会等加入率: 61.4 % against a target of 70.0 % → 87.7 % → B.
    let chounaikai = indicator(&c, &schema, "koriyama-kyodo-2", "M4-1");
    assert_eq!(
        c.indicators[chounaikai.index as usize].name.value,
        "町内会等加入率"
    );
    assert_eq!(rate(&program, &e, chounaikai), Some(ratio(614, 700)));
    assert_eq!(grade_label(&program, &e, chounaikai), "B");

    // きらめき出前講座: 238 ÷ 300 = 79.3 % → B.
    let demae = indicator(&c, &schema, "koriyama-kyodo-2", "M1-1");
    assert_eq!(rate(&program, &e, demae), Some(ratio(238, 300)));
    assert_eq!(grade_label(&program, &e, demae), "B");

    // 交通事故発生件数, lower is better: 679 against a target of 300 → 300 ÷ 679 = 44.2 % → C.
    let accidents = indicator(&c, &schema, "koriyama-kyodo-2", "M7-2");
    assert_eq!(
        c.indicators[accidents.index as usize].name.value,
        "市内交通事故発生件数"
    );
    assert_eq!(rate(&program, &e, accidents), Some(ratio(300, 679)));
    assert_eq!(grade_label(&program, &e, accidents), "C");

    // 公衆無線LAN: far over its target (454,897 vs 120,000): the rate is reported as it is.
    let wifi = c
        .indicators
        .iter()
        .position(|i| i.name.value == "公衆無線LANへのアクセス件数")
        .unwrap();
    let wifi = Obj::new(schema.kinds.indicator, wifi as u32);
    assert_eq!(rate(&program, &e, wifi), Some(ratio(454897, 120000)));
    assert_eq!(grade_label(&program, &e, wifi), "A");

    // Aizuwakamatsu social migration −490 → −270: no actual yet, and never the
    // naive 181 % of −490 ÷ −270: not graded A.
    let migration = indicator(&c, &schema, "aizuwakamatsu-sousei-2", "G3-N1");
    assert_eq!(rate(&program, &e, migration), None);
    assert_eq!(grade_label(&program, &e, migration), "未算出");

    // A qualitative target (整備完了) is never graded.
    let qualitative = indicator(&c, &schema, "aizuwakamatsu-sousei-2", "G4-P4-K3");
    assert!(c.indicators[qualitative.index as usize]
        .target
        .as_ref()
        .unwrap()
        .text
        .is_some());
    assert_eq!(grade_label(&program, &e, qualitative), "未算出");
}

/// A plan in memory, for cases the seeds do not have.
fn corpus_of(files: &[(&str, &str)]) -> Corpus {
    let loaded = hyoka_engine::load_sources(
        files
            .iter()
            .map(|(name, text)| SourceFile {
                name: name.to_string(),
                text: Arc::from(*text),
            })
            .collect(),
    );
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    loaded.corpus
}

const NEGATIVE: &str = r#"
[plan]
id = "neg"
name = "社会動態"
municipality = "会津若松市"
kind = "strategy"
period = { from = "R2", to = "R6" }

[[indicator]]
id = "N1"
name = "人口の社会動態／年"
unit = "人"
direction = "increase"
baseline = { year = "R元", value = -490 }
actuals = [{ year = 2021, value = -400 }]
target = { year = "R6", value = -270 }
"#;

#[test]
fn negative_values_use_the_progress_form() {
    let schema = PlanSchema::new();
    let program = program(&schema);
    let c = corpus_of(&[("neg.toml", NEGATIVE)]);
    let e = evaluate(&c, &schema, &program, 2021);
    let obj = Obj::new(schema.kinds.indicator, 0);
    // (−400 − −490) ÷ (−270 − −490) = 90 ÷ 220 = 40.9 %, not −400 ÷ −270 = 148 %.
    assert_eq!(rate(&program, &e, obj), Some(ratio(90, 220)));
    assert_eq!(grade_label(&program, &e, obj), "C");
}

fn shared(target_a: i64, target_b: i64, reason: &str) -> (String, String) {
    let a = format!(
        r#"
[plan]
id = "a"
name = "計画A"
municipality = "郡山市"
kind = "top"
period = {{ from = 2020, to = 2025 }}

[[indicator]]
id = "A1"
name = "SOS見守りネットワーク参加団体数"
unit = "団体"
direction = "increase"
baseline = {{ year = 2016, value = 95 }}
target = {{ year = 2025, value = {target_a} }}
"#
    );
    let b = format!(
        r#"
[plan]
id = "b"
name = "計画B"
municipality = "郡山市"
kind = "sectoral"
period = {{ from = 2020, to = 2025 }}
parent = "a"

[[indicator]]
id = "B1"
name = "SOS見守りネットワーク参加団体数"
unit = "団体"
direction = "increase"
baseline = {{ year = 2016, value = 95 }}
target = {{ year = 2025, value = {target_b} }}
same_as = [{{ plan = "a", indicator = "A1"{reason} }}]
"#
    );
    (a, b)
}

#[test]
fn a_shared_indicator_with_different_targets_is_one_finding_in_both_files() {
    let schema = PlanSchema::new();
    let program = program(&schema);
    let (a, b) = shared(150, 138, "");
    let c = corpus_of(&[("a.toml", &a), ("b.toml", &b)]);
    let e = evaluate(&c, &schema, &program, 2021);
    let linked: Vec<_> = e
        .findings
        .iter()
        .filter(|f| &*f.rule == "consistency.linked_targets_differ")
        .collect();
    assert_eq!(linked.len(), 1, "{:#?}", e.findings);
    let files: Vec<u32> = linked[0].places.iter().map(|(s, _)| s.file).collect();
    assert_eq!(files, vec![0, 1], "the finding points into both files");

    // Declared with a reason, the difference is accepted.
    let (a, b) = shared(
        150,
        138,
        r#", target_differs = "高齢者福祉計画と整合させるため""#,
    );
    let c = corpus_of(&[("a.toml", &a), ("b.toml", &b)]);
    let e = evaluate(&c, &schema, &program, 2021);
    assert!(!e
        .findings
        .iter()
        .any(|f| &*f.rule == "consistency.linked_targets_differ"));

    // The same target: no finding.
    let (a, b) = shared(150, 150, "");
    let c = corpus_of(&[("a.toml", &a), ("b.toml", &b)]);
    let e = evaluate(&c, &schema, &program, 2021);
    assert!(!e
        .findings
        .iter()
        .any(|f| &*f.rule == "consistency.linked_targets_differ"));
}

#[test]
fn findings_on_the_real_plans() {
    let schema = PlanSchema::new();
    let program = program(&schema);
    let c = real_corpus();
    let e = evaluate(&c, &schema, &program, 2021);
    assert!(e.failures.is_empty(), "{:?}", e.failures);
    let mut listing = String::new();
    for f in &e.findings {
        let places: Vec<String> = f
            .places
            .iter()
            .map(|(s, _)| {
                let file = c.file_of(*s);
                let (line, col) = hyoka_engine::diagnostic::line_col(&file.text, s.start as usize);
                format!("{}:{line}:{col}", file.name)
            })
            .collect();
        listing.push_str(&format!(
            "{} [{}] {} — {}{}\n",
            f.rule,
            f.severity,
            places.join(", "),
            f.message,
            f.suggest
                .as_ref()
                .map(|s| format!(" → {s}"))
                .unwrap_or_default()
        ));
    }
    insta::assert_snapshot!(listing);
}

#[test]
fn evaluation_is_the_same_on_one_and_two_threads() {
    let schema = PlanSchema::new();
    let program = program(&schema);
    let c = real_corpus();
    let run = |threads| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let e = evaluate(&c, &schema, &program, 2021);
            e.findings
                .iter()
                .map(|f| format!("{} {} {:?}", f.rule, f.message, f.places))
                .collect::<Vec<_>>()
        })
    };
    assert_eq!(run(1), run(2));
}
