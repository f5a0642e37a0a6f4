//! [`evaluate`] computes derives a group at a time, many entities per call
//! of the batch evaluator, and screens per-entity rules the same way before
//! evaluating them, in parallel. This checks every derived value, every
//! finding of a per-entity rule and every failure against the plain
//! algorithm (one derive at a time, one [`Program::eval_derive`] per entity;
//! every rule on every entity) on the bundled plans and on a generated
//! corpus, with every standard pack and a pack whose derives and rules fail
//! on some entities and whose derives are declared for every level of node.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hyoka_dsl::{Data, DeriveId, FieldId, ListRef, Obj, OwnedValue, Program, RuleId, Scope, Value};
use hyoka_engine::config::{self, PackFiles, ProjectConfig, DEFAULT_PACKS};
use hyoka_engine::data::CorpusData;
use hyoka_engine::eval::{evaluate, latest_actual_year};
use hyoka_engine::generate::{generate_municipality, CorpusSpec};
use hyoka_engine::model::{Corpus, SourceFile};
use hyoka_engine::schema::PlanSchema;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

const EXTRA: &str = r#"
/// Fails (division by zero) wherever an indicator has a target value.
derive boom for indicator: number =
    if indicator.monitoring then missing
    else (latest(indicator) ?? 1) / (indicator.target.value - indicator.target.value)

derive after_boom for indicator: number = indicator.boom ?? indicator.rate

derive size for goal: number = count(p in goal.indicators)
derive size for policy: number = count(p in policy.indicators) + 1
derive size for measure: number = count(p in measure.indicators) + 2
derive doubled for policy: number = policy.size * 2
derive reason for indicator: string = reason(latest(indicator)) ?? "—"

/// Fails on cumulative indicators with a target value, fires on some others.
rule fails for indicator where not indicator.monitoring {
    severity warning
    when (if indicator.cumulative
            then (latest(indicator) ?? 1) / (indicator.target.value - indicator.target.value)
            else 0) > 1
        or indicator.rate >= 100%
    message "{indicator.name}: {indicator.rate}"
}
"#;

fn program(schema: &PlanSchema) -> Program {
    let mut packs: Vec<PackFiles> = DEFAULT_PACKS
        .iter()
        .map(|p| config::read_pack(&root().join("rules").join(p)).expect("standard pack reads"))
        .collect();
    packs.push(
        config::pack_from_texts(
            "extra",
            "name = \"extra\"\nversion = \"1.0.0\"\nextends = [\"rates\"]",
            &[("extra.hyk", EXTRA)],
        )
        .unwrap(),
    );
    hyoka_engine::rules::compile(&packs, &ProjectConfig::default(), &[], schema)
        .unwrap_or_else(|e| panic!("packs compile: {e:?}"))
}

/// The corpus through `field`, `list_get` and `derived` only: `latest`,
/// `actual` and `fields` take the trait's defaults (walking lists, one
/// field at a time), which the adapter's own answers must equal.
struct Plain<'a, 'c>(&'a CorpusData<'c>);

impl Data for Plain<'_, '_> {
    fn field(&self, obj: Obj, field: FieldId) -> Value<'_> {
        self.0.field(obj, field)
    }
    fn list_get(&self, list: ListRef, i: u32) -> Value<'_> {
        self.0.list_get(list, i)
    }
    fn derived(&self, derive: DeriveId, obj: Obj) -> Value<'_> {
        self.0.derived(derive, obj)
    }
    fn describe(&self, obj: Obj) -> String {
        self.0.describe(obj)
    }
}

/// Every derive, one at a time, by entity index; every per-entity rule on
/// every entity, as `rule / entity / message`; and the failures.
fn one_at_a_time(
    corpus: &Corpus,
    schema: &PlanSchema,
    program: &Program,
    year: i32,
) -> (Vec<Vec<OwnedValue>>, Vec<String>, Vec<String>) {
    let ctx = hyoka_dsl::Ctx { year };
    let mut data = CorpusData::new(corpus, schema);
    let mut columns = Vec::new();
    let mut failures = Vec::new();
    for (i, d) in program.derives().iter().enumerate() {
        let mut column = vec![OwnedValue::Missing(None); data.count(d.kind)];
        let plain = Plain(&data);
        for obj in data.entities(d.kind) {
            match program.eval_derive(DeriveId(i as u32), obj, &plain, &ctx) {
                Ok(v) => column[obj.index as usize] = v.to_owned_value(),
                Err(e) => failures.push(e.to_string()),
            }
        }
        data.push_derived(column.clone());
        columns.push(column);
    }
    let plain = Plain(&data);
    let mut findings = Vec::new();
    for (i, rule) in program.rules().iter().enumerate() {
        let Scope::Each(kind) = rule.scope else {
            continue;
        };
        for obj in data.entities(kind) {
            match program.eval_rule(RuleId(i as u32), obj, &plain, &ctx) {
                Ok(Some(f)) => findings.push(format!(
                    "{} / {} / {}",
                    rule.qualified_id(),
                    data.describe(obj),
                    f.message
                )),
                Ok(None) => {}
                Err(e) => failures.push(e.to_string()),
            }
        }
    }
    failures.sort();
    findings.sort();
    (columns, findings, failures)
}

fn check(corpus: &Corpus, what: &str) {
    let schema = PlanSchema::new();
    let program = program(&schema);
    let latest = latest_actual_year(corpus).unwrap();
    let mut fired = false;
    for year in [latest, latest - 2] {
        let (columns, findings, failures) = one_at_a_time(corpus, &schema, &program, year);
        let e = evaluate(corpus, &schema, &program, year);
        for (d, column) in columns.iter().enumerate() {
            let name = &program.derives()[d].name;
            for (index, want) in column.iter().enumerate() {
                let got = e.data.derived_value(DeriveId(d as u32), index as u32);
                assert_eq!(got, Some(want), "{what} {year}: {name} of #{index}");
            }
            let beyond = e
                .data
                .derived_value(DeriveId(d as u32), column.len() as u32);
            assert_eq!(beyond, None, "{what}: {name} past the last entity");
        }
        // Group rules are not part of the reference.
        let group_rules: Vec<String> = program
            .rules()
            .iter()
            .filter(|r| matches!(r.scope, Scope::Group(_)))
            .map(|r| r.qualified_id())
            .collect();
        let each = |rule: &str| !group_rules.iter().any(|g| g == rule);
        let mut got: Vec<String> = e
            .findings
            .iter()
            .filter(|f| each(&f.rule))
            .map(|f| format!("{} / {} / {}", f.rule, f.entity_name, f.message))
            .collect();
        got.sort();
        assert_eq!(got.len(), findings.len(), "{what} {year}: findings");
        assert_eq!(got, findings, "{what} {year}: findings");
        fired |= findings.iter().any(|f| f.starts_with("extra.fails"));
        let mut got: Vec<String> = e
            .failures
            .iter()
            .filter(|f| {
                !group_rules
                    .iter()
                    .any(|g| f.error.subject == format!("rule `{g}`"))
            })
            .map(|f| f.error.to_string())
            .collect();
        got.sort();
        assert_eq!(got, failures, "{what} {year}: failures");
        assert!(failures.iter().any(|f| f.contains("extra.fails")));
        assert!(
            failures.iter().any(|f| f.contains("division by zero")),
            "{what}: the extra pack fails somewhere"
        );
    }
    assert!(fired, "{what}: the extra rule fires somewhere");
}

#[test]
fn bundled_plans() {
    let loaded = hyoka_engine::load(&[root().join("plans")]);
    assert!(loaded.diagnostics.is_empty());
    check(&loaded.corpus, "plans/");
}

#[test]
fn generated_corpus() {
    let spec = CorpusSpec::new(3);
    let mut sources = Vec::new();
    for m in 0..spec.municipalities {
        for (name, text) in generate_municipality(&spec, m).0 {
            sources.push(SourceFile {
                name,
                text: Arc::from(text),
            });
        }
    }
    let loaded = hyoka_engine::load_sources(sources);
    assert!(!loaded.has_errors());
    assert!(loaded.corpus.indicators.len() > 2000);
    check(&loaded.corpus, "generated");
}
