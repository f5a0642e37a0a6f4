//! From rule packs and configuration to a compiled [`Program`]: turns the
//! packs and settings read by [`crate::config`] into the dsl crate's
//! [`PackSource`]s and [`Overrides`], with the place of every setting so
//! errors point into `pack.toml` or `hyoka.toml`.

use hyoka_dsl::pack::{Origin, Overrides, PackSource, Setting};
use hyoka_dsl::Program;
use toml::Spanned;

pub use hyoka_dsl::check_error::CompileError;

use crate::config::{param_text, PackFiles, ProjectConfig, Settings};
use crate::model::SourceFile;
use crate::schema::PlanSchema;

fn origin(source: &SourceFile, span: std::ops::Range<usize>) -> Origin {
    Origin {
        source_name: source.name.clone(),
        text: source.text.clone(),
        span,
    }
}

fn settings(map: &Settings, source: Option<&SourceFile>) -> Vec<Setting> {
    map.iter()
        .map(|(k, v)| Setting {
            key: k.get_ref().clone(),
            value: param_text(v.get_ref()),
            origin: source.map(|s| origin(s, v.span())),
        })
        .collect()
}

/// A pack as the compiler takes it.
pub fn pack_source(pack: &PackFiles) -> PackSource {
    let m = &pack.manifest;
    let extends: Option<&Spanned<Vec<String>>> = m.extends.as_ref();
    PackSource {
        name: m.name.clone(),
        version: m.version.clone(),
        description: m.description.clone(),
        extends: extends.map(|e| e.get_ref().clone()).unwrap_or_default(),
        files: pack
            .files
            .iter()
            .map(|f| (f.name.clone(), f.text.to_string()))
            .collect(),
        params: settings(&m.params, Some(&pack.manifest_source)),
        rules: settings(&m.rules, Some(&pack.manifest_source)),
        manifest: Some(origin(
            &pack.manifest_source,
            extends.map_or(0..0, |e| e.span()),
        )),
    }
}

/// Extra settings from the command line (`--set grades.a_min=85%`).
pub fn command_line_settings(sets: &[(String, String)]) -> Vec<Setting> {
    sets.iter()
        .map(|(k, v)| Setting::new(k.clone(), v.clone()))
        .collect()
}

/// Compiles `packs` with the project's settings and any extra parameter
/// settings (applied last).
pub fn compile(
    packs: &[PackFiles],
    config: &ProjectConfig,
    extra_params: &[(String, String)],
    schema: &PlanSchema,
) -> Result<Program, Vec<CompileError>> {
    let sources: Vec<PackSource> = packs.iter().map(pack_source).collect();
    let mut overrides = Overrides {
        params: settings(&config.params, config.source.as_ref()),
        rules: settings(&config.rules, config.source.as_ref()),
    };
    overrides.params.extend(command_line_settings(extra_params));
    hyoka_dsl::pack::compile(&sources, &schema.schema, &overrides)
}
