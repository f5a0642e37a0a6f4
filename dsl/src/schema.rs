//! The plan model as the rule language sees it: kinds of objects, their
//! typed fields, and enumerations.
//!
//! The caller (the engine) builds a [`Schema`] and keeps the small integer
//! ids it gets back ([`KindId`], [`FieldId`], [`EnumId`]): the compiled
//! program asks the data for `field(obj, FieldId)`, so the engine can answer
//! through a table indexed by id, without comparing names.
//!
//! **Invariant:** this module knows no plan, no file and no field name of its
//! own; the documented plan model is built only by [`testing::plan_model`],
//! for this crate's tests and for callers' tests.

use std::fmt;

/// An entity or record kind (`indicator`, `observation`, …).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KindId(pub u16);

/// A field of some kind; ids are dense over the whole schema, so a caller may
/// index a table by `FieldId.0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldId(pub u16);

/// An enumeration (`direction`, `status`, …).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EnumId(pub u16);

/// A grade scale declared in the rule files (ids are given by the compiled
/// program, not by the schema).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScaleId(pub u16);

/// The type of a field, a parameter, an expression.
///
/// `list` marks a collection of `base` (the plan model has no lists of lists).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Type {
    /// The element type.
    pub base: Base,
    /// Whether this is a list of `base`.
    pub list: bool,
}

/// A non-list type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Base {
    /// Exact decimal.
    Number,
    /// Text.
    String,
    /// `true` / `false`.
    Bool,
    /// A Gregorian year.
    Year,
    /// A value of an enumeration.
    Enum(EnumId),
    /// A band or state of a grade scale.
    Grade(ScaleId),
    /// An entity or record of a kind.
    Obj(KindId),
    /// The key of a group rule (a tuple of values).
    Key,
    /// The type of the literal `missing`: fits anywhere.
    Missing,
}

impl Type {
    /// `number`.
    pub const NUMBER: Type = Type::base(Base::Number);
    /// `string`.
    pub const STRING: Type = Type::base(Base::String);
    /// `bool`.
    pub const BOOL: Type = Type::base(Base::Bool);
    /// `year`.
    pub const YEAR: Type = Type::base(Base::Year);
    /// The type of `missing`.
    pub const MISSING: Type = Type::base(Base::Missing);

    /// A non-list type.
    pub const fn base(base: Base) -> Type {
        Type { base, list: false }
    }

    /// A value of the enumeration `e`.
    pub const fn enumeration(e: EnumId) -> Type {
        Type::base(Base::Enum(e))
    }

    /// An object of kind `k`.
    pub const fn obj(k: KindId) -> Type {
        Type::base(Base::Obj(k))
    }

    /// A list of `elem` (which must not itself be a list).
    pub const fn list_of(elem: Type) -> Type {
        Type {
            base: elem.base,
            list: true,
        }
    }

    /// The element type of a list type.
    pub const fn elem(self) -> Type {
        Type::base(self.base)
    }
}

/// One field of a kind.
#[derive(Clone, Debug)]
pub struct FieldDef {
    /// The kind that has this field.
    pub kind: KindId,
    /// Field name as written in rules.
    pub name: String,
    /// Field type.
    pub ty: Type,
}

/// One kind of object.
#[derive(Clone, Debug)]
pub struct KindDef {
    /// Kind name as written in rules (`indicator`).
    pub name: String,
    /// Whether rules and derives may be declared `for` this kind (entities:
    /// plan, goal, indicator …) as opposed to records reached through fields
    /// (observation, target …).
    pub entity: bool,
    /// Fields of this kind, in declaration order.
    pub fields: Vec<FieldId>,
}

/// One enumeration.
#[derive(Clone, Debug)]
pub struct EnumDef {
    /// Enumeration name (`direction`).
    pub name: String,
    /// Values in order; a value's index is what [`crate::Value::Enum`] holds.
    pub values: Vec<String>,
}

/// Why a schema declaration was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SchemaError {
    /// Two kinds, two enums, two fields of one kind, or two values of one
    /// enum share a name.
    Duplicate(String),
    /// More than 65 536 kinds, enums, fields or values.
    TooMany,
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SchemaError::Duplicate(name) => write!(f, "schema declares `{name}` twice"),
            SchemaError::TooMany => f.write_str("schema has more than 65536 items of one sort"),
        }
    }
}

impl std::error::Error for SchemaError {}

/// Kinds, fields and enumerations that rules may refer to.
#[derive(Clone, Debug, Default)]
pub struct Schema {
    kinds: Vec<KindDef>,
    fields: Vec<FieldDef>,
    enums: Vec<EnumDef>,
}

fn id16(n: usize) -> Result<u16, SchemaError> {
    u16::try_from(n).map_err(|_| SchemaError::TooMany)
}

impl Schema {
    /// An empty schema.
    pub fn new() -> Schema {
        Schema::default()
    }

    fn add_kind(&mut self, name: &str, entity: bool) -> Result<KindId, SchemaError> {
        if self.kind_named(name).is_some() {
            return Err(SchemaError::Duplicate(name.to_string()));
        }
        let id = KindId(id16(self.kinds.len())?);
        self.kinds.push(KindDef {
            name: name.to_string(),
            entity,
            fields: Vec::new(),
        });
        Ok(id)
    }

    /// Declares an entity kind (a possible scope of rules and derives).
    pub fn entity(&mut self, name: &str) -> Result<KindId, SchemaError> {
        self.add_kind(name, true)
    }

    /// Declares a record kind (reached only through fields).
    pub fn record(&mut self, name: &str) -> Result<KindId, SchemaError> {
        self.add_kind(name, false)
    }

    /// Declares an enumeration with its values in order.
    pub fn enumeration(&mut self, name: &str, values: &[&str]) -> Result<EnumId, SchemaError> {
        if self.enum_named(name).is_some() {
            return Err(SchemaError::Duplicate(name.to_string()));
        }
        for (i, v) in values.iter().enumerate() {
            if values[..i].contains(v) {
                return Err(SchemaError::Duplicate(format!("{name}.{v}")));
            }
        }
        id16(values.len())?;
        let id = EnumId(id16(self.enums.len())?);
        self.enums.push(EnumDef {
            name: name.to_string(),
            values: values.iter().map(|v| v.to_string()).collect(),
        });
        Ok(id)
    }

    /// Declares a field of `kind`. `kind` must come from this schema.
    pub fn field(&mut self, kind: KindId, name: &str, ty: Type) -> Result<FieldId, SchemaError> {
        let def = self
            .kinds
            .get(kind.0 as usize)
            .ok_or_else(|| SchemaError::Duplicate(format!("kind #{}", kind.0)))?;
        if self.field_named(kind, name).is_some() {
            return Err(SchemaError::Duplicate(format!("{}.{name}", def.name)));
        }
        let id = FieldId(id16(self.fields.len())?);
        self.fields.push(FieldDef {
            kind,
            name: name.to_string(),
            ty,
        });
        self.kinds[kind.0 as usize].fields.push(id);
        Ok(id)
    }

    /// All kinds, indexed by [`KindId`].
    pub fn kinds(&self) -> &[KindDef] {
        &self.kinds
    }

    /// All fields, indexed by [`FieldId`].
    pub fn fields(&self) -> &[FieldDef] {
        &self.fields
    }

    /// All enumerations, indexed by [`EnumId`].
    pub fn enums(&self) -> &[EnumDef] {
        &self.enums
    }

    /// The kind called `name`.
    pub fn kind_named(&self, name: &str) -> Option<KindId> {
        self.kinds
            .iter()
            .position(|k| k.name == name)
            .map(|i| KindId(i as u16))
    }

    /// The enumeration called `name`.
    pub fn enum_named(&self, name: &str) -> Option<EnumId> {
        self.enums
            .iter()
            .position(|e| e.name == name)
            .map(|i| EnumId(i as u16))
    }

    /// The field `name` of `kind`.
    pub fn field_named(&self, kind: KindId, name: &str) -> Option<FieldId> {
        let def = self.kinds.get(kind.0 as usize)?;
        def.fields
            .iter()
            .copied()
            .find(|f| self.fields[f.0 as usize].name == name)
    }

    /// The kind's definition. Panics on an id from another schema.
    pub fn kind(&self, k: KindId) -> &KindDef {
        &self.kinds[k.0 as usize]
    }

    /// The field's definition. Panics on an id from another schema.
    pub fn field_def(&self, f: FieldId) -> &FieldDef {
        &self.fields[f.0 as usize]
    }

    /// The enumeration's definition. Panics on an id from another schema.
    pub fn enum_def(&self, e: EnumId) -> &EnumDef {
        &self.enums[e.0 as usize]
    }
}

/// The documented plan model (docs/rule-language.md, "The plan model as the
/// language sees it"), for tests of this crate and of its callers.
pub mod testing {
    use super::*;

    /// Ids of the documented plan model, by name, for tests that build data.
    #[derive(Clone, Debug)]
    pub struct PlanModel {
        /// The schema.
        pub schema: Schema,
    }

    impl PlanModel {
        /// The id of kind `name`; panics when absent (tests only).
        pub fn kind(&self, name: &str) -> KindId {
            self.schema
                .kind_named(name)
                .unwrap_or_else(|| panic!("no kind {name}"))
        }

        /// The id of field `kind.name`; panics when absent (tests only).
        pub fn field(&self, kind: &str, name: &str) -> FieldId {
            self.schema
                .field_named(self.kind(kind), name)
                .unwrap_or_else(|| panic!("no field {kind}.{name}"))
        }

        /// The id of enum `name`; panics when absent (tests only).
        pub fn enumeration(&self, name: &str) -> EnumId {
            self.schema
                .enum_named(name)
                .unwrap_or_else(|| panic!("no enum {name}"))
        }

        /// The index of `value` in enum `name`; panics when absent.
        pub fn variant(&self, name: &str, value: &str) -> u16 {
            let e = self.enumeration(name);
            self.schema
                .enum_def(e)
                .values
                .iter()
                .position(|v| v == value)
                .unwrap_or_else(|| panic!("no value {name}.{value}")) as u16
        }
    }

    /// Builds the documented plan model.
    pub fn plan_model() -> PlanModel {
        build().expect("the documented plan model is well formed")
    }

    fn build() -> Result<PlanModel, SchemaError> {
        let mut s = Schema::new();
        let direction = s.enumeration("direction", &["increase", "decrease", "maintain"])?;
        let status = s.enumeration("status", &["new", "continuing", "completed"])?;
        let plan_kind = s.enumeration(
            "plan_kind",
            &["top", "sectoral", "strategy", "wide_area", "budget_policy"],
        )?;
        let indicator_kind = s.enumeration("indicator_kind", &["activity", "output", "outcome"])?;
        let revision_kind =
            s.enumeration("revision_kind", &["added", "replaced", "target_revised"])?;
        let year_basis = s.enumeration("year_basis", &["fiscal", "calendar"])?;
        s.enumeration(
            "outcome",
            &[
                "拡充", "継続", "改善", "統合", "縮小", "休止", "廃止", "完了",
            ],
        )?;

        let plan = s.entity("plan")?;
        let goal = s.entity("goal")?;
        let policy = s.entity("policy")?;
        let measure = s.entity("measure")?;
        let project = s.entity("project")?;
        let indicator = s.entity("indicator")?;
        let observation = s.record("observation")?;
        let target = s.record("target")?;
        let period = s.record("period")?;
        let revision = s.record("revision")?;
        let cost = s.record("cost")?;
        let review = s.record("review")?;

        let num = Type::NUMBER;
        let text = Type::STRING;
        let flag = Type::BOOL;
        let yr = Type::YEAR;
        let list = |k| Type::list_of(Type::obj(k));

        s.field(plan, "id", text)?;
        s.field(plan, "name", text)?;
        s.field(plan, "municipality", text)?;
        s.field(plan, "kind", Type::enumeration(plan_kind))?;
        s.field(plan, "period", Type::obj(period))?;
        s.field(plan, "parent", Type::obj(plan))?;
        s.field(plan, "year_basis", Type::enumeration(year_basis))?;
        s.field(plan, "departments", Type::list_of(text))?;
        s.field(plan, "goals", list(goal))?;
        s.field(plan, "policies", list(policy))?;
        s.field(plan, "measures", list(measure))?;
        s.field(plan, "projects", list(project))?;
        s.field(plan, "indicators", list(indicator))?;
        s.field(plan, "overall_indicators", list(indicator))?;

        // The parent of a node may be any node or the plan; the model types
        // it by the nearest level the documents use (a measure's parent is a
        // policy), which is what rules navigate.
        for (node, parent) in [(goal, plan), (policy, goal), (measure, policy)] {
            s.field(node, "id", text)?;
            s.field(node, "name", text)?;
            s.field(node, "plan", Type::obj(plan))?;
            s.field(node, "parent", Type::obj(parent))?;
            s.field(node, "indicators", list(indicator))?;
            s.field(node, "projects", list(project))?;
        }

        s.field(project, "id", text)?;
        s.field(project, "number", text)?;
        s.field(project, "name", text)?;
        s.field(project, "plan", Type::obj(plan))?;
        s.field(project, "parent", Type::obj(measure))?;
        s.field(project, "category", text)?;
        s.field(project, "status", Type::enumeration(status))?;
        s.field(project, "relisted", flag)?;
        s.field(project, "original", Type::obj(project))?;
        s.field(project, "sdgs", Type::list_of(num))?;
        s.field(project, "department", text)?;
        s.field(project, "costs", list(cost))?;
        s.field(project, "reviews", list(review))?;
        s.field(project, "completed_in", yr)?;
        s.field(project, "indicators", list(indicator))?;

        s.field(indicator, "id", text)?;
        s.field(indicator, "name", text)?;
        s.field(indicator, "plan", Type::obj(plan))?;
        s.field(indicator, "measure", Type::obj(measure))?;
        s.field(indicator, "project", Type::obj(project))?;
        s.field(indicator, "unit", text)?;
        s.field(indicator, "direction", Type::enumeration(direction))?;
        s.field(indicator, "kind", Type::enumeration(indicator_kind))?;
        s.field(indicator, "department", text)?;
        s.field(indicator, "baseline", Type::obj(observation))?;
        s.field(indicator, "actuals", list(observation))?;
        s.field(indicator, "target", Type::obj(target))?;
        s.field(indicator, "cumulative", flag)?;
        s.field(indicator, "monitoring", flag)?;
        s.field(indicator, "target_to_be_set", flag)?;
        s.field(indicator, "qualitative", flag)?;
        s.field(indicator, "part_group", text)?;
        s.field(indicator, "part_label", text)?;
        s.field(indicator, "link", text)?;
        s.field(indicator, "links", list(indicator))?;
        s.field(indicator, "target_differs", text)?;
        s.field(indicator, "cumulative_from", yr)?;
        s.field(indicator, "year_basis", Type::enumeration(year_basis))?;
        s.field(indicator, "revisions", list(revision))?;

        s.field(observation, "year", yr)?;
        s.field(observation, "value", num)?;
        s.field(observation, "as_of", yr)?;
        s.field(observation, "reason", text)?;

        s.field(target, "year", yr)?;
        s.field(target, "value", num)?;
        s.field(target, "text", text)?;
        s.field(target, "set_in", yr)?;

        s.field(period, "from", yr)?;
        s.field(period, "to", yr)?;

        s.field(revision, "kind", Type::enumeration(revision_kind))?;
        s.field(revision, "year", yr)?;
        s.field(revision, "from", num)?;
        s.field(revision, "to", num)?;
        s.field(revision, "reason", text)?;
        s.field(revision, "by", Type::obj(indicator))?;

        s.field(cost, "year", yr)?;
        s.field(cost, "value", num)?;
        s.field(cost, "unit", text)?;

        s.field(review, "year", yr)?;
        s.field(review, "outcome", text)?;

        Ok(PlanModel { schema: s })
    }
}
