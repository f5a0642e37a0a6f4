//! Micro benchmark: the seeds' grade rule evaluated by the compiled program
//! against the same computation written by hand in Rust, over synthetic
//! indicators stored in columns (as the engine stores them).
//!
//! Run with `cargo run --release -p hyoka-dsl --example bench_grade [N]`.
//! It prints evaluations per second for each variant and the ratio; it
//! asserts nothing about time (machines differ), only that both agree.

use std::hint::black_box;
use std::time::Instant;

use hyoka_dsl::schema::testing::{plan_model, PlanModel};
use hyoka_dsl::{
    compile, Ctx, Data, DeriveId, FieldId, KindId, ListRef, Number, Obj, Overrides, PackSource,
    Value,
};

const RULES: &str = r#"
fn ratio(a: number, b: number): number = if b == 0 then missing else a / b

/// Achievement rate, direction-aware (ratio form).
fn rate_of(i: indicator): number =
    if i.monitoring then missing
    else if i.direction == increase then ratio(latest(i), i.target.value)
    else if i.direction == decrease then ratio(i.target.value, latest(i))
    else missing

derive rate for indicator: number = rate_of(indicator)

param a_min: number = 90%
param b_min: number = 70%

scale abc {
    A = a_min ..
    B = b_min .. a_min
    C = .. b_min
    未算出 = missing
}

derive grade for indicator: grade(abc) = grade(abc, indicator.rate)

/// The same grade in one derive, for comparison.
derive grade_direct for indicator: grade(abc) = grade(abc, rate_of(indicator))
"#;

/// Which column a field id reads.
#[derive(Clone, Copy)]
enum Col {
    Monitoring,
    Direction,
    Target,
    Actuals,
    TargetValue,
    ObsYear,
    ObsValue,
    None,
}

struct Columns {
    cols: Vec<Col>,
    indicator: KindId,
    target: KindId,
    observation: KindId,
    direction_enum: hyoka_dsl::EnumId,
    monitoring: Vec<bool>,
    direction: Vec<u16>,
    /// Target value per indicator (the target record has the indicator's index).
    target_value: Vec<Option<Number>>,
    actuals: Vec<(u32, u32)>,
    obs_year: Vec<i32>,
    obs_value: Vec<Option<Number>>,
    /// The derive stored in `rate`.
    rate_id: DeriveId,
    /// Derived columns: rate and grade.
    rate: Vec<Value<'static>>,
    grade: Vec<Value<'static>>,
}

impl Data for Columns {
    // An engine's accessor is small and monomorphised into the evaluator;
    // let it inline as the hand-written loop's array reads do.
    #[inline(always)]
    fn field(&self, obj: Obj, f: FieldId) -> Value<'_> {
        let i = obj.index as usize;
        match self.cols[f.0 as usize] {
            Col::Monitoring => Value::Bool(self.monitoring[i]),
            Col::Direction => Value::Enum(self.direction_enum, self.direction[i]),
            Col::Target => Value::Obj(Obj::new(self.target, obj.index)),
            Col::Actuals => {
                let (start, len) = self.actuals[i];
                Value::List(ListRef {
                    store: 0,
                    start,
                    len,
                })
            }
            Col::TargetValue => self.target_value[i].map_or(Value::Missing(None), Value::Num),
            Col::ObsYear => Value::Year(self.obs_year[i]),
            Col::ObsValue => self.obs_value[i].map_or(Value::Missing(Some("集計中")), Value::Num),
            Col::None => Value::Missing(None),
        }
    }

    #[inline]
    fn list_get(&self, list: ListRef, i: u32) -> Value<'_> {
        Value::Obj(Obj::new(self.observation, list.start + i))
    }

    #[inline]
    fn derived(&self, d: DeriveId, obj: Obj) -> Value<'_> {
        let i = obj.index as usize;
        if d == self.rate_id {
            self.rate[i]
        } else {
            self.grade[i]
        }
    }
}

fn build(model: &PlanModel, n: usize) -> Columns {
    let mut cols = vec![Col::None; model.schema.fields().len()];
    cols[model.field("indicator", "monitoring").0 as usize] = Col::Monitoring;
    cols[model.field("indicator", "direction").0 as usize] = Col::Direction;
    cols[model.field("indicator", "target").0 as usize] = Col::Target;
    cols[model.field("indicator", "actuals").0 as usize] = Col::Actuals;
    cols[model.field("target", "value").0 as usize] = Col::TargetValue;
    cols[model.field("observation", "year").0 as usize] = Col::ObsYear;
    cols[model.field("observation", "value").0 as usize] = Col::ObsValue;
    let mut c = Columns {
        cols,
        indicator: model.kind("indicator"),
        target: model.kind("target"),
        observation: model.kind("observation"),
        direction_enum: model.enumeration("direction"),
        monitoring: Vec::with_capacity(n),
        direction: Vec::with_capacity(n),
        target_value: Vec::with_capacity(n),
        actuals: Vec::with_capacity(n),
        obs_year: Vec::new(),
        obs_value: Vec::new(),
        rate_id: DeriveId(0),
        rate: vec![Value::Missing(None); n],
        grade: vec![Value::Missing(None); n],
    };
    // A deterministic mix like the seeds: mostly increase, some decrease, a
    // few maintain / monitoring / missing values, one to three actuals.
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..n {
        let r = next();
        c.monitoring.push(r % 50 == 0);
        c.direction.push(match r % 10 {
            0..=6 => 0,
            7 | 8 => 1,
            _ => 2,
        });
        let target = Number::from_decimal((next() % 100_000) as i64 + 1, 1);
        c.target_value.push(if r % 40 == 1 { None } else { target });
        let start = c.obs_year.len() as u32;
        let len = 1 + (next() % 3) as u32;
        for k in 0..len {
            c.obs_year.push(2020 + k as i32);
            let v = next();
            c.obs_value.push(if v % 30 == 0 {
                None
            } else {
                Number::from_decimal((v % 120_000) as i64, 1)
            });
        }
        c.actuals.push((start, len));
    }
    c
}

/// The grade computed by hand: what one would write in Rust for this rule,
/// with exact numbers (so the results can be compared one to one).
#[inline(never)]
fn by_hand(c: &Columns, i: usize, year: i32, a_min: Number, b_min: Number) -> u16 {
    const UNRATED: u16 = 3;
    if c.monitoring[i] {
        return UNRATED;
    }
    let (start, len) = c.actuals[i];
    let mut best: Option<(i32, Number)> = None;
    for k in start..start + len {
        let k = k as usize;
        let y = c.obs_year[k];
        if y > year {
            continue;
        }
        if let Some(v) = c.obs_value[k] {
            if best.is_none_or(|(by, _)| y >= by) {
                best = Some((y, v));
            }
        }
    }
    let (Some((_, actual)), Some(target)) = (best, c.target_value[i]) else {
        return UNRATED;
    };
    let rate = match c.direction[i] {
        0 if !target.is_zero() => actual.checked_div(target),
        1 if !actual.is_zero() => target.checked_div(actual),
        _ => return UNRATED,
    };
    match rate {
        Ok(r) if r >= a_min => 0,
        Ok(r) if r >= b_min => 1,
        Ok(_) => 2,
        Err(_) => UNRATED,
    }
}

/// The same by hand with f64, the fastest loop a person would write.
#[inline(never)]
fn by_hand_f64(c: &Columns, i: usize, year: i32) -> u16 {
    if c.monitoring[i] {
        return 3;
    }
    let (start, len) = c.actuals[i];
    let mut best: Option<(i32, f64)> = None;
    for k in start..start + len {
        let k = k as usize;
        let y = c.obs_year[k];
        if y > year {
            continue;
        }
        if let Some(v) = c.obs_value[k] {
            if best.is_none_or(|(by, _)| y >= by) {
                best = Some((y, v.to_f64()));
            }
        }
    }
    let (Some((_, actual)), Some(target)) = (best, c.target_value[i]) else {
        return 3;
    };
    let target = target.to_f64();
    let rate = match c.direction[i] {
        0 if target != 0.0 => actual / target,
        1 if actual != 0.0 => target / actual,
        _ => return 3,
    };
    if rate >= 0.9 {
        0
    } else if rate >= 0.7 {
        1
    } else {
        2
    }
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_700_000);
    let model = plan_model();
    let pack = PackSource::new("bench", vec![("bench.hyk".into(), RULES.into())]);
    let program = match compile(&[pack], &model.schema, &Overrides::default()) {
        Ok(p) => p,
        Err(errors) => {
            for e in errors {
                eprintln!("{:?}", miette::Report::new(e));
            }
            std::process::exit(1);
        }
    };
    let rate = program
        .derive_named(model.kind("indicator"), "rate")
        .unwrap();
    let grade = program
        .derive_named(model.kind("indicator"), "grade")
        .unwrap();
    let direct = program
        .derive_named(model.kind("indicator"), "grade_direct")
        .unwrap();
    assert!(rate.0 < grade.0, "rate is computed before grade");
    let mut data = build(&model, n);
    data.rate_id = rate;
    let ctx = Ctx { year: 2022 };
    let kind = data.indicator;
    let a_min = Number::parse("90%").unwrap();
    let b_min = Number::parse("70%").unwrap();

    // `dsl` or `hand` runs one side only, `setup` neither, for `perf stat`
    // (CPU time is steadier than wall time on a busy machine).
    let only = std::env::args().nth(2).unwrap_or_default();
    let rounds = 5;
    let mut best_dsl = f64::MAX;
    let mut best_hand = f64::MAX;
    let mut best_f64 = f64::MAX;
    let mut best_split = (0.0, 0.0);
    let mut grades = vec![0u16; n];
    for _ in 0..rounds {
        // hyoka: both derives, in dependency order, stored in columns.
        let t = Instant::now();
        if only == "setup" {
            continue;
        }
        if only == "direct" {
            for (i, g) in grades.iter_mut().enumerate() {
                let obj = Obj::new(kind, i as u32);
                *g = match program.eval_derive(direct, obj, &data, &ctx) {
                    Ok(Value::Grade(_, g)) => g,
                    _ => u16::MAX,
                };
            }
            continue;
        }
        if only == "hand" {
            for (i, g) in grades.iter_mut().enumerate() {
                *g = by_hand(black_box(&data), i, ctx.year, a_min, b_min);
            }
            continue;
        }
        let mut rates = std::mem::take(&mut data.rate);
        for (i, slot) in rates.iter_mut().enumerate() {
            let obj = Obj::new(kind, i as u32);
            *slot = match program.eval_derive(rate, obj, &data, &ctx) {
                Ok(Value::Num(x)) => Value::Num(x),
                _ => Value::Missing(None),
            };
        }
        data.rate = rates;
        let t_rate = t.elapsed().as_secs_f64();
        let mut out = std::mem::take(&mut data.grade);
        for (i, slot) in out.iter_mut().enumerate() {
            let obj = Obj::new(kind, i as u32);
            *slot = match program.eval_derive(grade, obj, &data, &ctx) {
                Ok(Value::Grade(s, g)) => Value::Grade(s, g),
                _ => Value::Missing(None),
            };
        }
        data.grade = out;
        let total = t.elapsed().as_secs_f64();
        if total < best_dsl {
            best_split = (t_rate, total - t_rate);
        }
        best_dsl = best_dsl.min(total);
        if only == "dsl" {
            continue;
        }

        let t = Instant::now();
        for (i, g) in grades.iter_mut().enumerate() {
            *g = by_hand(black_box(&data), i, ctx.year, a_min, b_min);
        }
        best_hand = best_hand.min(t.elapsed().as_secs_f64());

        let t = Instant::now();
        let mut sum = 0u64;
        for i in 0..n {
            sum += by_hand_f64(black_box(&data), i, ctx.year) as u64;
        }
        black_box(sum);
        best_f64 = best_f64.min(t.elapsed().as_secs_f64());
    }

    if !only.is_empty() {
        return;
    }
    // Both must agree on every indicator.
    let mut counts = [0usize; 4];
    for (i, g) in grades.iter().enumerate() {
        let dsl = match data.grade[i] {
            Value::Grade(_, g) => g,
            _ => u16::MAX,
        };
        assert_eq!(dsl, *g, "indicator {i}");
        counts[*g as usize] += 1;
    }
    let rate_of = |secs: f64| n as f64 / secs / 1e6;
    println!(
        "indicators: {n} (A {} / B {} / C {} / 未算出 {})",
        counts[0], counts[1], counts[2], counts[3]
    );
    println!(
        "hyoka (rate + grade derives): {:>7.1} M/s",
        rate_of(best_dsl)
    );
    println!(
        "  of which rate: {:.1} ns, grade: {:.1} ns per indicator",
        best_split.0 / n as f64 * 1e9,
        best_split.1 / n as f64 * 1e9
    );
    println!(
        "by hand, exact numbers:       {:>7.1} M/s",
        rate_of(best_hand)
    );
    println!(
        "by hand, f64:                 {:>7.1} M/s",
        rate_of(best_f64)
    );
    println!(
        "hyoka is {:.2}× the exact hand loop's time, {:.2}× the f64 loop's",
        best_dsl / best_hand,
        best_dsl / best_f64
    );
}
