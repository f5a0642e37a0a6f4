//! hyoka-bench: the benchmarks of hyoka that are too heavy for the test
//! suite — synthetic corpora of up to all 1,741 municipalities of Japan,
//! loading throughput against plain `toml` + serde on the same files, and
//! end-to-end `hyoka check` runs with wall time and peak memory.
//!
//! It measures and prints; it asserts nothing and changes nothing outside
//! the corpus directories it generates (under `/tmp/hyoka-bench` unless
//! told otherwise). It must not become a dependency of hyoka itself, nor
//! be built by `cargo test` at the workspace root (it is not a default
//! member).

pub mod corpus;
pub mod measure;
pub mod plain;
