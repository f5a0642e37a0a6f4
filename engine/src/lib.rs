//! hyoka-engine: the plan model, loading plan files with spans, evaluation
//! of a compiled rule program over the plans, findings and reports.
//!
//! Data flows one way: [`load`] (plan files → [`model::Corpus`]) →
//! [`rules::compile`] (rule packs → [`hyoka_dsl::Program`]) →
//! [`eval::evaluate`] (values and [`finding::Finding`]s) → rendering
//! ([`finding::Finding::to_diagnostic`], reports). Only [`load`] and
//! [`config`] read files.
//!
//! The whole pipeline, on a plan and a rule pack held in memory:
//!
//! ```
//! use std::sync::Arc;
//! use hyoka_engine::{config, eval, load_sources, model::SourceFile, rules, schema::PlanSchema};
//!
//! // Load: plan files → corpus (every value keeps its span).
//! let plan = r#"
//! [plan]
//! id = "kyodo"
//! name = "第二次郡山市協働推進基本計画"
//! municipality = "郡山市"
//! kind = "sectoral"
//! period = { from = 2018, to = 2025 }
//!
//! [[indicator]]
//! id = "M1-1"
//! name = "きらめき出前講座実施件数"
//! unit = "件"
//! direction = "increase"
//! baseline = { year = 2016, value = 261 }
//! actuals = [{ year = 2020, value = 238 }]
//! target = { year = 2025, value = 300 }
//! "#;
//! let loaded = load_sources(vec![SourceFile { name: "kyodo.toml".into(), text: Arc::from(plan) }]);
//! assert!(loaded.diagnostics.is_empty());
//!
//! // Compile: rule packs → program, checked against the plan model's schema.
//! let rules = r#"
//! param b_min: number = 70%
//! derive rate for indicator: number = latest(indicator) / indicator.target.value
//! rule behind for indicator {
//!     severity warning
//!     when indicator.rate < b_min
//!     message "{indicator.name}: {indicator.rate} < {b_min}"
//! }
//! "#;
//! let pack = config::pack_from_texts("demo", "name = \"demo\"\nversion = \"1.0.0\"", &[("demo.hyk", rules)]).unwrap();
//! let schema = PlanSchema::new();
//! let program = rules::compile(&[pack], &config::ProjectConfig::default(), &[], &schema).unwrap();
//!
//! // Evaluate: in parallel, sorted findings.
//! let evaluation = eval::evaluate(&loaded.corpus, &schema, &program, 2020);
//! assert!(evaluation.findings.is_empty()); // 238 ÷ 300 = 79.3 % is not below 70 %
//!
//! // The same program with another parameter value finds the indicator behind.
//! let strict = rules::compile(
//!     &[config::pack_from_texts("demo", "name = \"demo\"\nversion = \"1.0.0\"", &[("demo.hyk", rules)]).unwrap()],
//!     &config::ProjectConfig::default(),
//!     &[("demo.b_min".into(), "80%".into())],
//!     &schema,
//! ).unwrap();
//! let evaluation = eval::evaluate(&loaded.corpus, &schema, &strict, 2020);
//! assert_eq!(evaluation.findings.len(), 1);
//!
//! // Render: a miette diagnostic pointing at the plan file.
//! let diagnostic = evaluation.findings[0].to_diagnostic(&loaded.corpus);
//! assert_eq!(diagnostic.location(), Some(("kyodo.toml".to_string(), 10, 6)));
//! ```

pub mod ci;
pub mod config;
pub mod data;
pub mod diagnostic;
pub mod eval;
pub mod explain;
pub mod finding;
pub mod generate;
pub mod load;
pub mod model;
pub mod report;
pub mod rules;
pub mod ruletest;
pub mod schema;
pub mod year;

pub use diagnostic::{PlanDiagnostic, Severity};
pub use load::{load, load_sources, Loaded};
pub use model::Corpus;
