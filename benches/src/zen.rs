//! `hyoka-bench zen`: the grade rule evaluated by hyoka, by a hand-written
//! Rust loop and by the GoRules ZEN engine, on the same indicators in the
//! same run (the performance issue: "hyoka vs ZEN engine on the same
//! decision table, same inputs, same run").
//!
//! - hyoka: the standard packs `rules/rates` and `rules/grades` as shipped
//!   (form `auto`, maintain band 10 %, A ≥ 90 %, B ≥ 70 %), the derives
//!   `indicator.rate` then `indicator.grade` through the batch evaluator
//!   ([`hyoka_dsl::Program::eval_derives_batch`]), over indicators stored in
//!   columns, as `dsl/examples/bench_grade.rs` does;
//! - by hand: the same rule in plain Rust with the same exact numbers;
//! - ZEN: the JDM graph `benches/zen/grade.json` — an expression node for
//!   the rate, a decision table for rate → grade — one evaluation per
//!   indicator on a current-thread tokio runtime, the decision loaded and
//!   compiled once.
//!
//! `--rule simple` runs `bench_grade`'s own rule instead (the ratio form
//! only, maintain indicators unrated; ZEN: `benches/zen/grade-simple.json`).
//!
//! The indicators are those of `bench_grade` (same generator, same seed).
//! Every grade of the three is compared, and every rate (ZEN computes in
//! 28-digit decimals, hyoka in exact fractions: ZEN's rate must equal
//! hyoka's to 20 significant digits). Times are CPU time of this thread,
//! best of the rounds. Nothing about time is asserted.
//!
//! ZEN is built only with `--features zen` (it adds about 310 crates, with
//! C code, to the 89 of this crate); without it the subcommand says so.

use std::process::ExitCode;

use clap::Args;

/// Which grade rule the three evaluate.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// rules/rates + rules/grades as shipped (ZEN: benches/zen/grade.json)
    Standard,
    /// dsl/examples/bench_grade.rs's rule: the ratio form only, maintain
    /// indicators unrated (ZEN: benches/zen/grade-simple.json)
    Simple,
}

#[derive(Args, Debug, Clone)]
#[cfg_attr(not(feature = "zen"), allow(dead_code))]
pub struct ZenArgs {
    /// The grade rule
    #[arg(long, value_enum, default_value_t = Rule::Standard)]
    pub rule: Rule,
    /// Indicators, the same for hyoka, the hand loop and ZEN (ZEN takes
    /// microseconds per indicator, hyoka nanoseconds)
    #[arg(long, default_value_t = 200_000)]
    pub indicators: usize,
    /// Rounds; each runs ZEN once and hyoka and the hand loop `--repeat`
    /// times (the best time of each is reported)
    #[arg(long, default_value_t = 5)]
    pub rounds: usize,
    /// Runs of hyoka and of the hand loop per round
    #[arg(long, default_value_t = 7)]
    pub repeat: usize,
    /// Another JDM graph for ZEN instead of the rule's in benches/zen/: the
    /// same input fields, output `grade` and `rate` (every answer is
    /// checked against hyoka's)
    #[arg(long)]
    pub graph: Option<std::path::PathBuf>,
    /// Evaluation year (the generated actuals are of 2020–2022)
    #[arg(long, default_value_t = 2022)]
    pub year: i32,
    /// Before each round, wait up to this many seconds for the machine to
    /// be idle
    #[arg(long, default_value_t = 30.0)]
    pub idle_wait: f64,
}

#[cfg(not(feature = "zen"))]
pub fn run(_: &ZenArgs) -> ExitCode {
    eprintln!(
        "hyoka-bench zen: this hyoka-bench was built without the ZEN engine; rebuild it with\n  \
         cargo build --release -p hyoka-bench --features zen"
    );
    ExitCode::from(2)
}

#[cfg(feature = "zen")]
pub fn run(args: &ZenArgs) -> ExitCode {
    match imp::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hyoka-bench zen: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(feature = "zen")]
mod imp {
    use std::hint::black_box;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use hyoka_bench::measure::{best, median, thousands, thread_cpu, wait_until_idle};
    use hyoka_dsl::schema::testing::{plan_model, PlanModel};
    use hyoka_dsl::{
        compile, Ctx, Data, DeriveId, EnumId, FieldId, KindId, Latest, ListRef, Number, Obj,
        Overrides, PackSource, Program, Series, Value,
    };
    use rust_decimal::Decimal;
    use zen_engine::model::DecisionContent;
    use zen_engine::{Decision, DecisionEngine};
    use zen_expression::variable::{Symbol, Variable, VariableMap};

    use super::{Rule, ZenArgs};

    type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

    const RATES: &str = include_str!("../../rules/rates/rates.hyk");
    const GRADES: &str = include_str!("../../rules/grades/grades.hyk");
    /// A copy of `dsl/examples/bench_grade.rs`'s rule (without its
    /// `grade_direct`): the ratio form only, no maintain band (a maintain
    /// indicator is 未算出).
    const SIMPLE: &str = r#"
fn ratio(a: number, b: number): number = if b == 0 then missing else a / b

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
"#;
    /// The JDM graph of a rule.
    pub(super) fn graph(rule: Rule) -> &'static str {
        match rule {
            Rule::Standard => include_str!("../zen/grade.json"),
            Rule::Simple => include_str!("../zen/grade-simple.json"),
        }
    }

    /// Grades as the three sides are compared: the standard scale's labels.
    pub(super) const LABELS: [&str; 4] = ["A", "B", "C", "未算出"];
    const UNRATED: u16 = 3;
    const NO_GRADE: u16 = u16::MAX;

    /// Which column a field id reads.
    #[derive(Clone, Copy)]
    enum Col {
        Monitoring,
        TargetToBeSet,
        Qualitative,
        Direction,
        Target,
        Actuals,
        TargetValue,
        ObsYear,
        ObsValue,
        None,
    }

    /// Indicators in columns, as `bench_grade` keeps them, plus the two flags
    /// the standard rate reads besides `monitoring`. There is no baseline:
    /// `indicator.baseline` is missing for every indicator (so the rate's
    /// `auto` form is the ratio form wherever that has a value).
    pub(super) struct Columns {
        cols: Vec<Col>,
        target: KindId,
        observation: KindId,
        direction_enum: EnumId,
        actuals_field: FieldId,
        pub(super) monitoring: Vec<bool>,
        pub(super) target_to_be_set: Vec<bool>,
        pub(super) qualitative: Vec<bool>,
        /// 0 increase, 1 decrease, 2 maintain (the plan model's order).
        pub(super) direction: Vec<u16>,
        pub(super) target_value: Vec<Option<Number>>,
        pub(super) actuals: Vec<(u32, u32)>,
        pub(super) obs_year: Vec<i32>,
        pub(super) obs_value: Vec<Option<Number>>,
        rate_id: DeriveId,
        rate: Vec<Value<'static>>,
        grade: Vec<Value<'static>>,
    }

    impl Data for Columns {
        #[inline(always)]
        fn field(&self, obj: Obj, f: FieldId) -> Value<'_> {
            let i = obj.index as usize;
            match self.cols[f.0 as usize] {
                Col::Monitoring => Value::Bool(self.monitoring[i]),
                Col::TargetToBeSet => Value::Bool(self.target_to_be_set[i]),
                Col::Qualitative => Value::Bool(self.qualitative[i]),
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
                Col::ObsValue => {
                    self.obs_value[i].map_or(Value::Missing(Some("集計中")), Value::Num)
                }
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

        #[inline]
        fn fields<'s>(&'s self, objs: &[Obj], f: FieldId, out: &mut [Value<'s>]) {
            let each = |out: &mut [Value<'s>], get: &dyn Fn(usize) -> Value<'s>| {
                for (o, v) in objs.iter().zip(out) {
                    *v = get(o.index as usize);
                }
            };
            match self.cols[f.0 as usize] {
                Col::Monitoring => each(out, &|i| Value::Bool(self.monitoring[i])),
                Col::TargetToBeSet => each(out, &|i| Value::Bool(self.target_to_be_set[i])),
                Col::Qualitative => each(out, &|i| Value::Bool(self.qualitative[i])),
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

        #[inline]
        fn latest(&self, obj: Obj, series: Series, year: i32) -> Latest<'_> {
            if series.list != self.actuals_field {
                return hyoka_dsl::eval::walk_latest(self, obj, series, year);
            }
            let (start, len) = self.actuals[obj.index as usize];
            let (start, end) = (start as usize, (start + len) as usize);
            let mut best: Option<(i32, Number)> = None;
            let mut missing = false;
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
                    None => missing = true,
                }
            }
            match best {
                Some((y, v)) => Ok((y, Value::Num(v))),
                None => Err(missing.then_some("集計中")),
            }
        }
    }

    impl Columns {
        pub(super) fn empty(model: &PlanModel) -> Columns {
            let mut cols = vec![Col::None; model.schema.fields().len()];
            for (kind, name, col) in [
                ("indicator", "monitoring", Col::Monitoring),
                ("indicator", "target_to_be_set", Col::TargetToBeSet),
                ("indicator", "qualitative", Col::Qualitative),
                ("indicator", "direction", Col::Direction),
                ("indicator", "target", Col::Target),
                ("indicator", "actuals", Col::Actuals),
                ("target", "value", Col::TargetValue),
                ("observation", "year", Col::ObsYear),
                ("observation", "value", Col::ObsValue),
            ] {
                cols[model.field(kind, name).0 as usize] = col;
            }
            Columns {
                cols,
                target: model.kind("target"),
                observation: model.kind("observation"),
                direction_enum: model.enumeration("direction"),
                actuals_field: model.field("indicator", "actuals"),
                monitoring: Vec::new(),
                target_to_be_set: Vec::new(),
                qualitative: Vec::new(),
                direction: Vec::new(),
                target_value: Vec::new(),
                actuals: Vec::new(),
                obs_year: Vec::new(),
                obs_value: Vec::new(),
                rate_id: DeriveId(u32::MAX),
                rate: Vec::new(),
                grade: Vec::new(),
            }
        }

        /// Appends one indicator; `actuals` are (year, value) in list order.
        pub(super) fn push(
            &mut self,
            monitoring: bool,
            direction: u16,
            target: Option<Number>,
            actuals: &[(i32, Option<Number>)],
        ) {
            self.monitoring.push(monitoring);
            self.target_to_be_set.push(false);
            self.qualitative.push(false);
            self.direction.push(direction);
            self.target_value.push(target);
            self.actuals
                .push((self.obs_year.len() as u32, actuals.len() as u32));
            for &(y, v) in actuals {
                self.obs_year.push(y);
                self.obs_value.push(v);
            }
            self.rate.push(Value::Missing(None));
            self.grade.push(Value::Missing(None));
        }

        pub(super) fn len(&self) -> usize {
            self.monitoring.len()
        }
    }

    /// `bench_grade`'s indicators: the same generator and seed, so the same
    /// values (mostly increase, some decrease and maintain, 2 % monitoring,
    /// 2.5 % without a target value, one to three actuals of 2020–2022 of
    /// which one in 30 has no value).
    pub(super) fn generate(model: &PlanModel, n: usize) -> Columns {
        let mut c = Columns::empty(model);
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut actuals = Vec::with_capacity(3);
        for _ in 0..n {
            let r = next();
            let direction = match r % 10 {
                0..=6 => 0,
                7 | 8 => 1,
                _ => 2,
            };
            let target = Number::from_decimal((next() % 100_000) as i64 + 1, 1);
            let target = if r % 40 == 1 { None } else { target };
            let len = 1 + (next() % 3) as i32;
            actuals.clear();
            for k in 0..len {
                let v = next();
                actuals.push((
                    2020 + k,
                    if v % 30 == 0 {
                        None
                    } else {
                        Number::from_decimal((v % 120_000) as i64, 1)
                    },
                ));
            }
            c.push(r % 50 == 0, direction, target, &actuals);
        }
        c
    }

    /// A rule's packs, compiled against the documented plan model.
    pub(super) struct Hyoka {
        program: Program,
        rate: DeriveId,
        grade: DeriveId,
        /// hyoka's grade index → index into [`LABELS`].
        label_of: Vec<u16>,
    }

    impl Hyoka {
        pub(super) fn new(model: &PlanModel, rule: Rule) -> Result<Hyoka> {
            let packs = match rule {
                Rule::Standard => {
                    let rates = PackSource::new(
                        "rates",
                        vec![("rules/rates/rates.hyk".into(), RATES.into())],
                    );
                    let mut grades = PackSource::new(
                        "grades",
                        vec![("rules/grades/grades.hyk".into(), GRADES.into())],
                    );
                    grades.extends = vec!["rates".into()];
                    vec![rates, grades]
                }
                Rule::Simple => vec![PackSource::new(
                    "bench",
                    vec![("bench_grade.hyk".into(), SIMPLE.into())],
                )],
            };
            let program =
                compile(&packs, &model.schema, &Overrides::default()).map_err(|errors| {
                    errors
                        .iter()
                        .map(|e| e.to_string())
                        .collect::<Vec<_>>()
                        .join("\n")
                })?;
            let indicator = model.kind("indicator");
            let rate = program
                .derive_named(indicator, "rate")
                .ok_or("no derive rate for indicator")?;
            let grade = program
                .derive_named(indicator, "grade")
                .ok_or("no derive grade for indicator")?;
            let scale = program.scale_named("abc").ok_or("no scale abc")?;
            let scale = &program.scales()[scale.0 as usize];
            let label_of = (0..scale.bands.len() + scale.states.len())
                .map(|g| {
                    let label = scale.label(g as u16);
                    LABELS
                        .iter()
                        .position(|l| *l == label)
                        .map_or(NO_GRADE, |p| p as u16)
                })
                .collect();
            Ok(Hyoka {
                program,
                rate,
                grade,
                label_of,
            })
        }

        /// `indicator.rate` for every indicator, then `indicator.grade`
        /// (which reads the stored rate), 4,096 indicators a call: a derive
        /// at a time, in dependency order.
        pub(super) fn evaluate(&self, data: &mut Columns, ctx: &Ctx) {
            const CHUNK: usize = 4096;
            data.rate_id = self.rate;
            let kind = self.program.derives()[self.rate.0 as usize].kind;
            let mut errors = Vec::new();
            let mut objs = Vec::with_capacity(CHUNK);
            for (derive, which) in [(self.rate, 0), (self.grade, 1)] {
                let mut column = std::mem::take(if which == 0 {
                    &mut data.rate
                } else {
                    &mut data.grade
                });
                {
                    let data = &*data;
                    let mut out = vec![Value::Missing(None); CHUNK];
                    for (c, slots) in column.chunks_mut(CHUNK).enumerate() {
                        let start = c * CHUNK;
                        objs.clear();
                        objs.extend((start..start + slots.len()).map(|i| Obj::new(kind, i as u32)));
                        let out = &mut out[..slots.len()];
                        self.program.eval_derives_batch(
                            derive,
                            1,
                            &objs,
                            data,
                            ctx,
                            out,
                            &mut errors,
                        );
                        for (slot, v) in slots.iter_mut().zip(out.iter()) {
                            *slot = keep(*v);
                        }
                    }
                }
                if which == 0 {
                    data.rate = column;
                } else {
                    data.grade = column;
                }
            }
            assert!(errors.is_empty(), "runtime errors: {}", errors.len());
        }

        /// Indicator `i`'s stored rate and grade (an index into [`LABELS`]).
        pub(super) fn rate_and_grade(&self, data: &Columns, i: usize) -> (Option<Number>, u16) {
            let grade = match data.grade[i] {
                Value::Grade(_, g) => self.label_of.get(g as usize).copied().unwrap_or(NO_GRADE),
                _ => NO_GRADE,
            };
            (data.rate[i].as_number(), grade)
        }
    }

    /// A derived value as the columns keep it (`'static`: numbers, grades).
    #[inline]
    fn keep(v: Value<'_>) -> Value<'static> {
        match v {
            Value::Num(x) => Value::Num(x),
            Value::Grade(s, g) => Value::Grade(s, g),
            _ => Value::Missing(None),
        }
    }

    /// What the hand-written loop stores: a rate and a grade per indicator.
    pub(super) struct HandOut {
        pub(super) rate: Vec<Option<Number>>,
        pub(super) grade: Vec<u16>,
    }

    /// The numbers the hand loop compares with, made once.
    pub(super) struct Limits {
        a_min: Number,
        b_min: Number,
        band: Number,
        zero: Number,
        one: Number,
    }

    impl Limits {
        /// A ≥ 90 %, B ≥ 70 %, maintain band 10 %: the packs' defaults.
        pub(super) fn new() -> Limits {
            let n = |text| Number::parse(text).expect("a number");
            Limits {
                a_min: n("90%"),
                b_min: n("70%"),
                band: n("10%"),
                zero: n("0"),
                one: n("1"),
            }
        }
    }

    /// The rule in plain Rust with the same exact numbers (quotients by
    /// [`Number::checked_div`], thresholds compared by [`Number`]'s exact
    /// order).
    ///
    /// `Standard` is rules/rates + rules/grades specialised to these
    /// columns, which have no baseline: the `auto` form is then the ratio
    /// form when it has a value, else the progress form, which needs a
    /// baseline, so missing. `Simple` is bench_grade's hand loop.
    #[inline(never)]
    pub(super) fn by_hand(
        c: &Columns,
        i: usize,
        year: i32,
        rule: Rule,
        l: &Limits,
    ) -> (Option<Number>, u16) {
        if c.monitoring[i]
            || (rule == Rule::Standard && (c.target_to_be_set[i] || c.qualitative[i]))
        {
            return (None, UNRATED);
        }
        let (start, len) = c.actuals[i];
        let mut best: Option<(i32, Number)> = None;
        for k in start as usize..(start + len) as usize {
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
        let (Some((_, a)), Some(t)) = (best, c.target_value[i]) else {
            return (None, UNRATED);
        };
        let rate = match (rule, c.direction[i]) {
            // maintain_of: 100 % within the band, else smaller ÷ larger.
            (Rule::Standard, 2) => {
                if t <= l.zero || a <= l.zero {
                    None
                } else {
                    let off = a.checked_sub(t).and_then(Number::abs);
                    let tolerance = t.abs().and_then(|t| t.checked_mul(l.band));
                    match (off, tolerance) {
                        (Ok(off), Ok(tol)) if off <= tol => Some(l.one),
                        (Ok(_), Ok(_)) => a.min(t).checked_div(a.max(t)).ok(),
                        _ => None,
                    }
                }
            }
            // ratio_of, decrease: target ÷ actual.
            (Rule::Standard, 1) => {
                if t.is_zero() && a.is_zero() {
                    Some(l.one)
                } else if t <= l.zero || a <= l.zero {
                    None
                } else {
                    t.checked_div(a).ok()
                }
            }
            // ratio_of, increase: actual ÷ target.
            (Rule::Standard, _) => {
                if t <= l.zero || a < l.zero {
                    None
                } else {
                    a.checked_div(t).ok()
                }
            }
            (Rule::Simple, 0) if !t.is_zero() => a.checked_div(t).ok(),
            (Rule::Simple, 1) if !a.is_zero() => t.checked_div(a).ok(),
            (Rule::Simple, _) => None,
        };
        match rate {
            Some(r) if r >= l.a_min => (Some(r), 0),
            Some(r) if r >= l.b_min => (Some(r), 1),
            Some(r) => (Some(r), 2),
            None => (None, UNRATED),
        }
    }

    fn sym(s: &'static str) -> Symbol {
        Symbol::from(s)
    }

    pub(super) fn decimal(n: Number) -> Decimal {
        Decimal::from(n.numer()) / Decimal::from(n.denom())
    }

    /// Indicator `i` as ZEN's input: the same fields the rule reads,
    /// numbers as exact decimals.
    pub(super) fn zen_input(c: &Columns, i: usize, year: i32) -> Variable {
        let num = |n: Option<Number>| n.map_or(Variable::Null, |n| Variable::Number(decimal(n)));
        let (start, len) = c.actuals[i];
        let actuals = (start as usize..(start + len) as usize)
            .map(|k| {
                Variable::from_object(VariableMap::from_iter([
                    (sym("year"), Variable::Number(c.obs_year[k].into())),
                    (sym("value"), num(c.obs_value[k])),
                ]))
            })
            .collect();
        let direction = ["increase", "decrease", "maintain"][c.direction[i] as usize];
        Variable::from_object(VariableMap::from_iter([
            (sym("year"), Variable::Number(year.into())),
            (sym("monitoring"), Variable::Bool(c.monitoring[i])),
            (sym("targetToBeSet"), Variable::Bool(c.target_to_be_set[i])),
            (sym("qualitative"), Variable::Bool(c.qualitative[i])),
            (sym("direction"), Variable::String(sym(direction))),
            (sym("baseline"), Variable::Null),
            (sym("target"), num(c.target_value[i])),
            (sym("actuals"), Variable::from_array(actuals)),
        ]))
    }

    /// ZEN's answer for one indicator: (grade index, rate).
    pub(super) fn zen_output(result: &Variable) -> (u16, Option<Decimal>) {
        let grade = result
            .dot("grade")
            .and_then(|g| g.as_str().and_then(|s| LABELS.iter().position(|l| *l == s)))
            .map_or(NO_GRADE, |p| p as u16);
        let rate = result.dot("rate").and_then(|r| r.as_number());
        (grade, rate)
    }

    /// A ZEN decision (the JDM graph's JSON text), compiled.
    pub(super) fn decision(graph: &str) -> Result<Decision> {
        let content: DecisionContent = serde_json::from_str(graph)?;
        let mut decision = DecisionEngine::default().create_decision(Arc::new(content))?;
        decision.compile();
        decision.validate()?;
        Ok(decision)
    }

    pub(super) fn runtime() -> Result<tokio::runtime::Runtime> {
        Ok(tokio::runtime::Builder::new_current_thread().build()?)
    }

    /// Evaluates every input in order; errors become `Null` results.
    /// Returns the results and the first error.
    pub(super) fn zen_evaluate(
        rt: &tokio::runtime::Runtime,
        decision: &Decision,
        inputs: Vec<Variable>,
        out: &mut Vec<Variable>,
    ) -> Option<String> {
        let mut first_error = None;
        rt.block_on(async {
            for input in inputs {
                match decision.evaluate(input).await {
                    Ok(response) => out.push(response.result),
                    Err(e) => {
                        first_error.get_or_insert_with(|| e.to_string());
                        out.push(Variable::Null);
                    }
                }
            }
        });
        first_error
    }

    /// Whether ZEN's decimal rate is hyoka's exact rate (to 20 significant
    /// digits; ZEN rounds quotients to 28).
    pub(super) fn same_rate(hyoka: Option<Number>, zen: Option<Decimal>) -> bool {
        match (hyoka, zen) {
            (None, None) => true,
            (Some(h), Some(z)) => {
                let h = decimal(h);
                let tolerance = h.abs().max(Decimal::ONE) * Decimal::new(1, 20);
                (h - z).abs() <= tolerance
            }
            _ => false,
        }
    }

    fn load_average() -> String {
        std::fs::read_to_string("/proc/loadavg")
            .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .unwrap_or_else(|_| "?".into())
    }

    pub(super) fn run(args: &ZenArgs) -> Result<()> {
        let rounds = args.rounds.max(1);
        let repeat = args.repeat.max(1);
        println!("{}", crate::machine_line());
        let load_before = load_average();

        let model = plan_model();
        let hyoka = Hyoka::new(&model, args.rule)?;
        let mut data = generate(&model, args.indicators.max(1));
        let n = data.len();
        let ctx = Ctx { year: args.year };
        let limits = Limits::new();
        let rt = runtime()?;
        let graph_text = match &args.graph {
            Some(path) => {
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?
            }
            None => graph(args.rule).to_string(),
        };
        let decision = decision(&graph_text)?;
        let mut hand = HandOut {
            rate: vec![None; n],
            grade: vec![0; n],
        };

        let (mut t_hyoka, mut t_hand, mut t_zen) = (Vec::new(), Vec::new(), Vec::new());
        let mut t_zen_wall = Vec::new();
        let mut t_inputs = Vec::new();
        let mut zen_out: Vec<Variable> = Vec::with_capacity(n);
        let mut zen_error = None;
        let mut busiest = 0.0f64;
        for round in 0..rounds {
            if args.idle_wait > 0.0 {
                busiest = busiest.max(wait_until_idle(
                    Duration::from_secs_f64(args.idle_wait),
                    0.15,
                ));
            }
            for _ in 0..repeat {
                let t = thread_cpu();
                hyoka.evaluate(&mut data, &ctx);
                t_hyoka.push(thread_cpu() - t);

                let t = thread_cpu();
                for i in 0..n {
                    let (r, g) = by_hand(black_box(&data), i, ctx.year, args.rule, &limits);
                    hand.rate[i] = r;
                    hand.grade[i] = g;
                }
                t_hand.push(thread_cpu() - t);
            }

            let t = thread_cpu();
            let inputs: Vec<Variable> = (0..n).map(|i| zen_input(&data, i, ctx.year)).collect();
            t_inputs.push(thread_cpu() - t);
            // The previous round's results are freed before the clock starts.
            zen_out.clear();
            let (t, wall) = (thread_cpu(), Instant::now());
            let error = zen_evaluate(&rt, &decision, inputs, &mut zen_out);
            t_zen.push(thread_cpu() - t);
            t_zen_wall.push(wall.elapsed());
            zen_error = zen_error.or(error);
            eprintln!(
                "round {}/{rounds}: ZEN {:.2} s, hyoka {:.1} ms, by hand {:.1} ms (CPU)",
                round + 1,
                t_zen.last().unwrap().as_secs_f64(),
                t_hyoka
                    .iter()
                    .rev()
                    .take(repeat)
                    .min()
                    .unwrap()
                    .as_secs_f64()
                    * 1e3,
                t_hand
                    .iter()
                    .rev()
                    .take(repeat)
                    .min()
                    .unwrap()
                    .as_secs_f64()
                    * 1e3,
            );
        }
        let load_after = load_average();

        // Agreement, indicator by indicator.
        let mut counts = [0usize; 4];
        let (mut hand_grade, mut hand_rate, mut zen_grade, mut zen_rate) = (0, 0, 0, 0);
        let mut zen_exact = 0usize;
        let mut shown = 0;
        for (i, zen) in zen_out.iter().enumerate() {
            let (hr, hg) = hyoka.rate_and_grade(&data, i);
            let (zg, zr) = zen_output(zen);
            if let Some(c) = counts.get_mut(hg as usize) {
                *c += 1;
            }
            hand_grade += usize::from(hg != hand.grade[i]);
            hand_rate += usize::from(hr != hand.rate[i]);
            zen_grade += usize::from(hg != zg);
            let same = same_rate(hr, zr);
            zen_rate += usize::from(!same);
            zen_exact += usize::from(matches!((hr, zr), (Some(h), Some(z)) if decimal(h) == z));
            if (hg != hand.grade[i] || hg != zg || !same || hr != hand.rate[i]) && shown < 5 {
                shown += 1;
                let label = |g: u16| LABELS.get(g as usize).copied().unwrap_or("?");
                println!(
                    "MISMATCH indicator {i}: hyoka {} {:?}, by hand {} {:?}, ZEN {} {:?}; input {}",
                    label(hg),
                    hr.map(decimal),
                    label(hand.grade[i]),
                    hand.rate[i].map(decimal),
                    label(zg),
                    zr,
                    serde_json::Value::from(zen_input(&data, i, ctx.year)),
                );
            }
        }
        let rated = counts[..3].iter().sum::<usize>();
        if zen_out.len() != n {
            return Err(format!("ZEN answered {} of {n} indicators", zen_out.len()).into());
        }

        let (h, b, z) = (best(&t_hyoka), best(&t_hand), best(&t_zen));
        let per = |d: Duration| d.as_secs_f64() / n as f64;
        println!(
            "\nrule: {}",
            match args.rule {
                Rule::Standard => "rules/rates + rules/grades (form auto, maintain band 10 %)",
                Rule::Simple => "bench_grade's (ratio form only, maintain unrated)",
            }
        );
        println!(
            "indicators: {} (A {} / B {} / C {} / 未算出 {}), evaluation year {}; the same for all three",
            thousands(n as u64),
            thousands(counts[0] as u64),
            thousands(counts[1] as u64),
            thousands(counts[2] as u64),
            thousands(counts[3] as u64),
            args.year
        );
        println!(
            "CPU time of this thread, best of {} runs (hyoka, by hand) and {rounds} runs (ZEN); \
             load average before {}, after {load_after}",
            rounds * repeat,
            load_before
        );
        if busiest > 0.15 {
            println!(
                "WARNING: the machine was up to {:.0}% busy with other work before some rounds",
                busiest * 100.0
            );
        }
        println!(
            "\n{:<46} {:>9} {:>9} {:>9} {:>12} {:>12}",
            "", "best", "median", "per eval", "evals/s", "time ÷ hyoka"
        );
        for (label, times) in [
            ("hyoka, eval_derives_batch", &t_hyoka),
            ("by hand, exact numbers", &t_hand),
            ("ZEN engine, JDM graph, compiled decision", &t_zen),
        ] {
            let d = best(times);
            println!(
                "{:<46} {:>7.1}ms {:>7.1}ms {:>6.0} ns {:>12} {:>12.2}",
                label,
                d.as_secs_f64() * 1e3,
                median(times).as_secs_f64() * 1e3,
                per(d) * 1e9,
                thousands((1.0 / per(d)) as u64),
                d.as_secs_f64() / h.as_secs_f64(),
            );
        }
        println!(
            "(not counted: building ZEN's input values from the columns, {:.0} ns per indicator; \
             ZEN's best wall time {:.1} ms)",
            per(best(&t_inputs)) * 1e9,
            best(&t_zen_wall).as_secs_f64() * 1e3
        );
        // Per round: ZEN's run against hyoka's best run of the same round.
        let mut per_round: Vec<f64> = t_zen
            .iter()
            .zip(t_hyoka.chunks(repeat))
            .map(|(z, h)| z.as_secs_f64() / best(h).as_secs_f64())
            .collect();
        per_round.sort_by(f64::total_cmp);
        let vs_zen = z.as_secs_f64() / h.as_secs_f64();
        println!(
            "\nhyoka vs ZEN: {vs_zen:.0}× faster, best against best (per round: {}) — goal ≥ 100×: {}",
            per_round
                .iter()
                .map(|r| format!("{r:.0}×"))
                .collect::<Vec<_>>()
                .join(", "),
            if vs_zen >= 100.0 { "met" } else { "NOT met" }
        );
        println!(
            "hyoka vs the hand loop: {:.2}× the time",
            h.as_secs_f64() / b.as_secs_f64()
        );
        println!(
            "\nagreement on {} indicators ({} with a rate):\n  \
             grades: hyoka ≠ by hand {hand_grade}, hyoka ≠ ZEN {zen_grade}\n  \
             rates:  hyoka ≠ by hand (exact) {hand_rate}, hyoka ≠ ZEN (to 20 digits) {zen_rate}; \
             ZEN's decimal equal to hyoka's exact rate in {} of {}",
            thousands(n as u64),
            thousands(rated as u64),
            thousands(zen_exact as u64),
            thousands(rated as u64),
        );
        if let Some(e) = zen_error {
            println!("ZEN evaluation errors (first): {e}");
        }
        if hand_grade + hand_rate + zen_grade + zen_rate > 0 {
            return Err("the three do not agree (see MISMATCH above)".into());
        }
        Ok(())
    }
}

#[cfg(all(test, feature = "zen"))]
mod tests {
    use super::imp::*;
    use super::Rule;
    use hyoka_dsl::schema::testing::plan_model;
    use hyoka_dsl::{Ctx, Number};

    fn n(text: &str) -> Option<Number> {
        Some(Number::parse(text).expect("a number"))
    }

    /// Bounds, directions, the maintain band, missing values and the
    /// order of actuals: for both rules, hyoka, the hand loop and the ZEN
    /// graph give the same grade and rate on each, and the grade expected.
    #[test]
    fn the_three_agree_on_edge_cases() {
        const INC: u16 = 0;
        const DEC: u16 = 1;
        const KEEP: u16 = 2;
        #[allow(clippy::type_complexity)]
        let cases: &[(bool, u16, Option<Number>, &[(i32, Option<Number>)], &str)] = &[
            (false, INC, n("100"), &[(2022, n("90"))], "A"),
            (false, INC, n("100"), &[(2022, n("89.9"))], "B"),
            (false, INC, n("100"), &[(2022, n("70"))], "B"),
            (false, INC, n("100"), &[(2022, n("69.9"))], "C"),
            (false, INC, n("100"), &[(2022, n("0"))], "C"),
            (false, INC, n("300"), &[(2021, n("238"))], "B"),
            (false, DEC, n("300"), &[(2022, n("679"))], "C"),
            (false, DEC, n("300"), &[(2022, n("0"))], "未算出"),
            (false, DEC, n("0.1"), &[(2022, n("0.1"))], "A"),
            (false, KEEP, n("100"), &[(2022, n("110"))], "A"),
            (false, KEEP, n("100"), &[(2022, n("111"))], "A"),
            (false, KEEP, n("100"), &[(2022, n("80"))], "B"),
            (false, KEEP, n("100"), &[(2022, n("0"))], "未算出"),
            (true, INC, n("100"), &[(2022, n("95"))], "未算出"),
            (false, INC, None, &[(2022, n("95"))], "未算出"),
            (false, INC, n("100"), &[(2022, None)], "未算出"),
            (false, INC, n("100"), &[], "未算出"),
            (
                false,
                INC,
                n("100"),
                &[(2021, n("50")), (2020, n("95"))],
                "C",
            ),
            (false, INC, n("100"), &[(2020, n("95")), (2021, None)], "A"),
            (
                false,
                INC,
                n("100"),
                &[(2023, n("10")), (2022, n("95"))],
                "A",
            ),
            (
                false,
                INC,
                n("100"),
                &[(2022, n("50")), (2022, n("95"))],
                "A",
            ),
        ];
        let model = plan_model();
        let mut data = Columns::empty(&model);
        for (monitoring, direction, target, actuals, _) in cases {
            data.push(*monitoring, *direction, *target, actuals);
        }
        let ctx = Ctx { year: 2022 };
        let limits = Limits::new();
        let rt = runtime().expect("a runtime");
        for rule in [Rule::Standard, Rule::Simple] {
            let hyoka = Hyoka::new(&model, rule).expect("the rules compile");
            hyoka.evaluate(&mut data, &ctx);
            let decision = decision(graph(rule)).expect("the graph loads");
            let inputs = (0..data.len()).map(|i| zen_input(&data, i, 2022)).collect();
            let mut out = Vec::new();
            assert_eq!(zen_evaluate(&rt, &decision, inputs, &mut out), None);
            for (i, case) in cases.iter().enumerate() {
                // The simple rule has no maintain band.
                let expected = match rule {
                    Rule::Simple if case.1 == KEEP => "未算出",
                    _ => case.4,
                };
                let (hr, hg) = hyoka.rate_and_grade(&data, i);
                let (br, bg) = by_hand(&data, i, 2022, rule, &limits);
                let (zg, zr) = zen_output(&out[i]);
                assert_eq!(LABELS[hg as usize], expected, "hyoka, {rule:?} case {i}");
                assert_eq!((br, bg), (hr, hg), "by hand, {rule:?} case {i}");
                assert_eq!(zg, hg, "ZEN's grade, {rule:?} case {i}");
                assert!(same_rate(hr, zr), "ZEN's rate {zr:?}, {rule:?} case {i}");
            }
        }
    }
}
