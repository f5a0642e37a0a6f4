//! The batch evaluator ([`Program::eval_derives_batch`]) and the grouped one
//! ([`Program::eval_derives`]) against the scalar one
//! ([`Program::eval_derive`]), on many random entities: the standard packs
//! `rates` and `grades`, plus derives that reach every kind of node, fail on
//! some entities (division by zero, overflow), read derives of `this` and of
//! other entities. Every value and every error must be the same.

use std::collections::HashMap;

use hyoka_dsl::schema::testing::{plan_model, PlanModel};
use hyoka_dsl::{
    compile, Ctx, Data, DeriveId, FieldId, KindId, ListRef, Number, Obj, Overrides, OwnedValue,
    PackSource, Program, RuleId, Scope, Value,
};

/// An in-memory plan: objects are maps from field to value; lists live in
/// one table.
#[derive(Default)]
struct Plan {
    fields: HashMap<(Obj, FieldId), OwnedValue>,
    lists: Vec<Vec<OwnedValue>>,
    counts: HashMap<KindId, u32>,
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
        format!("{}#{}", obj.kind.0, obj.index)
    }
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

impl Plan {
    fn new_obj(&mut self, kind: KindId) -> Obj {
        let n = self.counts.entry(kind).or_default();
        let obj = Obj::new(kind, *n);
        *n += 1;
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

    /// A number, a missing value with a reason, or nothing.
    fn amount(r: &mut Rng) -> Option<OwnedValue> {
        Some(match r.below(20) {
            0 => return None,
            1 => OwnedValue::Missing(Some("集計中".into())),
            2 => OwnedValue::Num(Number::ZERO),
            3 => OwnedValue::Num(Number::from_i64(100)),
            4 => OwnedValue::Num(Number::from_i64(-(r.below(500) as i64))),
            5 => OwnedValue::Num(Number::from_i64(i64::MAX / 3)),
            _ => OwnedValue::Num(Number::from_decimal(r.below(20_000) as i64, 1).unwrap()),
        })
    }

    fn observation(&mut self, m: &PlanModel, r: &mut Rng, year: i32) -> Obj {
        let o = self.new_obj(m.kind("observation"));
        self.set(m, o, "year", OwnedValue::Year(year));
        if let Some(v) = Self::amount(r) {
            self.set(m, o, "value", v);
        }
        o
    }

    /// Random plans, measures, projects and indicators.
    fn random(m: &PlanModel, seed: u64, indicators: usize) -> Plan {
        let mut r = Rng(seed);
        let mut p = Plan::default();
        let directions = ["increase", "decrease", "maintain"];
        let plans: Vec<Obj> = (0..3)
            .map(|_| {
                let plan = p.new_obj(m.kind("plan"));
                let period = p.new_obj(m.kind("period"));
                p.set(
                    m,
                    period,
                    "from",
                    OwnedValue::Year(2016 + r.below(4) as i32),
                );
                p.set(m, period, "to", OwnedValue::Year(2025));
                p.set(m, plan, "period", OwnedValue::Obj(period));
                plan
            })
            .collect();
        let measures: Vec<Obj> = (0..40).map(|_| p.new_obj(m.kind("measure"))).collect();
        let projects: Vec<Obj> = (0..30).map(|_| p.new_obj(m.kind("project"))).collect();
        let mut by_plan: Vec<Vec<OwnedValue>> = vec![Vec::new(); plans.len()];
        let mut by_measure: Vec<Vec<OwnedValue>> = vec![Vec::new(); measures.len()];
        let mut by_project: Vec<Vec<OwnedValue>> = vec![Vec::new(); projects.len()];
        for k in 0..indicators {
            let i = p.new_obj(m.kind("indicator"));
            p.set(m, i, "name", OwnedValue::Str(format!("指標{k}").into()));
            let plan = r.below(plans.len() as u64) as usize;
            p.set(m, i, "plan", OwnedValue::Obj(plans[plan]));
            by_plan[plan].push(OwnedValue::Obj(i));
            if r.chance(80) {
                let ms = r.below(measures.len() as u64) as usize;
                p.set(m, i, "measure", OwnedValue::Obj(measures[ms]));
                by_measure[ms].push(OwnedValue::Obj(i));
            } else {
                let pj = r.below(projects.len() as u64) as usize;
                p.set(m, i, "project", OwnedValue::Obj(projects[pj]));
                by_project[pj].push(OwnedValue::Obj(i));
            }
            if !r.chance(5) {
                let d = directions[[0, 0, 0, 0, 1, 1, 2][r.below(7) as usize]];
                let e = m.enumeration("direction");
                p.set(
                    m,
                    i,
                    "direction",
                    OwnedValue::Enum(e, m.variant("direction", d)),
                );
            }
            for (flag, percent) in [
                ("monitoring", 5),
                ("target_to_be_set", 3),
                ("qualitative", 3),
                ("cumulative", 10),
            ] {
                p.set(m, i, flag, OwnedValue::Bool(r.chance(percent)));
            }
            if r.chance(10) {
                let y = 2017 + r.below(4) as i32;
                p.set(m, i, "cumulative_from", OwnedValue::Year(y));
            }
            if !r.chance(5) {
                let t = p.new_obj(m.kind("target"));
                p.set(m, t, "year", OwnedValue::Year(2022 + r.below(4) as i32));
                if let Some(v) = Self::amount(&mut r) {
                    p.set(m, t, "value", v);
                }
                p.set(m, i, "target", OwnedValue::Obj(t));
            }
            if r.chance(70) {
                let y = 2015 + r.below(3) as i32;
                let b = p.observation(m, &mut r, y);
                p.set(m, i, "baseline", OwnedValue::Obj(b));
            }
            let n = r.below(5);
            let actuals: Vec<OwnedValue> = (0..n)
                .map(|_| {
                    let y = 2018 + r.below(7) as i32;
                    OwnedValue::Obj(p.observation(m, &mut r, y))
                })
                .collect();
            if n > 0 || r.chance(50) {
                let l = p.list(actuals);
                p.set(m, i, "actuals", l);
            }
        }
        for (plan, items) in plans.iter().zip(by_plan) {
            let l = p.list(items);
            p.set(m, *plan, "indicators", l);
        }
        for (ms, items) in measures.iter().zip(by_measure) {
            let l = p.list(items);
            p.set(m, *ms, "indicators", l);
        }
        for (pj, items) in projects.iter().zip(by_project) {
            let l = p.list(items);
            p.set(m, *pj, "indicators", l);
        }
        p
    }

    fn objs(&self, kind: KindId) -> Vec<Obj> {
        let n = self.counts.get(&kind).copied().unwrap_or(0);
        (0..n).map(|k| Obj::new(kind, k)).collect()
    }
}

/// Derives reaching the nodes the standard packs do not, failing on some
/// entities, and reading derives of this entity and of others.
const COVERAGE: &str = r#"
derive c_logic for indicator: bool =
    not (indicator.monitoring or indicator.cumulative)
    and (indicator.direction in [increase, maintain] or latest(indicator) > 500)

derive c_coalesce for indicator: number =
    latest(indicator) ?? indicator.target.value ?? indicator.baseline.value ?? -1

fn above(i: indicator, t: number): number = count(o in i.actuals where o.value > t)

derive c_fn_agg for indicator: number =
    above(indicator, (indicator.target.value ?? 0) / 2)
    + count(o in indicator.actuals where o.value < indicator.c_coalesce)

derive c_reason for indicator: string =
    reason(latest(indicator)) ?? reason(indicator.target.value) ?? "なし"

derive c_aggs for indicator: number =
    count(o in indicator.actuals where o.value is not missing)
    + sum(o in indicator.actuals where o.value is not missing and o.value < 1000 => o.value)
    + (max(o in indicator.actuals => o.year) ?? 2000) - 2000
    + (if any(o in indicator.actuals => o.value is missing) then 1 else 0)
    + (if all(o in indicator.actuals => o.year >= 2020) then 1 else 0)
    + distinct(o in indicator.actuals => o.year)

derive c_years for indicator: number =
    (latest_year(indicator) ?? year) - (indicator.target.year ?? year)
    + (max(latest_year(indicator) ?? year, indicator.target.year ?? year) - year)
    + (actual(indicator, 2021) ?? 0)

derive c_fns for indicator: number =
    round(abs((latest(indicator) ?? 0) - (indicator.target.value ?? 0)), 1)
    + min(len(indicator.name), 4)
    + (if contains(indicator.name, "7") or starts_with(indicator.name, "指標1") then 1 else 0)

derive c_div for indicator: number =
    latest(indicator) / (indicator.target.value - 100)

derive c_overflow for indicator: number =
    indicator.target.value * 4 + latest(indicator) * 3

derive c_neg for indicator: number = -(indicator.target.value * 2) - -latest(indicator)

derive c_this for indicator: number =
    if indicator.c_div is missing then indicator.c_overflow ?? indicator.rate
    else indicator.c_div + (indicator.c_coalesce ?? 0)

derive c_peers for indicator: number =
    count(i in indicator.plan.indicators where i.c_this is not missing and i.c_this > 1)

derive c_measure for indicator: number =
    indicator.rate - indicator.measure.rate

derive c_in for indicator: bool = indicator in indicator.plan.indicators

fn share(i: indicator, y: year): number =
    if y >= year then latest(i) / (i.target.value - 100) else actual(i, y)

fn twice(x: number): number = x + x

derive c_repeat for indicator: number =
    if share(indicator, year) is missing then twice(share(indicator, year - 1))
    else if year > 2021 then twice(share(indicator, year))
    else share(indicator, year) - latest(indicator) / (indicator.target.value - 100)

derive c_repeat_again for indicator: number =
    twice(latest(indicator) / (indicator.target.value - 100)) + twice(share(indicator, year - 1))

rule c_fails for indicator where indicator.direction == increase or indicator.c_logic {
    severity warning
    when indicator.c_div > 1 or latest(indicator) / (indicator.target.value - 100) < 0
    message "{indicator.name}: {indicator.c_div}"
}

rule c_filter_fails for indicator where latest(indicator) / (indicator.target.value - 100) > 1 {
    severity info
    when indicator.rate is missing
    message "{indicator.name}"
}

"#;

fn program() -> (PlanModel, Program) {
    let m = plan_model();
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../rules");
    let read = |p: &str| std::fs::read_to_string(format!("{root}/{p}/{p}.hyk")).unwrap();
    let mut packs = Vec::new();
    // The standard packs, and the coverage derives and rules.
    for (name, extends) in [
        ("rates", &[][..]),
        ("grades", &["rates"][..]),
        ("review", &["rates", "grades"][..]),
        ("consistency", &["rates"][..]),
        ("quality", &["rates"][..]),
    ] {
        let mut p = PackSource::new(name, vec![(format!("{name}.hyk"), read(name))]);
        p.extends = extends.iter().map(|e| e.to_string()).collect();
        packs.push(p);
    }
    let mut coverage = PackSource::new("c", vec![("c.hyk".into(), COVERAGE.into())]);
    coverage.extends = vec!["rates".into(), "grades".into()];
    packs.push(coverage);
    match compile(&packs, &m.schema, &Overrides::default()) {
        Ok(p) => (m, p),
        Err(e) => {
            for e in e {
                eprintln!("{:?}", miette::Report::new(e));
            }
            panic!("the test rules do not compile")
        }
    }
}

#[test]
fn batches_agree_with_the_scalar_walk() {
    let (m, p) = program();
    // Groups: a derive reading a derive of its group on another entity
    // (`c_peers`) starts a new group; reading derives of another kind
    // computed before (`c_measure`) does not.
    let groups = p.derive_groups();
    assert!(groups.len() >= 4, "{groups:?}");
    assert_eq!(
        groups.iter().map(|g| g.len).sum::<u32>() as usize,
        p.derives().len()
    );
    for g in groups {
        for d in g.derives() {
            assert_eq!(p.derives()[d.0 as usize].kind, g.kind);
        }
    }
    let starts = |name: &str| {
        let d = p.derive_named(m.kind("indicator"), name).unwrap();
        groups.iter().any(|g| g.first == d)
    };
    let names: Vec<Vec<&str>> = groups
        .iter()
        .map(|g| {
            g.derives()
                .map(|d| p.derives()[d.0 as usize].name.as_str())
                .collect()
        })
        .collect();
    assert!(starts("c_peers") && !starts("c_measure"), "{names:?}");

    for (seed, n, year) in [(7, 700, 2022), (11, 300, 2020), (99, 1, 2024)] {
        let ctx = Ctx { year };
        let mut plan = Plan::random(&m, seed, n);

        // One derive at a time, as the engine did.
        let mut errors = Vec::new();
        for (i, d) in p.derives().iter().enumerate() {
            let id = DeriveId(i as u32);
            let mut column = Vec::new();
            for obj in plan.objs(d.kind) {
                match p.eval_derive(id, obj, &plan, &ctx) {
                    Ok(v) => column.push((obj, v.to_owned_value())),
                    Err(e) => {
                        errors.push(e.to_string());
                        column.push((obj, OwnedValue::Missing(None)));
                    }
                }
            }
            for (obj, v) in column {
                plan.derived.insert((id, obj), v);
            }
        }
        assert!(
            n < 100
                || errors.iter().any(|e| e.contains("division by zero"))
                    && errors.iter().any(|e| e.contains("too large")),
            "the data exercises failures: {errors:?}"
        );
        errors.sort();
        let reference = std::mem::take(&mut plan.derived);

        for batch in [false, true] {
            plan.derived.clear();
            let mut group_errors = Vec::new();
            for g in groups {
                let objs = plan.objs(g.kind);
                let count = g.len as usize;
                let mut values = vec![Value::Missing(None); objs.len() * count];
                if batch {
                    p.eval_derives_batch(
                        g.first,
                        count,
                        &objs,
                        &plan,
                        &ctx,
                        &mut values,
                        &mut group_errors,
                    );
                } else {
                    for (obj, out) in objs.iter().zip(values.chunks_mut(count)) {
                        p.eval_derives(g.first, *obj, &plan, &ctx, out, &mut group_errors);
                    }
                }
                let owned: Vec<OwnedValue> = values.iter().map(|v| v.to_owned_value()).collect();
                for (obj, vs) in objs.iter().zip(owned.chunks(count)) {
                    for (d, v) in g.derives().zip(vs) {
                        plan.derived.insert((d, *obj), v.clone());
                    }
                }
            }
            let way = if batch {
                "eval_derives_batch"
            } else {
                "eval_derives"
            };
            assert_eq!(plan.derived.len(), reference.len());
            for (key, want) in &reference {
                let got = &plan.derived[key];
                let name = &p.derives()[key.0 .0 as usize].name;
                assert_eq!(got, want, "{way}, seed {seed}: {name} of {:?}", key.1);
            }
            let mut got: Vec<String> = group_errors.iter().map(|e| e.to_string()).collect();
            got.sort();
            assert_eq!(got, errors, "{way}, seed {seed}: errors");
        }
    }
}

#[test]
fn screens_keep_every_rule_that_fires_or_fails() {
    let (m, p) = program();
    let each: Vec<(RuleId, KindId)> = p
        .rules()
        .iter()
        .enumerate()
        .filter_map(|(i, r)| match r.scope {
            Scope::Each(k) => Some((RuleId(i as u32), k)),
            Scope::Group(_) => None,
        })
        .collect();
    assert!(each.len() > 20);
    for (seed, n, year) in [(5, 600, 2022), (13, 300, 2020)] {
        let ctx = Ctx { year };
        let mut plan = Plan::random(&m, seed, n);
        for (i, d) in p.derives().iter().enumerate() {
            let id = DeriveId(i as u32);
            let column: Vec<(Obj, OwnedValue)> = plan
                .objs(d.kind)
                .into_iter()
                .map(|obj| {
                    let v = p.eval_derive(id, obj, &plan, &ctx);
                    (
                        obj,
                        v.map_or(OwnedValue::Missing(None), |v| v.to_owned_value()),
                    )
                })
                .collect();
            plan.derived
                .extend(column.into_iter().map(|(o, v)| ((id, o), v)));
        }
        let mut outcomes = [0usize; 3];
        let kinds: std::collections::BTreeSet<KindId> = each.iter().map(|e| e.1).collect();
        for kind in kinds {
            let rules: Vec<RuleId> = each.iter().filter(|e| e.1 == kind).map(|e| e.0).collect();
            let objs = plan.objs(kind);
            let mut screened = vec![false; objs.len() * rules.len()];
            p.screen_rules(&rules, &objs, &plan, &ctx, &mut screened);
            for (i, obj) in objs.iter().enumerate() {
                for (k, r) in rules.iter().enumerate() {
                    let result = p.eval_rule(*r, *obj, &plan, &ctx);
                    let keep = !matches!(result, Ok(None));
                    outcomes[match result {
                        Ok(None) => 0,
                        Ok(Some(_)) => 1,
                        Err(_) => 2,
                    }] += 1;
                    let id = p.rules()[r.0 as usize].qualified_id();
                    assert_eq!(screened[i * rules.len() + k], keep, "{id} on {obj:?}");
                }
            }
        }
        // The data makes rules fire, fail and stay quiet.
        assert!(outcomes.iter().all(|n| *n > 0), "{outcomes:?}");
    }
}

#[test]
#[should_panic(expected = "not in one group")]
fn batches_must_stay_in_one_group() {
    let (m, p) = program();
    let plan = Plan::random(&m, 3, 10);
    let g = p.derive_groups()[0];
    let objs = plan.objs(g.kind);
    let count = g.len as usize + 1;
    let mut out = vec![Value::Missing(None); objs.len() * count];
    p.eval_derives_batch(
        g.first,
        count,
        &objs,
        &plan,
        &Ctx { year: 2022 },
        &mut out,
        &mut Vec::new(),
    );
}
