//! hyoka-dsl: the rule language.
//!
//! Source text → syntax tree ([`ast`], built by [`syntax`])
//! → checked, compiled [`Program`] ([`check`], against a [`Schema`] the
//! caller hands in, with rule packs ordered and overridden by [`pack`])
//! → evaluation over any [`Data`] source ([`eval`]).
//!
//! ```
//! use hyoka_dsl::schema::testing::plan_model;
//! use hyoka_dsl::{
//!     compile, Ctx, Data, DeriveId, FieldId, KindId, ListRef, Number, Obj, Overrides,
//!     PackSource, Value,
//! };
//!
//! // The caller's data: one indicator, whose target record has the value 300.
//! struct Plan {
//!     target: FieldId,
//!     value: FieldId,
//!     target_kind: KindId,
//! }
//! impl Data for Plan {
//!     fn field(&self, _: Obj, f: FieldId) -> Value<'_> {
//!         match f {
//!             f if f == self.target => Value::Obj(Obj::new(self.target_kind, 0)),
//!             f if f == self.value => Value::Num(Number::from_i64(300)),
//!             _ => Value::Missing(None),
//!         }
//!     }
//!     fn list_get(&self, _: ListRef, _: u32) -> Value<'_> {
//!         Value::Missing(None)
//!     }
//!     fn derived(&self, _: DeriveId, _: Obj) -> Value<'_> {
//!         Value::Missing(None)
//!     }
//! }
//!
//! let model = plan_model();
//! let rules = "derive half for indicator: number = indicator.target.value / 2";
//! let pack = PackSource::new("demo", vec![("demo.hyk".into(), rules.into())]);
//! let program = compile(&[pack], &model.schema, &Overrides::default()).unwrap();
//!
//! let data = Plan {
//!     target: model.field("indicator", "target"),
//!     value: model.field("target", "value"),
//!     target_kind: model.kind("target"),
//! };
//! let indicator = Obj::new(model.kind("indicator"), 0);
//! let half = program.derive_named(model.kind("indicator"), "half").unwrap();
//! let v = program.eval_derive(half, indicator, &data, &Ctx { year: 2022 }).unwrap();
//! assert_eq!(program.show(v, &data), "150");
//! ```
//!
//! This crate never touches plan files or the filesystem: it sees only the
//! source text it is given and the schema of entity kinds and fields.

pub mod ast;
pub mod check;
pub mod check_error;
pub mod eval;
pub mod fmt;
pub mod ir;
pub mod number;
pub mod pack;
pub mod schema;
pub mod span;
pub mod syntax;
pub mod syntax_error;
pub mod value;

pub use crate::check_error::{CheckError, CheckErrorKind, CompileError};
pub use crate::eval::{Ctx, Firing, RuntimeError, RuntimeErrorInfo, RuntimeErrorKind, TraceStep};
pub use crate::ir::{
    Band, Derive, DeriveGroup, Loc, Param, Program, Rule, RuleId, Scale, Scope, Severity, Source,
};
pub use crate::number::{ArithError, Number, ParseNumberError};
pub use crate::pack::{compile, Origin, Overrides, PackSource, Setting};
pub use crate::schema::{Base, EnumId, FieldId, KindId, ScaleId, Schema, SchemaError, Type};
pub use crate::value::{
    Data, DeriveId, Key, KeyPart, Latest, ListRef, Obj, OwnedValue, Series, Value,
};
