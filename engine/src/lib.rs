//! hyoka-engine: the plan model, loading plan files with spans, evaluation
//! of a compiled rule program over the plans, findings and reports.
//!
//! Data flows one way: [`load`] (plan files → [`model::Corpus`]) →
//! evaluation → findings → rendering. Only [`load`] reads plan files.

pub mod config;
pub mod data;
pub mod diagnostic;
pub mod eval;
pub mod finding;
pub mod generate;
pub mod load;
pub mod model;
pub mod rules;
pub mod schema;
pub mod year;

pub use diagnostic::{PlanDiagnostic, Severity};
pub use load::{load, load_sources, Loaded};
pub use model::Corpus;
