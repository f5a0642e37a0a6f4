//! One module per subcommand: its arguments (clap) and its `run`.

pub mod check;
pub mod diff;
pub mod explain;
pub mod fmt;
pub mod generate;
pub mod report;
pub mod rules;
pub mod test;
