//! The plan model as the rule language sees it: the [`Schema`] the engine
//! hands the rule checker, and the table that maps each schema field back to
//! the corpus field that answers it.
//!
//! This is the one place where the names rules use (`indicator.target`)
//! meet the Rust model; the docs/rule-language.md table "The plan model as
//! the language sees it" describes the same thing and must agree with it.

use hyoka_dsl::schema::{EnumId, FieldId, KindId, Schema, SchemaError, Type};

/// A field of the plan model, as the data adapter answers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum F {
    // plan
    PlanId,
    PlanName,
    PlanMunicipality,
    PlanKind,
    PlanPeriod,
    PlanParent,
    PlanYearBasis,
    PlanDepartments,
    PlanGoals,
    PlanPolicies,
    PlanMeasures,
    PlanProjects,
    PlanIndicators,
    PlanOverall,
    // goal, policy, measure
    NodeId,
    NodeName,
    NodePlan,
    NodeParent,
    NodeIndicators,
    NodeProjects,
    // project
    ProjectId,
    ProjectNumber,
    ProjectName,
    ProjectPlan,
    ProjectParent,
    ProjectCategory,
    ProjectStatus,
    ProjectRelisted,
    ProjectOriginal,
    ProjectSdgs,
    ProjectDepartment,
    ProjectCosts,
    ProjectReviews,
    ProjectIndicators,
    ProjectCompletedIn,
    // indicator
    IndId,
    IndName,
    IndPlan,
    IndMeasure,
    IndProject,
    IndUnit,
    IndDirection,
    IndKind,
    IndDepartment,
    IndBaseline,
    IndActuals,
    IndTarget,
    IndCumulative,
    IndCumulativeFrom,
    IndMonitoring,
    IndTargetToBeSet,
    IndQualitative,
    IndPartGroup,
    IndPartLabel,
    IndLink,
    IndLinks,
    IndTargetDiffers,
    IndRevisions,
    IndYearBasis,
    // observation
    ObsYear,
    ObsValue,
    ObsAsOf,
    ObsReason,
    // target
    TargetYear,
    TargetValue,
    TargetText,
    TargetSetIn,
    // period
    PeriodFrom,
    PeriodTo,
    // revision
    RevKind,
    RevYear,
    RevFrom,
    RevTo,
    RevReason,
    RevBy,
    // cost
    CostYear,
    CostValue,
    CostUnit,
    // review
    ReviewYear,
    ReviewOutcome,
}

/// Kind ids of the plan model.
#[derive(Clone, Copy, Debug)]
pub struct Kinds {
    pub plan: KindId,
    pub goal: KindId,
    pub policy: KindId,
    pub measure: KindId,
    pub project: KindId,
    pub indicator: KindId,
    pub observation: KindId,
    pub target: KindId,
    pub period: KindId,
    pub revision: KindId,
    pub cost: KindId,
    pub review: KindId,
}

/// Enum ids of the plan model.
#[derive(Clone, Copy, Debug)]
pub struct Enums {
    pub direction: EnumId,
    pub status: EnumId,
    pub plan_kind: EnumId,
    pub indicator_kind: EnumId,
    pub revision_kind: EnumId,
    pub year_basis: EnumId,
    pub outcome: EnumId,
}

/// The schema and the way back from its ids.
#[derive(Clone, Debug)]
pub struct PlanSchema {
    pub schema: Schema,
    pub kinds: Kinds,
    pub enums: Enums,
    /// Indexed by `FieldId.0`.
    pub fields: Vec<F>,
}

impl PlanSchema {
    pub fn field(&self, f: FieldId) -> F {
        self.fields[f.0 as usize]
    }

    /// Builds the plan model's schema.
    pub fn new() -> PlanSchema {
        build().expect("the plan model's schema declares every name once")
    }
}

impl Default for PlanSchema {
    fn default() -> Self {
        Self::new()
    }
}

/// Review outcomes (事務事業評価), in the order the language numbers them.
pub const OUTCOMES: &[&str] = &[
    "拡充", "継続", "改善", "統合", "縮小", "休止", "廃止", "完了",
];

fn build() -> Result<PlanSchema, SchemaError> {
    let mut s = Schema::new();
    let enums = Enums {
        direction: s.enumeration("direction", &["increase", "decrease", "maintain"])?,
        status: s.enumeration("status", &["new", "continuing", "completed"])?,
        plan_kind: s.enumeration(
            "plan_kind",
            &["top", "sectoral", "strategy", "wide_area", "budget_policy"],
        )?,
        indicator_kind: s.enumeration("indicator_kind", &["activity", "output", "outcome"])?,
        revision_kind: s.enumeration("revision_kind", &["added", "replaced", "target_revised"])?,
        year_basis: s.enumeration("year_basis", &["fiscal", "calendar"])?,
        outcome: s.enumeration("outcome", OUTCOMES)?,
    };
    let kinds = Kinds {
        plan: s.entity("plan")?,
        goal: s.entity("goal")?,
        policy: s.entity("policy")?,
        measure: s.entity("measure")?,
        project: s.entity("project")?,
        indicator: s.entity("indicator")?,
        observation: s.record("observation")?,
        target: s.record("target")?,
        period: s.record("period")?,
        revision: s.record("revision")?,
        cost: s.record("cost")?,
        review: s.record("review")?,
    };
    let mut fields = Vec::new();
    let k = kinds;
    let num = Type::NUMBER;
    let text = Type::STRING;
    let flag = Type::BOOL;
    let yr = Type::YEAR;
    let obj = Type::obj;
    let list = |kind| Type::list_of(Type::obj(kind));
    let en = Type::enumeration;

    let mut add = |s: &mut Schema, kind, name: &str, ty, f: F| -> Result<(), SchemaError> {
        let id = s.field(kind, name, ty)?;
        debug_assert_eq!(id.0 as usize, fields.len());
        fields.push(f);
        Ok(())
    };

    add(&mut s, k.plan, "id", text, F::PlanId)?;
    add(&mut s, k.plan, "name", text, F::PlanName)?;
    add(&mut s, k.plan, "municipality", text, F::PlanMunicipality)?;
    add(&mut s, k.plan, "kind", en(enums.plan_kind), F::PlanKind)?;
    add(&mut s, k.plan, "period", obj(k.period), F::PlanPeriod)?;
    add(&mut s, k.plan, "parent", obj(k.plan), F::PlanParent)?;
    add(
        &mut s,
        k.plan,
        "year_basis",
        en(enums.year_basis),
        F::PlanYearBasis,
    )?;
    add(
        &mut s,
        k.plan,
        "departments",
        Type::list_of(text),
        F::PlanDepartments,
    )?;
    add(&mut s, k.plan, "goals", list(k.goal), F::PlanGoals)?;
    add(&mut s, k.plan, "policies", list(k.policy), F::PlanPolicies)?;
    add(&mut s, k.plan, "measures", list(k.measure), F::PlanMeasures)?;
    add(&mut s, k.plan, "projects", list(k.project), F::PlanProjects)?;
    add(
        &mut s,
        k.plan,
        "indicators",
        list(k.indicator),
        F::PlanIndicators,
    )?;
    add(
        &mut s,
        k.plan,
        "overall_indicators",
        list(k.indicator),
        F::PlanOverall,
    )?;

    for (node, parent) in [(k.goal, k.plan), (k.policy, k.goal), (k.measure, k.policy)] {
        add(&mut s, node, "id", text, F::NodeId)?;
        add(&mut s, node, "name", text, F::NodeName)?;
        add(&mut s, node, "plan", obj(k.plan), F::NodePlan)?;
        add(&mut s, node, "parent", obj(parent), F::NodeParent)?;
        add(
            &mut s,
            node,
            "indicators",
            list(k.indicator),
            F::NodeIndicators,
        )?;
        add(&mut s, node, "projects", list(k.project), F::NodeProjects)?;
    }

    add(&mut s, k.project, "id", text, F::ProjectId)?;
    add(&mut s, k.project, "number", text, F::ProjectNumber)?;
    add(&mut s, k.project, "name", text, F::ProjectName)?;
    add(&mut s, k.project, "plan", obj(k.plan), F::ProjectPlan)?;
    add(
        &mut s,
        k.project,
        "parent",
        obj(k.measure),
        F::ProjectParent,
    )?;
    add(&mut s, k.project, "category", text, F::ProjectCategory)?;
    add(
        &mut s,
        k.project,
        "status",
        en(enums.status),
        F::ProjectStatus,
    )?;
    add(&mut s, k.project, "relisted", flag, F::ProjectRelisted)?;
    add(
        &mut s,
        k.project,
        "original",
        obj(k.project),
        F::ProjectOriginal,
    )?;
    add(
        &mut s,
        k.project,
        "sdgs",
        Type::list_of(num),
        F::ProjectSdgs,
    )?;
    add(&mut s, k.project, "department", text, F::ProjectDepartment)?;
    add(&mut s, k.project, "costs", list(k.cost), F::ProjectCosts)?;
    add(
        &mut s,
        k.project,
        "reviews",
        list(k.review),
        F::ProjectReviews,
    )?;
    add(
        &mut s,
        k.project,
        "indicators",
        list(k.indicator),
        F::ProjectIndicators,
    )?;

    add(&mut s, k.indicator, "id", text, F::IndId)?;
    add(&mut s, k.indicator, "name", text, F::IndName)?;
    add(&mut s, k.indicator, "plan", obj(k.plan), F::IndPlan)?;
    add(
        &mut s,
        k.indicator,
        "measure",
        obj(k.measure),
        F::IndMeasure,
    )?;
    add(
        &mut s,
        k.indicator,
        "project",
        obj(k.project),
        F::IndProject,
    )?;
    add(&mut s, k.indicator, "unit", text, F::IndUnit)?;
    add(
        &mut s,
        k.indicator,
        "direction",
        en(enums.direction),
        F::IndDirection,
    )?;
    add(
        &mut s,
        k.indicator,
        "kind",
        en(enums.indicator_kind),
        F::IndKind,
    )?;
    add(&mut s, k.indicator, "department", text, F::IndDepartment)?;
    add(
        &mut s,
        k.indicator,
        "baseline",
        obj(k.observation),
        F::IndBaseline,
    )?;
    add(
        &mut s,
        k.indicator,
        "actuals",
        list(k.observation),
        F::IndActuals,
    )?;
    add(&mut s, k.indicator, "target", obj(k.target), F::IndTarget)?;
    add(&mut s, k.indicator, "cumulative", flag, F::IndCumulative)?;
    add(
        &mut s,
        k.indicator,
        "cumulative_from",
        yr,
        F::IndCumulativeFrom,
    )?;
    add(&mut s, k.indicator, "monitoring", flag, F::IndMonitoring)?;
    add(
        &mut s,
        k.indicator,
        "target_to_be_set",
        flag,
        F::IndTargetToBeSet,
    )?;
    add(&mut s, k.indicator, "qualitative", flag, F::IndQualitative)?;
    add(&mut s, k.indicator, "part_group", text, F::IndPartGroup)?;
    add(&mut s, k.indicator, "part_label", text, F::IndPartLabel)?;
    add(&mut s, k.indicator, "link", text, F::IndLink)?;
    add(&mut s, k.indicator, "links", list(k.indicator), F::IndLinks)?;
    add(
        &mut s,
        k.indicator,
        "target_differs",
        text,
        F::IndTargetDiffers,
    )?;
    add(
        &mut s,
        k.indicator,
        "revisions",
        list(k.revision),
        F::IndRevisions,
    )?;
    add(
        &mut s,
        k.indicator,
        "year_basis",
        en(enums.year_basis),
        F::IndYearBasis,
    )?;

    add(&mut s, k.observation, "year", yr, F::ObsYear)?;
    add(&mut s, k.observation, "value", num, F::ObsValue)?;
    add(&mut s, k.observation, "as_of", yr, F::ObsAsOf)?;
    add(&mut s, k.observation, "reason", text, F::ObsReason)?;

    add(&mut s, k.target, "year", yr, F::TargetYear)?;
    add(&mut s, k.target, "value", num, F::TargetValue)?;
    add(&mut s, k.target, "text", text, F::TargetText)?;
    add(&mut s, k.target, "set_in", yr, F::TargetSetIn)?;

    add(&mut s, k.period, "from", yr, F::PeriodFrom)?;
    add(&mut s, k.period, "to", yr, F::PeriodTo)?;

    add(
        &mut s,
        k.revision,
        "kind",
        en(enums.revision_kind),
        F::RevKind,
    )?;
    add(&mut s, k.revision, "year", yr, F::RevYear)?;
    add(&mut s, k.revision, "from", num, F::RevFrom)?;
    add(&mut s, k.revision, "to", num, F::RevTo)?;
    add(&mut s, k.revision, "reason", text, F::RevReason)?;
    add(&mut s, k.revision, "by", obj(k.indicator), F::RevBy)?;

    add(&mut s, k.cost, "year", yr, F::CostYear)?;
    add(&mut s, k.cost, "value", num, F::CostValue)?;
    add(&mut s, k.cost, "unit", text, F::CostUnit)?;

    add(&mut s, k.review, "year", yr, F::ReviewYear)?;
    add(&mut s, k.review, "outcome", text, F::ReviewOutcome)?;

    Ok(PlanSchema {
        schema: s,
        kinds,
        enums,
        fields,
    })
}
