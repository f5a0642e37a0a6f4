//! Evaluation semantics, over a small in-memory plan.
//!
//! Each test builds a few indicators with [`Plan`], compiles rules against
//! the documented plan model, computes every derive in dependency order (as
//! the engine does) and asserts on shown values or findings through one
//! helper call.

use std::collections::HashMap;

use hyoka_dsl::schema::testing::{plan_model, PlanModel};
use hyoka_dsl::{
    compile, Ctx, Data, DeriveId, FieldId, KindId, ListRef, Number, Obj, Overrides, OwnedValue,
    PackSource, Program, RuleId, Scope, Setting, Value,
};

/// An in-memory plan: objects are maps from field to value; lists live in
/// one table.
#[derive(Default)]
struct Plan {
    fields: HashMap<(Obj, FieldId), OwnedValue>,
    lists: Vec<Vec<OwnedValue>>,
    counts: HashMap<KindId, u32>,
    names: HashMap<Obj, String>,
    derived: HashMap<(DeriveId, Obj), OwnedValue>,
}

impl Data for Plan {
    fn field(&self, obj: Obj, f: FieldId) -> Value<'_> {
        self.fields
            .get(&(obj, f))
            .map_or(Value::Missing(None), |v| v.as_value())
    }
    fn list_get(&self, list: ListRef, i: u32) -> Value<'_> {
        self.lists[list.start as usize][i as usize].as_value()
    }
    fn derived(&self, d: DeriveId, obj: Obj) -> Value<'_> {
        self.derived
            .get(&(d, obj))
            .map_or(Value::Missing(None), |v| v.as_value())
    }
    fn describe(&self, obj: Obj) -> String {
        self.names.get(&obj).cloned().unwrap_or_default()
    }
}

fn num(s: &str) -> OwnedValue {
    OwnedValue::Num(Number::parse(s).unwrap())
}

/// A value written in a test: a number, a year (`y2025`), a no-value token
/// (`集計中`, `—`), a bool, or an enum value (`increase`).
fn value(m: &PlanModel, s: &str) -> OwnedValue {
    if let Ok(n) = Number::parse(s) {
        return OwnedValue::Num(n);
    }
    if let Some(y) = s.strip_prefix('y') {
        if let Ok(y) = y.parse() {
            return OwnedValue::Year(y);
        }
    }
    match s {
        "true" => return OwnedValue::Bool(true),
        "false" => return OwnedValue::Bool(false),
        "—" | "集計中" | "調査中" => return OwnedValue::Missing(Some(s.into())),
        _ => {}
    }
    for e in m.schema.enums() {
        if let Some(i) = e.values.iter().position(|v| v == s) {
            return OwnedValue::Enum(m.enumeration(&e.name), i as u16);
        }
    }
    OwnedValue::Str(s.into())
}

impl Plan {
    fn new_obj(&mut self, kind: KindId, name: &str) -> Obj {
        let n = self.counts.entry(kind).or_default();
        let obj = Obj::new(kind, *n);
        *n += 1;
        self.names.insert(obj, name.to_string());
        obj
    }

    fn set(&mut self, m: &PlanModel, obj: Obj, field: &str, v: OwnedValue) {
        let kind = &m.schema.kind(obj.kind).name;
        self.fields.insert((obj, m.field(kind, field)), v);
    }

    fn list(&mut self, items: Vec<OwnedValue>) -> OwnedValue {
        self.lists.push(items);
        OwnedValue::List(ListRef {
            store: 0,
            start: self.lists.len() as u32 - 1,
            len: self.lists.last().map_or(0, |l| l.len() as u32),
        })
    }

    /// An indicator from `key=value` pairs: `dir=increase`,
    /// `actuals=2020:238,2021:集計中`, `target=2025:300`, `baseline=2016:261`,
    /// `link=k-12`, any other field as `field=value`.
    fn indicator(&mut self, m: &PlanModel, spec: &str) -> Obj {
        let kind = m.kind("indicator");
        let name = spec
            .split_whitespace()
            .find_map(|kv| kv.strip_prefix("name="))
            .unwrap_or("i");
        let obj = self.new_obj(kind, name);
        for kv in spec.split_whitespace() {
            let (k, v) = kv.split_once('=').unwrap();
            match k {
                "dir" => self.set(m, obj, "direction", value(m, v)),
                "actuals" => {
                    let mut obs = Vec::new();
                    for pair in v.split(',') {
                        let (y, val) = pair.split_once(':').unwrap();
                        let o = self.new_obj(m.kind("observation"), "obs");
                        self.set(m, o, "year", OwnedValue::Year(y.parse().unwrap()));
                        self.set(m, o, "value", value(m, val));
                        obs.push(OwnedValue::Obj(o));
                    }
                    let l = self.list(obs);
                    self.set(m, obj, "actuals", l);
                }
                "target" | "baseline" => {
                    let (y, val) = v.split_once(':').unwrap();
                    let rec = if k == "target" {
                        "target"
                    } else {
                        "observation"
                    };
                    let o = self.new_obj(m.kind(rec), k);
                    self.set(
                        m,
                        o,
                        "year",
                        OwnedValue::Year(y.trim_start_matches('y').parse().unwrap()),
                    );
                    self.set(m, o, "value", value(m, val));
                    self.set(m, obj, k, OwnedValue::Obj(o));
                }
                _ => self.set(m, obj, k, value(m, v)),
            }
        }
        obj
    }

    /// Computes every derive for every object of its kind, in order, and
    /// returns the first runtime error (in that order), as the engine
    /// reports it; a failed derive is missing. The same derives are also
    /// computed group by group, entity by entity
    /// ([`Program::eval_derives`]) and many entities at a time
    /// ([`Program::eval_derives_batch`]): every way must give the same
    /// values and errors.
    fn derive_all(&mut self, p: &Program, ctx: &Ctx) -> Result<(), String> {
        let objs = |plan: &Plan, kind: KindId| -> Vec<Obj> {
            let n = plan.counts.get(&kind).copied().unwrap_or(0);
            (0..n).map(|k| Obj::new(kind, k)).collect()
        };
        // One derive at a time.
        self.derived.clear();
        let mut errors = Vec::new();
        for (i, d) in p.derives().iter().enumerate() {
            let id = DeriveId(i as u32);
            let mut out = Vec::new();
            for obj in objs(self, d.kind) {
                let v = match p.eval_derive(id, obj, self, ctx) {
                    Ok(v) => v.to_owned_value(),
                    Err(e) => {
                        errors.push(e.to_string());
                        OwnedValue::Missing(None)
                    }
                };
                out.push((obj, v));
            }
            for (obj, v) in out {
                self.derived.insert((id, obj), v);
            }
        }
        let reference = std::mem::take(&mut self.derived);

        // A group at a time: per entity, then in batches.
        for batch in [false, true] {
            self.derived.clear();
            let mut group_errors = Vec::new();
            for g in p.derive_groups() {
                let objs = objs(self, g.kind);
                let count = g.len as usize;
                let mut values = vec![Value::Missing(None); objs.len() * count];
                if batch {
                    p.eval_derives_batch(
                        g.first,
                        count,
                        &objs,
                        self,
                        ctx,
                        &mut values,
                        &mut group_errors,
                    );
                } else {
                    for (obj, out) in objs.iter().zip(values.chunks_mut(count)) {
                        p.eval_derives(g.first, *obj, self, ctx, out, &mut group_errors);
                    }
                }
                let values: Vec<OwnedValue> = values.iter().map(|v| v.to_owned_value()).collect();
                for (obj, vs) in objs.iter().zip(values.chunks(count)) {
                    for (d, v) in g.derives().zip(vs) {
                        self.derived.insert((d, *obj), v.clone());
                    }
                }
            }
            let way = if batch {
                "eval_derives_batch"
            } else {
                "eval_derives"
            };
            for (key, v) in &reference {
                let got = &self.derived[key];
                assert_eq!(got, v, "{way}: derive {:?} of {:?}", key.0, key.1);
                assert_eq!(p.show(got.as_value(), self), p.show(v.as_value(), self));
            }
            assert_eq!(self.derived.len(), reference.len(), "{way}");
            let (mut a, mut b) = (
                errors.clone(),
                group_errors
                    .iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>(),
            );
            a.sort();
            b.sort();
            assert_eq!(a, b, "{way}: errors");
        }
        self.derived = reference;
        match errors.into_iter().next() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

const YEAR: Ctx = Ctx { year: 2022 };

fn program(rules: &str, params: &[(&str, &str)]) -> (PlanModel, Program) {
    let m = plan_model();
    let pack = PackSource::new("t", vec![("t.hyk".into(), rules.into())]);
    let overrides = Overrides {
        params: params.iter().map(|(k, v)| Setting::new(*k, *v)).collect(),
        rules: Vec::new(),
    };
    match compile(&[pack], &m.schema, &overrides) {
        Ok(p) => (m, p),
        Err(e) => panic!("{e:?}"),
    }
}

/// The value of `expr` (a derive `x for indicator`) on an indicator built
/// from `spec`, as messages show it; runtime errors as their message.
fn eval_with(rules: &str, params: &[(&str, &str)], spec: &str, expr: &str) -> String {
    let src = format!("{rules}\nderive x_under_test for indicator: {expr}");
    let (m, p) = program(&src, params);
    let mut plan = Plan::default();
    let obj = plan.indicator(&m, spec);
    if let Err(e) = plan.derive_all(&p, &YEAR) {
        return e;
    }
    let d = p.derive_named(m.kind("indicator"), "x_under_test").unwrap();
    p.show(plan.derived(d, obj), &plan)
}

/// [`eval_with`] without rules or parameters: `expr` is `TYPE = EXPR`.
fn eval(spec: &str, expr: &str) -> String {
    eval_with("", &[], spec, expr)
}

const GRADES: &str = r#"
param a_min: number = 90%
param b_min: number = 70%
fn ratio(a: number, b: number): number = if b == 0 then missing else a / b
derive rate for indicator: number =
    if indicator.direction == increase then ratio(latest(indicator), indicator.target.value)
    else ratio(indicator.target.value, latest(indicator))
scale abc {
    A = a_min ..
    B = b_min .. a_min
    C = .. b_min
    未算出 = missing
    完了 = state
}
derive grade for indicator: grade(abc) = grade(abc, indicator.rate)
"#;

fn grade(spec: &str) -> String {
    eval_with(GRADES, &[], spec, "grade(abc) = indicator.grade")
}

/// Messages of rules that fire, `entity: message`, in order.
fn findings(rules: &str, specs: &[&str]) -> Vec<String> {
    let (m, p) = program(rules, &[]);
    let mut plan = Plan::default();
    let objs: Vec<Obj> = specs.iter().map(|s| plan.indicator(&m, s)).collect();
    plan.derive_all(&p, &YEAR).unwrap();
    let mut out = Vec::new();
    for (r, rule) in p.rules().iter().enumerate() {
        let r = RuleId(r as u32);
        match rule.scope {
            Scope::Each(_) => {
                for o in &objs {
                    match p.eval_rule(r, *o, &plan, &YEAR) {
                        Ok(Some(f)) => out.push(format!("{}: {}", plan.describe(*o), f.message)),
                        Ok(None) => {}
                        Err(e) => out.push(format!("error: {e}")),
                    }
                }
            }
            Scope::Group(_) => {
                let mut groups: Vec<(hyoka_dsl::Key, Vec<Obj>)> = Vec::new();
                for o in &objs {
                    if let Some(k) = p.eval_group_key(r, *o, &plan, &YEAR).unwrap() {
                        match groups.iter_mut().find(|(g, _)| *g == k) {
                            Some((_, members)) => members.push(*o),
                            None => groups.push((k, vec![*o])),
                        }
                    }
                }
                for (k, members) in &groups {
                    if let Some(f) = p.eval_group_rule(r, k, members, &plan, &YEAR).unwrap() {
                        out.push(format!("group: {}", f.message));
                    }
                }
            }
        }
    }
    out
}

const UP: &str = "dir=increase target=y2025:50";

#[test]
fn exact_decimal_boundaries() {
    assert_eq!(grade(&format!("{UP} actuals=2022:35.0")), "B");
    assert_eq!(grade(&format!("{UP} actuals=2022:34.99")), "C");
    assert_eq!(grade(&format!("{UP} actuals=2022:45")), "A");
    assert_eq!(
        grade("dir=increase target=y2025:70.0 actuals=2022:61.4"),
        "B"
    );
    assert_eq!(grade("dir=increase target=y2025:70.0 actuals=2022:63"), "A");
    assert_eq!(eval("", "bool = 35.0 / 50 == 70%"), "true");
    assert_eq!(eval("", "bool = 1 / 3 * 3 == 1"), "true");
    assert_eq!(eval("", "number = 238 / 300"), "0.793333");
    assert_eq!(eval("", "number = round(238 / 300, 3)"), "0.793");
}

#[test]
fn direction_aware_rate() {
    assert_eq!(
        grade("dir=decrease target=y2025:300 actuals=2021:1128,2022:320"),
        "A"
    );
    assert_eq!(grade("dir=decrease target=y2025:300 actuals=2022:679"), "C");
}

#[test]
fn missing_values_grade_as_the_missing_state() {
    assert_eq!(grade("dir=increase actuals=2022:35"), "未算出");
    assert_eq!(
        grade("dir=increase target=y2025:0 actuals=2022:5"),
        "未算出"
    );
    assert_eq!(grade(&format!("{UP} actuals=2022:集計中")), "未算出");
}

#[test]
fn latest_takes_the_last_value_in_or_before_the_year() {
    let s = "actuals=2020:238,2021:集計中,2023:999";
    assert_eq!(eval(s, "number = latest(indicator)"), "238");
    assert_eq!(eval(s, "year = latest_year(indicator)"), "2020");
    assert_eq!(eval(s, "number = actual(indicator, 2023)"), "999");
    assert_eq!(
        eval("actuals=2021:集計中", "string = reason(latest(indicator))"),
        "集計中"
    );
    assert_eq!(
        eval("actuals=2021:—", "bool = latest(indicator) is missing"),
        "true"
    );
}

#[test]
fn three_valued_logic() {
    let m = "actuals=2022:集計中";
    assert_eq!(eval(m, "bool = false and latest(indicator) > 1"), "false");
    assert_eq!(eval(m, "bool = latest(indicator) > 1 and false"), "false");
    assert_eq!(eval(m, "bool = true or latest(indicator) > 1"), "true");
    assert_eq!(
        eval(m, "bool = (true and latest(indicator) > 1) is missing"),
        "true"
    );
    assert_eq!(
        eval(m, "bool = (false or latest(indicator) > 1) is missing"),
        "true"
    );
    assert_eq!(
        eval(m, "bool = (not (latest(indicator) > 1)) is missing"),
        "true"
    );
    assert_eq!(
        eval(m, "number = (if latest(indicator) > 1 then 1 else 2) ?? 3"),
        "3"
    );
    // The reason travels through arithmetic.
    assert_eq!(
        eval(m, "string = reason(latest(indicator) * 2 + 1)"),
        "集計中"
    );
}

#[test]
fn coalesce_and_membership() {
    assert_eq!(eval("", "number = indicator.target.value ?? 0"), "0");
    assert_eq!(
        eval("target=y2025:5", "number = indicator.target.value ?? 0"),
        "5"
    );
    assert_eq!(
        eval(
            "dir=decrease",
            "bool = indicator.direction in [increase, decrease]"
        ),
        "true"
    );
    assert_eq!(
        eval(
            "dir=maintain",
            "bool = indicator.direction not in [increase, decrease]"
        ),
        "true"
    );
    assert_eq!(
        eval("", "bool = (indicator.direction in [increase]) is missing"),
        "true"
    );
}

#[test]
fn years_and_text() {
    assert_eq!(
        eval("target=y2025:1", "number = indicator.target.year - year"),
        "3"
    );
    assert_eq!(
        eval("target=y2025:1", "year = indicator.target.year - 1"),
        "2024"
    );
    assert_eq!(eval("unit=件", "bool = indicator.unit == \"件\""), "true");
    assert_eq!(
        eval("name=きらめき出前講座", "number = len(indicator.name)"),
        "8"
    );
    assert_eq!(
        eval(
            "name=きらめき出前講座",
            "bool = contains(indicator.name, \"出前\")"
        ),
        "true"
    );
    assert_eq!(eval("", "number = round(-2.5, 0)"), "-3");
}

#[test]
fn aggregates_with_filters() {
    let s = "actuals=2019:10,2020:—,2021:30,2022:20";
    assert_eq!(eval(s, "number = count(o in indicator.actuals)"), "4");
    assert_eq!(
        eval(
            s,
            "number = count(o in indicator.actuals where o.value > 15)"
        ),
        "2"
    );
    assert_eq!(
        eval(s, "number = sum(o in indicator.actuals => o.value)"),
        "60"
    );
    assert_eq!(
        eval(s, "number = avg(o in indicator.actuals => o.value)"),
        "20"
    );
    assert_eq!(
        eval(s, "number = min(o in indicator.actuals => o.value)"),
        "10"
    );
    assert_eq!(
        eval(
            s,
            "year = max(o in indicator.actuals where o.value is not missing => o.year)"
        ),
        "2022"
    );
    assert_eq!(
        eval(s, "bool = any(o in indicator.actuals => o.value > 25)"),
        "true"
    );
    assert_eq!(
        eval(
            s,
            "bool = all(o in indicator.actuals where o.value is not missing => o.value > 5)"
        ),
        "true"
    );
    assert_eq!(
        eval(
            s,
            "bool = all(o in indicator.actuals => o.value > 5) is missing"
        ),
        "true"
    );
    assert_eq!(
        eval(
            s,
            "number = distinct(o in indicator.actuals => o.value > 15)"
        ),
        "2"
    );
    assert_eq!(
        eval("", "number = avg(o in indicator.actuals => o.value) ?? -1"),
        "-1"
    );
    assert_eq!(
        eval(s, "number = sum(o in indicator.actuals => count(p in indicator.actuals where p.year < o.year))"),
        "6"
    );
}

#[test]
fn division_by_zero_is_a_runtime_error() {
    assert_eq!(
        eval(
            "actuals=2022:238 target=y2025:0",
            "number = latest(indicator) / indicator.target.value"
        ),
        "division by zero in derive `t.x_under_test` for `i`: 238 ÷ 0"
    );
    let rule = r#"
rule r for indicator {
    severity error
    when latest(indicator) / indicator.target.value > 1
    message "never"
}"#;
    assert_eq!(
        findings(rule, &["name=M1-1 actuals=2022:238 target=y2025:0"]),
        ["error: division by zero in rule `t.r` for `M1-1`: 238 ÷ 0"]
    );
}

#[test]
fn parameters_overridden() {
    let spec = format!("{UP} actuals=2022:43");
    assert_eq!(
        eval_with(GRADES, &[], &spec, "grade(abc) = indicator.grade"),
        "B"
    );
    assert_eq!(
        eval_with(
            GRADES,
            &[("t.a_min", "85%")],
            &spec,
            "grade(abc) = indicator.grade"
        ),
        "A"
    );
    assert_eq!(
        eval_with(GRADES, &[("t.a_min", "0.86")], &spec, "number = a_min"),
        "0.86"
    );
}

#[test]
fn scale_states_and_bands() {
    let g = |spec: &str, e: &str| eval_with(GRADES, &[], spec, e);
    assert_eq!(g("", "grade(abc) = abc.完了"), "完了");
    assert_eq!(
        g(
            &format!("{UP} actuals=2022:45"),
            "bool = indicator.grade == A"
        ),
        "true"
    );
    assert_eq!(
        g(
            &format!("{UP} actuals=2022:45"),
            "bool = indicator.grade > B"
        ),
        "true"
    );
    assert_eq!(
        g(
            &format!("{UP} actuals=2022:20"),
            "bool = indicator.grade < B"
        ),
        "true"
    );
    assert_eq!(g("", "bool = (indicator.grade > B) is missing"), "true");
    assert_eq!(g("", "bool = indicator.grade == 未算出"), "true");
}

#[test]
fn rules_fire_with_rendered_messages() {
    let rules = r#"
rule met for indicator {
    severity warning
    when indicator.direction == increase and latest(indicator) >= indicator.target.value
    message "{indicator.name}: 目標値 {indicator.target.value} を {latest_year(indicator)} 年度に達成済み ({indicator.direction})"
    suggest if indicator.target.year - year >= 2 then 拡充 else 継続
}"#;
    assert_eq!(
        findings(
            rules,
            &[
                "name=相談対応件数 dir=increase target=y2025:1800 actuals=2020:1900",
                "name=講座 dir=increase target=y2025:300 actuals=2022:238",
                "name=不明 dir=increase target=y2025:300 actuals=2022:集計中",
            ]
        ),
        ["相談対応件数: 相談対応件数: 目標値 1800 を 2020 年度に達成済み (increase)"]
    );
}

#[test]
fn computed_suggestions() {
    let rules = r#"
rule met for indicator {
    severity warning
    when latest(indicator) >= indicator.target.value
    message "met"
    suggest if indicator.target.year - year >= 2 then 拡充 else 継続
}"#;
    let (m, p) = program(rules, &[]);
    let mut plan = Plan::default();
    let early = plan.indicator(&m, "target=y2025:1 actuals=2022:1");
    let late = plan.indicator(&m, "target=y2023:1 actuals=2022:1");
    let suggest = |o| {
        p.eval_rule(RuleId(0), o, &plan, &YEAR)
            .unwrap()
            .unwrap()
            .suggest
    };
    assert_eq!(suggest(early).as_deref(), Some("拡充"));
    assert_eq!(suggest(late).as_deref(), Some("継続"));
}

#[test]
fn group_rules_run_once_per_key() {
    let rules = r#"
rule same_target for group indicator by (indicator.link, indicator.target.year) {
    severity error
    when distinct(m in members => m.target.value) > 1
    message "{key}: {members}"
}"#;
    assert_eq!(
        findings(
            rules,
            &[
                "name=a link=k-12 target=y2025:150",
                "name=b link=k-12 target=y2025:138",
                "name=c link=k-12 target=y2024:10",
                "name=d link=k-13 target=y2025:1",
                "name=e target=y2025:1",
                "name=f link=k-12 target=y2025:150.0",
            ]
        ),
        ["group: (k-12, 2025): a, b, f"]
    );
}

#[test]
fn group_keys_skip_missing_and_filtered() {
    let rules = r#"
rule parts for group indicator by indicator.part_group where not (indicator.monitoring ?? false) {
    severity warning
    when count(m in members) != 2
    message "{key} has {count(m in members)} parts"
}"#;
    assert_eq!(
        findings(
            rules,
            &[
                "name=a part_group=M5-2",
                "name=b part_group=M5-2",
                "name=c part_group=M6-1",
                "name=d part_group=M6-1 monitoring=true",
                "name=e",
            ]
        ),
        ["group: M6-1 has 1 parts"]
    );
}

#[test]
fn trace_records_sub_expressions() {
    let (m, p) = program(
        "rule r for indicator {\n severity info\n when latest(indicator) > 10\n message \"x\"\n}",
        &[],
    );
    let mut plan = Plan::default();
    let o = plan.indicator(&m, "actuals=2022:12");
    let (result, steps) = p.trace_rule(RuleId(0), o, None, &plan, &YEAR);
    assert!(result.unwrap().is_some());
    let shown: Vec<String> = steps
        .iter()
        .map(|s| format!("{} = {}", s.source, s.value))
        .collect();
    assert_eq!(
        shown,
        [
            "indicator = i",
            "latest(indicator) = 12",
            "latest(indicator) > 10 = true"
        ]
    );
}

#[test]
fn numbers_parse_like_plan_files() {
    assert_eq!(num("1_000"), num("1000"));
}
