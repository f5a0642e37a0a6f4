//! hyoka-dsl: the rule language.
//!
//! Source text → syntax tree ([`ast`], built by [`syntax`])
//! → checked, compiled [`Program`] ([`check`], against a [`Schema`] the
//! caller hands in, with rule packs ordered and overridden by [`pack`])
//! → evaluation over any [`Data`] source ([`eval`]).
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
pub use crate::eval::{Ctx, Firing, RuntimeError, RuntimeErrorKind, TraceStep};
pub use crate::ir::{
    Band, Derive, Loc, Param, Program, Rule, RuleId, Scale, Scope, Severity, Source,
};
pub use crate::number::{ArithError, Number, ParseNumberError};
pub use crate::pack::{compile, Origin, Overrides, PackSource, Setting};
pub use crate::schema::{Base, EnumId, FieldId, KindId, ScaleId, Schema, SchemaError, Type};
pub use crate::syntax_error::{SyntaxError, SyntaxErrorKind};
pub use crate::value::{Data, DeriveId, Key, KeyPart, ListRef, Obj, OwnedValue, Value};
