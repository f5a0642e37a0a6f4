//! The corpus as the compiled rule program reads it: an implementation of
//! [`hyoka_dsl::value::Data`] over [`Corpus`], plus the columns of derived
//! values computed so far.
//!
//! Reading a field allocates nothing: strings are borrowed from the corpus,
//! records (observations, targets, revisions …) are addressed by packing
//! their owner's index and their position into [`Obj::index`], and lists are
//! handles naming the owner and the list. This module does not evaluate
//! anything; [`crate::eval`] drives the program.

use std::collections::HashMap;
use std::sync::OnceLock;

use hyoka_dsl::number::Number;
use hyoka_dsl::schema::FieldId;
use hyoka_dsl::value::{Data, DeriveId, Latest, ListRef, Obj, OwnedValue, Series, Value};

use crate::model::*;
use crate::schema::{PlanSchema, F};

/// Records are addressed as `owner << SLOT_BITS | position`.
const SLOT_BITS: u32 = 8;
/// Position 0 of an indicator's observations is its baseline.
const BASELINE_SLOT: u32 = 0;

/// Which list a [`ListRef`] is: stored in [`ListRef::store`]; the owner's
/// index is in [`ListRef::start`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
enum List {
    PlanGoals,
    PlanPolicies,
    PlanMeasures,
    PlanProjects,
    PlanIndicators,
    PlanOverall,
    PlanDepartments,
    NodeIndicators,
    NodeProjects,
    ProjectIndicators,
    ProjectSdgs,
    ProjectCosts,
    ProjectReviews,
    IndActuals,
    IndLinks,
    IndRevisions,
}

const LISTS: &[List] = &[
    List::PlanGoals,
    List::PlanPolicies,
    List::PlanMeasures,
    List::PlanProjects,
    List::PlanIndicators,
    List::PlanOverall,
    List::PlanDepartments,
    List::NodeIndicators,
    List::NodeProjects,
    List::ProjectIndicators,
    List::ProjectSdgs,
    List::ProjectCosts,
    List::ProjectReviews,
    List::IndActuals,
    List::IndLinks,
    List::IndRevisions,
];

/// The corpus, indexed for the rule program.
pub struct CorpusData<'c> {
    pub corpus: &'c Corpus,
    pub schema: &'c PlanSchema,
    /// Nodes of each plan by level: goals, policies, measures.
    levels: Vec<[Vec<NodeIdx>; 3]>,
    /// Indicators of each plan that hang from the plan itself.
    overall: Vec<Vec<IndicatorIdx>>,
    /// The shared key of indicators linked by `same_as`, by indicator.
    link_keys: OnceLock<HashMap<IndicatorIdx, String>>,
    /// Derived values computed so far: a table per group of derives
    /// computed together.
    derived: Vec<DerivedTable>,
    /// Where each derive computed so far is: its table and column.
    derived_at: Vec<(u32, u32)>,
}

/// The values of consecutive derives of one kind, entity by entity: row `r`
/// holds `count` values, one per derive.
struct DerivedTable {
    count: usize,
    /// The row of each entity index (`u32::MAX`: not of the kind), when
    /// rows are not entity indices (nodes of one level).
    rows: Option<Vec<u32>>,
    values: Vec<OwnedValue>,
}

/// The value of a derive on an entity of another kind.
static MISSING: OwnedValue = OwnedValue::Missing(None);

impl<'c> CorpusData<'c> {
    pub fn new(corpus: &'c Corpus, schema: &'c PlanSchema) -> Self {
        let mut levels: Vec<[Vec<NodeIdx>; 3]> = vec![Default::default(); corpus.plans.len()];
        for (i, n) in corpus.nodes.iter().enumerate() {
            levels[n.plan as usize][n.level as usize].push(i as NodeIdx);
        }
        let overall = corpus
            .plans
            .iter()
            .map(|p| {
                p.indicators
                    .iter()
                    .copied()
                    .filter(|&i| corpus.indicators[i as usize].under == Owner::Plan)
                    .collect()
            })
            .collect();
        CorpusData {
            corpus,
            schema,
            levels,
            overall,
            // Built when a rule first reads `indicator.link` (most
            // evaluations never do; it is serial).
            link_keys: OnceLock::new(),
            derived: Vec::new(),
            derived_at: Vec::new(),
        }
    }

    /// Stores the next derive's column, by entity index (derives are
    /// computed in order).
    pub fn push_derived(&mut self, column: Vec<OwnedValue>) {
        self.derived_at.push((self.derived.len() as u32, 0));
        self.derived.push(DerivedTable {
            count: 1,
            rows: None,
            values: column,
        });
    }

    /// Stores the values of the next `count` derives, computed together on
    /// `objs` (all of one kind): `values[i * count + k]` is derive `k` of
    /// `objs[i]`. Entities of the kind not in `objs` have missing values.
    pub fn push_derived_group(&mut self, objs: &[Obj], count: usize, values: Vec<OwnedValue>) {
        assert_eq!(values.len(), objs.len() * count);
        let rows = match objs.first() {
            Some(first) if objs.iter().enumerate().any(|(i, o)| o.index as usize != i) => {
                let mut rows = vec![u32::MAX; self.count(first.kind)];
                for (row, o) in objs.iter().enumerate() {
                    rows[o.index as usize] = row as u32;
                }
                Some(rows)
            }
            _ => None,
        };
        let table = self.derived.len() as u32;
        self.derived_at
            .extend((0..count as u32).map(|k| (table, k)));
        self.derived.push(DerivedTable {
            count,
            rows,
            values,
        });
    }

    /// The stored value of a derive, for reports.
    pub fn derived_value(&self, d: DeriveId, index: u32) -> Option<&OwnedValue> {
        let &(table, k) = self.derived_at.get(d.0 as usize)?;
        let t = &self.derived[table as usize];
        let row = match &t.rows {
            None => index as usize,
            Some(rows) => match *rows.get(index as usize)? {
                u32::MAX => return Some(&MISSING),
                row => row as usize,
            },
        };
        t.values.get(row * t.count + k as usize)
    }

    /// How many entities a kind has (the length of a derived column).
    pub fn count(&self, kind: hyoka_dsl::schema::KindId) -> usize {
        let k = &self.schema.kinds;
        if kind == k.plan {
            self.corpus.plans.len()
        } else if kind == k.goal || kind == k.policy || kind == k.measure {
            self.corpus.nodes.len()
        } else if kind == k.project {
            self.corpus.projects.len()
        } else if kind == k.indicator {
            self.corpus.indicators.len()
        } else {
            0
        }
    }

    /// The entities of a kind, as objects (nodes only of the kind's level).
    pub fn entities(&self, kind: hyoka_dsl::schema::KindId) -> Vec<Obj> {
        let k = &self.schema.kinds;
        let level = if kind == k.goal {
            Some(Level::Goal)
        } else if kind == k.policy {
            Some(Level::Policy)
        } else if kind == k.measure {
            Some(Level::Measure)
        } else {
            None
        };
        match level {
            Some(level) => self
                .corpus
                .nodes
                .iter()
                .enumerate()
                .filter(|(_, n)| n.level == level)
                .map(|(i, _)| Obj::new(kind, i as u32))
                .collect(),
            None => (0..self.count(kind) as u32)
                .map(|i| Obj::new(kind, i))
                .collect(),
        }
    }

    fn list(&self, list: List, owner: u32, len: usize) -> Value<'_> {
        Value::List(ListRef {
            store: list as u32,
            start: owner,
            len: len as u32,
        })
    }

    fn plan_obj(&self, p: PlanIdx) -> Value<'_> {
        Value::Obj(Obj::new(self.schema.kinds.plan, p))
    }

    fn node_obj(&self, n: NodeIdx) -> Value<'_> {
        let k = &self.schema.kinds;
        let kind = match self.corpus.nodes[n as usize].level {
            Level::Goal => k.goal,
            Level::Policy => k.policy,
            Level::Measure => k.measure,
        };
        Value::Obj(Obj::new(kind, n))
    }

    fn ind_obj(&self, i: IndicatorIdx) -> Value<'_> {
        Value::Obj(Obj::new(self.schema.kinds.indicator, i))
    }

    fn project_obj(&self, p: ProjectIdx) -> Value<'_> {
        Value::Obj(Obj::new(self.schema.kinds.project, p))
    }

    fn record(&self, kind: hyoka_dsl::schema::KindId, owner: u32, slot: u32) -> Value<'_> {
        Value::Obj(Obj::new(kind, owner << SLOT_BITS | slot))
    }

    fn observation(&self, index: u32) -> Option<&'c Observation> {
        let ind = &self.corpus.indicators.get((index >> SLOT_BITS) as usize)?;
        match index & ((1 << SLOT_BITS) - 1) {
            BASELINE_SLOT => ind.baseline.as_ref(),
            slot => ind.actuals.get(slot as usize - 1),
        }
    }

    /// The indicator whose actuals `series` reads on `obj`, when it is
    /// `indicator.actuals` with observations' `year` and `value`.
    #[inline]
    fn actuals_of(&self, obj: Obj, series: Series) -> Option<&'c Indicator> {
        let s = self.schema;
        if obj.kind != s.kinds.indicator
            || s.field(series.list) != F::IndActuals
            || s.field(series.year) != F::ObsYear
            || s.field(series.value) != F::ObsValue
        {
            return None;
        }
        self.corpus.indicators.get(obj.index as usize)
    }

    fn slot<T>(items: &[T], index: u32) -> Option<&T> {
        items.get((index & ((1 << SLOT_BITS) - 1)) as usize)
    }
}

fn text(s: &str) -> Value<'_> {
    Value::Str(s)
}

fn opt_text<T: AsRef<str>>(s: &Option<Located<T>>) -> Value<'_> {
    match s {
        Some(l) => Value::Str(l.value.as_ref()),
        None => Value::Missing(None),
    }
}

fn year(y: &Option<Located<i32>>) -> Value<'static> {
    match y {
        Some(l) => Value::Year(l.value),
        None => Value::Missing(None),
    }
}

/// A plan value as the language's number (or a missing value with its
/// reason).
pub fn amount(a: &Amount) -> Value<'static> {
    match a {
        Amount::Number(d) => match Number::from_decimal(d.mantissa, d.scale as u32) {
            Some(n) => Value::Num(n),
            None => Value::Missing(None),
        },
        Amount::Missing(r) => Value::Missing(Some(r.token())),
    }
}

fn opt_amount(a: &Option<Located<Amount>>) -> Value<'static> {
    match a {
        Some(l) => amount(&l.value),
        None => Value::Missing(None),
    }
}

impl CorpusData<'_> {
    /// Field `field` (which is `f`) of `obj`: [`Data::field`], inlined into
    /// [`Data::fields`] with `f` known so that only its arm remains.
    #[inline(always)]
    fn field_as(&self, f: F, field: FieldId, obj: Obj) -> Value<'_> {
        let c = self.corpus;
        let k = &self.schema.kinds;
        let e = &self.schema.enums;
        let i = obj.index as usize;
        let missing = Value::Missing(None);
        match f {
            // ----- plan (external plans follow the corpus' plans)
            f @ (F::PlanId
            | F::PlanName
            | F::PlanMunicipality
            | F::PlanKind
            | F::PlanPeriod
            | F::PlanParent
            | F::PlanYearBasis
            | F::PlanDepartments
            | F::PlanGoals
            | F::PlanPolicies
            | F::PlanMeasures
            | F::PlanProjects
            | F::PlanIndicators
            | F::PlanOverall) => {
                let Some(p) = c.plans.get(i) else {
                    let Some(x) = c.externals.get(i - c.plans.len()) else {
                        return missing;
                    };
                    return match f {
                        F::PlanId => text(&x.id.value),
                        F::PlanName => x.name.as_deref().map_or(missing, text),
                        F::PlanPeriod if x.period.is_some() => self.record(k.period, obj.index, 0),
                        _ => missing,
                    };
                };
                match f {
                    F::PlanId => text(&p.id.value),
                    F::PlanName => text(&p.name.value),
                    F::PlanMunicipality => text(&p.municipality.value),
                    F::PlanKind => Value::Enum(e.plan_kind, p.kind.value as u16),
                    F::PlanPeriod => self.record(k.period, obj.index, 0),
                    F::PlanParent => match p.parent.map(|l| l.value) {
                        Some(ParentPlan::Plan(pp)) => self.plan_obj(pp),
                        Some(ParentPlan::External(x)) => self.plan_obj(c.plans.len() as u32 + x),
                        None => missing,
                    },
                    F::PlanYearBasis => Value::Enum(e.year_basis, p.year_basis as u16),
                    F::PlanDepartments => {
                        self.list(List::PlanDepartments, obj.index, p.departments.len())
                    }
                    F::PlanGoals => self.list(List::PlanGoals, obj.index, self.levels[i][0].len()),
                    F::PlanPolicies => {
                        self.list(List::PlanPolicies, obj.index, self.levels[i][1].len())
                    }
                    F::PlanMeasures => {
                        self.list(List::PlanMeasures, obj.index, self.levels[i][2].len())
                    }
                    F::PlanProjects => self.list(List::PlanProjects, obj.index, p.projects.len()),
                    F::PlanIndicators => {
                        self.list(List::PlanIndicators, obj.index, p.indicators.len())
                    }
                    F::PlanOverall => {
                        self.list(List::PlanOverall, obj.index, self.overall[i].len())
                    }
                    _ => missing,
                }
            }
            // ----- goal / policy / measure
            F::NodeId => text(&c.nodes[i].id.value),
            F::NodeName => text(&c.nodes[i].name.value),
            F::NodePlan => self.plan_obj(c.nodes[i].plan),
            F::NodeParent => {
                let n = &c.nodes[i];
                let parent_kind = self.schema.schema.field_def(field).ty.base;
                match n.under {
                    Owner::Plan if parent_kind == hyoka_dsl::schema::Base::Obj(k.plan) => {
                        self.plan_obj(n.plan)
                    }
                    Owner::Node(p) => match self.node_obj(p) {
                        Value::Obj(o) if hyoka_dsl::schema::Base::Obj(o.kind) == parent_kind => {
                            Value::Obj(o)
                        }
                        _ => missing,
                    },
                    _ => missing,
                }
            }
            F::NodeIndicators => {
                self.list(List::NodeIndicators, obj.index, c.nodes[i].indicators.len())
            }
            F::NodeProjects => self.list(List::NodeProjects, obj.index, c.nodes[i].projects.len()),
            // ----- project
            F::ProjectId => text(&c.projects[i].id.value),
            F::ProjectNumber => opt_text(&c.projects[i].number),
            F::ProjectName => text(&c.projects[i].name.value),
            F::ProjectPlan => self.plan_obj(c.projects[i].plan),
            F::ProjectParent => match c.projects[i].under {
                Owner::Node(n) if c.nodes[n as usize].level == Level::Measure => self.node_obj(n),
                _ => missing,
            },
            F::ProjectCategory => opt_text(&c.projects[i].category),
            F::ProjectStatus => Value::Enum(e.status, c.projects[i].status.value as u16),
            F::ProjectRelisted => Value::Bool(c.projects[i].relisted_from.is_some()),
            F::ProjectOriginal => match c.projects[i].relisted_from {
                Some(l) => self.project_obj(l.value),
                None => missing,
            },
            F::ProjectSdgs => self.list(List::ProjectSdgs, obj.index, c.projects[i].sdgs.len()),
            F::ProjectDepartment => opt_text(&c.projects[i].department),
            F::ProjectCosts => self.list(List::ProjectCosts, obj.index, c.projects[i].costs.len()),
            F::ProjectReviews => {
                self.list(List::ProjectReviews, obj.index, c.projects[i].reviews.len())
            }
            F::ProjectCompletedIn => year(&c.projects[i].completed_in),
            F::ProjectIndicators => self.list(
                List::ProjectIndicators,
                obj.index,
                c.projects[i].indicators.len(),
            ),
            // ----- indicator
            F::IndId => text(&c.indicators[i].id.value),
            F::IndName => text(&c.indicators[i].name.value),
            F::IndPlan => self.plan_obj(c.indicators[i].plan),
            F::IndMeasure => match c.measure_of(&c.indicators[i]) {
                Some(m) => self.node_obj(m),
                None => missing,
            },
            F::IndProject => match c.indicators[i].under {
                Owner::Project(p) => self.project_obj(p),
                _ => missing,
            },
            F::IndUnit => opt_text(&c.indicators[i].unit),
            F::IndDirection => match c.indicators[i].direction {
                Some(d) => Value::Enum(e.direction, d.value as u16),
                None => missing,
            },
            F::IndKind => match c.indicators[i].kind {
                Some(d) => Value::Enum(e.indicator_kind, d.value as u16),
                None => missing,
            },
            F::IndDepartment => opt_text(&c.indicators[i].department),
            F::IndBaseline => match c.indicators[i].baseline {
                Some(_) => self.record(k.observation, obj.index, BASELINE_SLOT),
                None => missing,
            },
            F::IndActuals => self.list(List::IndActuals, obj.index, c.indicators[i].actuals.len()),
            F::IndTarget => match c.indicators[i].target {
                Some(_) => self.record(k.target, obj.index, 0),
                None => missing,
            },
            F::IndCumulative => Value::Bool(c.indicators[i].cumulative),
            F::IndCumulativeFrom => year(&c.indicators[i].cumulative_from),
            F::IndMonitoring => Value::Bool(c.indicators[i].monitoring),
            F::IndTargetToBeSet => Value::Bool(
                c.indicators[i]
                    .target
                    .as_ref()
                    .is_some_and(|t| t.set_in.is_some()),
            ),
            F::IndQualitative => Value::Bool(
                c.indicators[i]
                    .target
                    .as_ref()
                    .is_some_and(|t| t.text.is_some()),
            ),
            F::IndPartGroup => c.indicators[i]
                .part
                .as_ref()
                .map_or(missing, |p| text(&p.group)),
            F::IndPartLabel => c.indicators[i]
                .part
                .as_ref()
                .map_or(missing, |p| text(&p.label)),
            F::IndLink => self
                .link_keys
                .get_or_init(|| link_keys(c))
                .get(&obj.index)
                .map_or(missing, |s| text(s)),
            F::IndLinks => self.list(List::IndLinks, obj.index, c.indicators[i].links.len()),
            F::IndTargetDiffers => c.indicators[i]
                .links
                .iter()
                .find_map(|l| l.target_differs.as_ref())
                .map_or(missing, |r| text(&r.value)),
            F::IndRevisions => self.list(
                List::IndRevisions,
                obj.index,
                c.indicators[i].revisions.len(),
            ),
            F::IndYearBasis => Value::Enum(e.year_basis, c.indicators[i].year_basis as u16),
            // ----- observation
            F::ObsYear => self
                .observation(obj.index)
                .map_or(missing, |o| Value::Year(o.year.value)),
            F::ObsValue => self
                .observation(obj.index)
                .map_or(missing, |o| amount(&o.value.value)),
            F::ObsAsOf => self
                .observation(obj.index)
                .map_or(missing, |o| year(&o.as_of)),
            F::ObsReason => match self.observation(obj.index).map(|o| o.value.value) {
                Some(Amount::Missing(r)) => text(r.token()),
                _ => missing,
            },
            // ----- target
            f @ (F::TargetYear | F::TargetValue | F::TargetText | F::TargetSetIn) => {
                let Some(t) = c
                    .indicators
                    .get((obj.index >> SLOT_BITS) as usize)
                    .and_then(|ind| ind.target.as_ref())
                else {
                    return missing;
                };
                match f {
                    F::TargetYear => Value::Year(t.year.value),
                    F::TargetValue => opt_amount(&t.value),
                    F::TargetText => opt_text(&t.text),
                    _ => year(&t.set_in),
                }
            }
            // ----- period
            f @ (F::PeriodFrom | F::PeriodTo) => {
                let owner = (obj.index >> SLOT_BITS) as usize;
                let period = match c.plans.get(owner) {
                    Some(p) => Some(p.period),
                    None => c
                        .externals
                        .get(owner - c.plans.len())
                        .and_then(|x| x.period),
                };
                match (period, f) {
                    (Some(p), F::PeriodFrom) => Value::Year(p.from.value),
                    (Some(p), _) => Value::Year(p.to.value),
                    (None, _) => missing,
                }
            }
            // ----- revision
            f @ (F::RevKind | F::RevYear | F::RevFrom | F::RevTo | F::RevReason | F::RevBy) => {
                let Some(r) = c
                    .indicators
                    .get((obj.index >> SLOT_BITS) as usize)
                    .and_then(|ind| Self::slot(&ind.revisions, obj.index))
                else {
                    return missing;
                };
                match f {
                    F::RevKind => Value::Enum(e.revision_kind, r.kind as u16),
                    F::RevYear => year(&r.year),
                    F::RevFrom => opt_amount(&r.from),
                    F::RevTo => opt_amount(&r.to),
                    F::RevReason => opt_text(&r.reason),
                    _ => r.by.map_or(missing, |b| self.ind_obj(b.value)),
                }
            }
            // ----- cost
            f @ (F::CostYear | F::CostValue | F::CostUnit) => {
                let Some(x) = c
                    .projects
                    .get((obj.index >> SLOT_BITS) as usize)
                    .and_then(|p| Self::slot(&p.costs, obj.index))
                else {
                    return missing;
                };
                match f {
                    F::CostYear => Value::Year(x.year.value),
                    F::CostValue => amount(&x.value.value),
                    _ => x.unit.as_deref().map_or(missing, text),
                }
            }
            // ----- review
            f @ (F::ReviewYear | F::ReviewOutcome) => {
                let Some(x) = c
                    .projects
                    .get((obj.index >> SLOT_BITS) as usize)
                    .and_then(|p| Self::slot(&p.reviews, obj.index))
                else {
                    return missing;
                };
                match f {
                    F::ReviewYear => Value::Year(x.year.value),
                    _ => text(&x.outcome.value),
                }
            }
        }
    }
}

impl Data for CorpusData<'_> {
    fn field(&self, obj: Obj, field: FieldId) -> Value<'_> {
        self.field_as(self.schema.field(field), field, obj)
    }

    /// The fields the standard packs read for every entity are decided once
    /// for all of `objs`; the others are read one by one.
    fn fields<'s>(&'s self, objs: &[Obj], field: FieldId, out: &mut [Value<'s>]) {
        macro_rules! decided_once {
            ($($f:ident),* $(,)?) => {
                match self.schema.field(field) {
                    $(F::$f => {
                        for (o, v) in objs.iter().zip(out.iter_mut()) {
                            *v = self.field_as(F::$f, field, *o);
                        }
                    })*
                    _ => {
                        for (o, v) in objs.iter().zip(out.iter_mut()) {
                            *v = self.field(*o, field);
                        }
                    }
                }
            };
        }
        decided_once!(
            IndMonitoring,
            IndTargetToBeSet,
            IndQualitative,
            IndDirection,
            IndTarget,
            IndBaseline,
            IndCumulative,
            IndCumulativeFrom,
            IndPlan,
            IndActuals,
            TargetValue,
            TargetYear,
            ObsValue,
            ObsYear,
            PlanPeriod,
            PeriodFrom,
            NodeIndicators,
            ProjectIndicators,
        );
    }

    /// `latest` of an indicator's actuals, read from
    /// [`Indicator::actuals`] directly (the walk it replaces reads the same
    /// observations through `field` and `list_get`).
    fn latest(&self, obj: Obj, series: Series, year: i32) -> Latest<'_> {
        let Some(ind) = self.actuals_of(obj, series) else {
            return hyoka_dsl::eval::walk_latest(self, obj, series, year);
        };
        // As the walk: the latest year in or before `year` with a value
        // wins (of one year, the observation listed last); without one, the
        // reason of the latest observation without a value. Only the winner
        // is converted ([`amount`]: a decimal that does not fit is missing).
        let mut best: Option<(i32, &Amount)> = None;
        let mut reason: Option<(i32, &Amount)> = None;
        for o in &ind.actuals {
            let y = o.year.value;
            if y > year {
                continue;
            }
            let a = &o.value.value;
            let has_value =
                matches!(a, Amount::Number(d) if Number::from_decimal(0, d.scale as u32).is_some());
            let slot = if has_value { &mut best } else { &mut reason };
            if slot.is_none_or(|(sy, _)| y >= sy) {
                *slot = Some((y, a));
            }
        }
        match (best, reason) {
            (Some((y, a)), _) => Ok((y, amount(a))),
            (None, Some((_, a))) => match amount(a) {
                Value::Missing(r) => Err(r),
                _ => Err(None),
            },
            (None, None) => Err(None),
        }
    }

    /// `actual` of an indicator's actuals, read directly (as [`Data::latest`]).
    fn actual(&self, obj: Obj, series: Series, year: i32) -> Value<'_> {
        let Some(ind) = self.actuals_of(obj, series) else {
            return hyoka_dsl::eval::walk_actual(self, obj, series, year);
        };
        ind.actuals
            .iter()
            .rev()
            .find(|o| o.year.value == year)
            .map_or(Value::Missing(None), |o| amount(&o.value.value))
    }

    fn list_get(&self, list: ListRef, i: u32) -> Value<'_> {
        let c = self.corpus;
        let k = &self.schema.kinds;
        let owner = list.start as usize;
        let at = i as usize;
        let Some(kind) = LISTS.get(list.store as usize) else {
            return Value::Missing(None);
        };
        match kind {
            List::PlanGoals => self.node_obj(self.levels[owner][0][at]),
            List::PlanPolicies => self.node_obj(self.levels[owner][1][at]),
            List::PlanMeasures => self.node_obj(self.levels[owner][2][at]),
            List::PlanProjects => self.project_obj(c.plans[owner].projects[at]),
            List::PlanIndicators => self.ind_obj(c.plans[owner].indicators[at]),
            List::PlanOverall => self.ind_obj(self.overall[owner][at]),
            List::PlanDepartments => text(&c.plans[owner].departments[at].value),
            List::NodeIndicators => self.ind_obj(c.nodes[owner].indicators[at]),
            List::NodeProjects => self.project_obj(c.nodes[owner].projects[at]),
            List::ProjectIndicators => self.ind_obj(c.projects[owner].indicators[at]),
            List::ProjectSdgs => Value::Num(Number::from_i64(c.projects[owner].sdgs[at].value)),
            List::ProjectCosts => self.record(k.cost, list.start, i),
            List::ProjectReviews => self.record(k.review, list.start, i),
            List::IndActuals => self.record(k.observation, list.start, i + 1),
            List::IndLinks => self.ind_obj(c.indicators[owner].links[at].indicator),
            List::IndRevisions => self.record(k.revision, list.start, i),
        }
    }

    fn derived(&self, derive: DeriveId, obj: Obj) -> Value<'_> {
        match self.derived_value(derive, obj.index) {
            Some(v) => v.as_value(),
            None => Value::Missing(None),
        }
    }

    fn describe(&self, obj: Obj) -> String {
        crate::data::describe(self.corpus, self.schema, obj)
    }
}

/// `plan-id / entity-id`, for messages.
pub fn describe(c: &Corpus, schema: &PlanSchema, obj: Obj) -> String {
    let k = &schema.kinds;
    let i = obj.index as usize;
    let plan_id = |p: PlanIdx| c.plans[p as usize].id.value.as_str();
    if obj.kind == k.plan {
        c.plans
            .get(i)
            .map(|p| p.id.value.clone())
            .unwrap_or_else(|| format!("external plan #{i}"))
    } else if obj.kind == k.goal || obj.kind == k.policy || obj.kind == k.measure {
        let n = &c.nodes[i];
        format!("{} / {}", plan_id(n.plan), n.id.value)
    } else if obj.kind == k.project {
        let p = &c.projects[i];
        format!("{} / {}", plan_id(p.plan), p.id.value)
    } else if obj.kind == k.indicator {
        let ind = &c.indicators[i];
        format!("{} / {}", plan_id(ind.plan), ind.id.value)
    } else {
        format!("record #{}", obj.index)
    }
}

/// Connected components of `same_as` links, each named by its first
/// member as `plan-id:indicator-id`.
fn link_keys(c: &Corpus) -> HashMap<IndicatorIdx, String> {
    let mut parent: HashMap<IndicatorIdx, IndicatorIdx> = HashMap::new();
    fn find(parent: &mut HashMap<IndicatorIdx, IndicatorIdx>, x: IndicatorIdx) -> IndicatorIdx {
        let mut root = x;
        while let Some(&p) = parent.get(&root) {
            if p == root {
                break;
            }
            root = p;
        }
        parent.insert(x, root);
        root
    }
    for (i, ind) in c.indicators.iter().enumerate() {
        for l in &ind.links {
            let a = find(&mut parent, i as IndicatorIdx);
            let b = find(&mut parent, l.indicator);
            let (lo, hi) = if a < b { (a, b) } else { (b, a) };
            parent.insert(hi, lo);
            parent.entry(lo).or_insert(lo);
        }
    }
    let members: Vec<IndicatorIdx> = parent.keys().copied().collect();
    let mut out = HashMap::new();
    for m in members {
        let root = find(&mut parent, m);
        let ind = &c.indicators[root as usize];
        out.insert(
            m,
            format!("{}:{}", c.plans[ind.plan as usize].id.value, ind.id.value),
        );
    }
    out
}
