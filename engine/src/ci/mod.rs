//! Checks in continuous integration: what `hyoka check` and `hyoka diff`
//! need beyond evaluating.
//!
//! - [`outcome`]: the findings with their fingerprints and statuses after
//!   waivers, baseline and changed-file filters, and the exit code that
//!   follows from `--fail-on`.
//! - [`waiver`]: `hyoka-waivers.toml`, read with places for every error,
//!   and matched to findings; [`date`]: the dates waivers expire on.
//! - [`baseline`]: the fingerprints of an earlier check's JSON (or SARIF).
//! - Renderers, one per output format: [`json`], [`sarif`] (2.1.0),
//!   [`github`] (workflow-command annotations), [`junit`] (XML); people's
//!   output is miette's, from [`outcome::Outcome::human_diagnostics`].
//! - [`diff`]: two evaluations compared entity by entity (inputs, rates,
//!   grades, review outcomes) and finding by finding.
//!
//! **Invariant:** nothing here reads a file or runs a process; the command
//! line reads the waivers, the baseline and git, and hands their text in.
//! Findings are identified by [`crate::finding::Finding::fingerprint`]
//! (rule and entity ids), never by line.

pub mod baseline;
pub mod date;
pub mod diff;
pub mod github;
pub mod json;
pub mod junit;
pub mod outcome;
pub mod sarif;
pub mod waiver;

pub use date::Date;
pub use outcome::{FailOn, Outcome, Settings, Status};
