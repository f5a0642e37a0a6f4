//! Micro benchmark: the seeds' grade rule evaluated by the compiled program
//! against the same computation written by hand in Rust, over synthetic
//! indicators stored in columns (as the engine stores them).
//!
//! Run with `cargo run --release -p hyoka-dsl --example bench_grade [N]`.
//!
//! What is compared, on the same `Columns` (both sides read the same
//! arrays, both store a rate column and a grade column):
//!
//! - hyoka: the derives `rate` and `grade`, in dependency order, their
//!   results stored in the columns that [`Data::derived`] answers from.
//!   Variants: one [`hyoka_dsl::Program::eval_derive`] call per derive and
//!   entity, with `latest` walking the list through [`Data::field`] /
//!   [`Data::list_get`] (the default of [`Data::latest`]) or answered by
//!   `Columns` directly; and both derives of an entity in one
//!   [`hyoka_dsl::Program::eval_derives`] call.
//! - by hand, exact: the same rule in plain Rust with the same exact
//!   numbers ([`Number::checked_div`], comparisons by cross-multiplication
//!   in `i128`), storing the rate and the grade. This is the reference.
//! - by hand, f64: the same in `f64` (not exact; shown for scale only).
//!
//! Times are CPU time of this thread (`CLOCK_THREAD_CPUTIME_ID`: the
//! machine may be shared), per indicator. Every round runs every variant
//! once; the ratio hyoka / by hand is taken per round and the median over
//! the rounds is printed, with the median time of each variant. It asserts
//! nothing about time (machines differ), only that all variants agree.
//!
//! `… bench_grade N only` runs one variant only (`walk`, `fast`, `group`,
//! `batch`, `hand`, `f64`, `direct`), or none (`setup`), for `perf`.

use std::hint::black_box;

use hyoka_dsl::schema::testing::{plan_model, PlanModel};
use hyoka_dsl::{
    compile, Ctx, Data, DeriveId, FieldId, KindId, Latest, ListRef, Number, Obj, Overrides,
    PackSource, RuntimeError, Series, Value,
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

/// CPU time of the calling thread, in seconds.
fn cpu_time() -> f64 {
    #[repr(C)]
    struct Timespec {
        sec: i64,
        nsec: i64,
    }
    extern "C" {
        fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
    }
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    let mut ts = Timespec { sec: 0, nsec: 0 };
    // SAFETY: clock_gettime writes one timespec (two C longs on the 64-bit
    // Linux targets this benchmark runs on) to the pointer it is given.
    let rc = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime");
    ts.sec as f64 + ts.nsec as f64 * 1e-9
}

fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

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
    /// `indicator.actuals`: the series `Columns` answers `latest` for.
    actuals_field: FieldId,
    /// Answer `latest` by walking the list (the default of
    /// [`Data::latest`]) instead of from the columns.
    walk: bool,
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

    /// Fields of many entities: what each is is decided once.
    #[inline]
    fn fields<'s>(&'s self, objs: &[Obj], f: FieldId, out: &mut [Value<'s>]) {
        let each = |out: &mut [Value<'s>], get: &dyn Fn(usize) -> Value<'s>| {
            for (o, v) in objs.iter().zip(out) {
                *v = get(o.index as usize);
            }
        };
        match self.cols[f.0 as usize] {
            Col::Monitoring => each(out, &|i| Value::Bool(self.monitoring[i])),
            Col::Direction => each(out, &|i| {
                Value::Enum(self.direction_enum, self.direction[i])
            }),
            Col::Target => each(out, &|i| Value::Obj(Obj::new(self.target, i as u32))),
            Col::TargetValue => each(out, &|i| {
                self.target_value[i].map_or(Value::Missing(None), Value::Num)
            }),
            _ => {
                for (o, v) in objs.iter().zip(out) {
                    *v = self.field(*o, f);
                }
            }
        }
    }

    /// The same answer as the walk, read from the columns: the loop the
    /// hand-written rule has, plus the reason of a missing value.
    #[inline]
    fn latest(&self, obj: Obj, series: Series, year: i32) -> Latest<'_> {
        if self.walk || series.list != self.actuals_field {
            return hyoka_dsl::eval::walk_latest(self, obj, series, year);
        }
        let (start, len) = self.actuals[obj.index as usize];
        let (start, end) = (start as usize, (start + len) as usize);
        let mut best: Option<(i32, Number)> = None;
        let mut missing: Option<i32> = None;
        for (&y, v) in self.obs_year[start..end]
            .iter()
            .zip(&self.obs_value[start..end])
        {
            if y > year {
                continue;
            }
            match v {
                Some(v) => {
                    if best.is_none_or(|(by, _)| y >= by) {
                        best = Some((y, *v));
                    }
                }
                None => missing = Some(y),
            }
        }
        match best {
            Some((y, v)) => Ok((y, Value::Num(v))),
            None => Err(missing.map(|_| "集計中")),
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
        actuals_field: model.field("indicator", "actuals"),
        walk: false,
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

/// The columns the hand-written loops store: what hyoka stores, in the
/// types one would choose by hand.
struct HandOut {
    rate: Vec<Option<Number>>,
    grade: Vec<u16>,
}

const UNRATED: u16 = 3;

/// The rate and grade computed by hand: what one would write in Rust for
/// this rule, with exact numbers (so the results can be compared one to
/// one): the quotient is exact ([`Number::checked_div`]) and the
/// thresholds are compared by cross-multiplication in `i128`.
#[inline(never)]
fn by_hand(
    c: &Columns,
    i: usize,
    year: i32,
    a_min: Number,
    b_min: Number,
) -> (Option<Number>, u16) {
    if c.monitoring[i] {
        return (None, UNRATED);
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
        return (None, UNRATED);
    };
    let rate = match c.direction[i] {
        0 if !target.is_zero() => actual.checked_div(target),
        1 if !actual.is_zero() => target.checked_div(actual),
        _ => return (None, UNRATED),
    };
    match rate {
        Ok(r) if r >= a_min => (Some(r), 0),
        Ok(r) if r >= b_min => (Some(r), 1),
        Ok(r) => (Some(r), 2),
        Err(_) => (None, UNRATED),
    }
}

/// The same by hand with f64, the fastest loop a person would write (not
/// exact: shown for scale, not compared).
#[inline(never)]
fn by_hand_f64(c: &Columns, i: usize, year: i32) -> (f64, u16) {
    if c.monitoring[i] {
        return (f64::NAN, UNRATED);
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
        return (f64::NAN, UNRATED);
    };
    let target = target.to_f64();
    let rate = match c.direction[i] {
        0 if target != 0.0 => actual / target,
        1 if actual != 0.0 => target / actual,
        _ => return (f64::NAN, UNRATED),
    };
    let g = if rate >= 0.9 {
        0
    } else if rate >= 0.7 {
        1
    } else {
        2
    };
    (rate, g)
}

/// Asserts that hyoka's columns hold what the exact hand loop computed.
fn check(data: &Columns, hand: &HandOut, what: &str) {
    for i in 0..hand.grade.len() {
        let g = match data.grade[i] {
            Value::Grade(_, g) => g,
            _ => u16::MAX,
        };
        assert_eq!(g, hand.grade[i], "{what}: grade of indicator {i}");
        let r = data.rate[i].as_number();
        assert_eq!(r, hand.rate[i], "{what}: rate of indicator {i}");
    }
}

/// A derived value as the columns keep it (`'static`: numbers and grades).
#[inline]
fn keep_value(v: Value<'_>) -> Value<'static> {
    match v {
        Value::Num(x) => Value::Num(x),
        Value::Grade(s, g) => Value::Grade(s, g),
        _ => Value::Missing(None),
    }
}

/// The same for the result of one derive.
#[inline]
fn keep(v: Result<Value<'_>, RuntimeError>) -> Value<'static> {
    match v {
        Ok(Value::Num(x)) => Value::Num(x),
        Ok(Value::Grade(s, g)) => Value::Grade(s, g),
        _ => Value::Missing(None),
    }
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_700_000);
    let only = std::env::args().nth(2).unwrap_or_default();
    let rounds: usize = std::env::args()
        .nth(3)
        .and_then(|s| s.parse().ok())
        .unwrap_or(7);
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
    assert_eq!(grade.0, rate.0 + 1, "rate, then grade");
    let mut data = build(&model, n);
    data.rate_id = rate;
    let ctx = Ctx { year: 2022 };
    let kind = data.indicator;
    let a_min = Number::parse("90%").unwrap();
    let b_min = Number::parse("70%").unwrap();

    // hyoka, one call per derive and entity (as the engine did).
    let per_derive = |data: &mut Columns| {
        let mut rates = std::mem::take(&mut data.rate);
        for (i, slot) in rates.iter_mut().enumerate() {
            let obj = Obj::new(kind, i as u32);
            *slot = keep(program.eval_derive(rate, obj, &*data, &ctx));
        }
        data.rate = rates;
        let mut grades = std::mem::take(&mut data.grade);
        for (i, slot) in grades.iter_mut().enumerate() {
            let obj = Obj::new(kind, i as u32);
            *slot = keep(program.eval_derive(grade, obj, &*data, &ctx));
        }
        data.grade = grades;
    };
    // hyoka, both derives of an entity in one call.
    let grouped = |data: &mut Columns| {
        let mut rates = std::mem::take(&mut data.rate);
        let mut grades = std::mem::take(&mut data.grade);
        let mut errors = Vec::new();
        for (i, (r, g)) in rates.iter_mut().zip(grades.iter_mut()).enumerate() {
            let obj = Obj::new(kind, i as u32);
            let mut out = [Value::Missing(None); 2];
            program.eval_derives(rate, obj, &*data, &ctx, &mut out, &mut errors);
            *r = keep_value(out[0]);
            *g = keep_value(out[1]);
        }
        assert!(errors.is_empty());
        data.rate = rates;
        data.grade = grades;
    };
    // hyoka, both derives of 4096 entities at a time.
    let batched = |data: &mut Columns| {
        const CHUNK: usize = 4096;
        let mut rates = std::mem::take(&mut data.rate);
        let mut grades = std::mem::take(&mut data.grade);
        let mut errors = Vec::new();
        let data = &*data;
        let mut objs = Vec::with_capacity(CHUNK);
        let mut out = vec![Value::Missing(None); 2 * CHUNK];
        for (c, (r, g)) in rates
            .chunks_mut(CHUNK)
            .zip(grades.chunks_mut(CHUNK))
            .enumerate()
        {
            let start = c * CHUNK;
            objs.clear();
            objs.extend((start..start + r.len()).map(|i| Obj::new(kind, i as u32)));
            let out = &mut out[..2 * r.len()];
            program.eval_derives_batch(rate, 2, &objs, data, &ctx, out, &mut errors);
            for (i, v) in out.chunks_exact(2).enumerate() {
                r[i] = keep_value(v[0]);
                g[i] = keep_value(v[1]);
            }
        }
        assert!(errors.is_empty());
        (rates, grades)
    };
    let mut hand = HandOut {
        rate: vec![None; n],
        grade: vec![0; n],
    };
    let mut hand_f64 = (vec![0.0f64; n], vec![0u16; n]);

    let names = ["walk", "fast", "group", "batch", "hand", "f64"];
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    let mut ratios: Vec<Vec<f64>> = vec![Vec::new(); 4];
    if only == "setup" {
        return;
    }
    if only == "direct" {
        for _ in 0..rounds {
            let t = cpu_time();
            for (i, g) in data.grade.clone().iter_mut().enumerate() {
                let obj = Obj::new(kind, i as u32);
                *g = keep(program.eval_derive(direct, obj, &data, &ctx));
            }
            times[0].push(cpu_time() - t);
        }
        println!(
            "grade_direct: {:.1} ns per indicator",
            median(&mut times[0]) / n as f64 * 1e9
        );
        return;
    }
    for _ in 0..rounds {
        for (v, name) in names.iter().enumerate() {
            if !only.is_empty() && only != *name {
                continue;
            }
            let t = cpu_time();
            match v {
                0 => {
                    data.walk = true;
                    per_derive(&mut data);
                    data.walk = false;
                }
                1 => per_derive(&mut data),
                2 => grouped(&mut data),
                3 => {
                    let (r, g) = batched(&mut data);
                    data.rate = r;
                    data.grade = g;
                }
                4 => {
                    for i in 0..n {
                        let (r, g) = by_hand(black_box(&data), i, ctx.year, a_min, b_min);
                        hand.rate[i] = r;
                        hand.grade[i] = g;
                    }
                }
                _ => {
                    for i in 0..n {
                        let (r, g) = by_hand_f64(black_box(&data), i, ctx.year);
                        hand_f64.0[i] = r;
                        hand_f64.1[i] = g;
                    }
                }
            }
            times[v].push(cpu_time() - t);
        }
        if only.is_empty() {
            let round = times[4].len() - 1;
            for (v, r) in ratios.iter_mut().enumerate() {
                r.push(times[v][round] / times[4][round]);
            }
        }
    }
    if !only.is_empty() {
        return;
    }
    black_box(&hand_f64);

    // Every variant must agree with the exact hand loop on every indicator.
    check(&data, &hand, "batch");
    data.rate.fill(Value::Missing(None));
    data.grade.fill(Value::Missing(None));
    grouped(&mut data);
    check(&data, &hand, "group");
    data.rate.fill(Value::Missing(None));
    data.grade.fill(Value::Missing(None));
    per_derive(&mut data);
    check(&data, &hand, "per derive");
    data.walk = true;
    per_derive(&mut data);
    check(&data, &hand, "walk");

    let mut counts = [0usize; 4];
    for g in &hand.grade {
        counts[*g as usize] += 1;
    }
    println!(
        "indicators: {n} (A {} / B {} / C {} / 未算出 {}), {rounds} rounds, CPU time, medians",
        counts[0], counts[1], counts[2], counts[3]
    );
    let labels = [
        "hyoka, a call per derive, latest walks the list",
        "hyoka, a call per derive, Data::latest from columns",
        "hyoka, eval_derives (rate + grade in one call)",
        "hyoka, eval_derives_batch (4096 entities a call)",
        "by hand, exact numbers (reference)",
        "by hand, f64 (not exact)",
    ];
    for (v, label) in labels.iter().enumerate() {
        let ns = median(&mut times[v]) / n as f64 * 1e9;
        match v {
            0..=3 => println!(
                "{label:<52} {ns:6.1} ns/indicator  {:5.2}× by hand",
                median(&mut ratios[v])
            ),
            _ => println!("{label:<52} {ns:6.1} ns/indicator"),
        }
    }
}
