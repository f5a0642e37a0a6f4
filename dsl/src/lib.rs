//! hyoka-dsl: the rule language.
//!
//! Source text → syntax tree ([`ast`], built by [`syntax`] from [`grammar.pest`])
//! → checked program ([`check`], against a [`schema`] the caller hands in)
//! → compiled form evaluated over any data source ([`eval`]).
//!
//! This crate never touches plan files or the filesystem: it sees only the
//! source text it is given and the schema of entity kinds and fields.

pub mod ast;
pub mod check;
pub mod eval;
pub mod fmt;
pub mod schema;
pub mod span;
pub mod syntax;
pub mod value;
