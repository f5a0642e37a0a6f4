//! `hyoka fmt`: rewrites rule files (`.hyk`) in the canonical layout,
//! keeping every comment. With `--check` nothing is written: the command
//! lists the files that are not formatted and exits 1 (for CI).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::output::{self, Color};

/// Arguments of `hyoka fmt`.
#[derive(clap::Args, Debug)]
pub struct FmtArgs {
    /// Rule files or directories (default: rules/)
    pub paths: Vec<PathBuf>,
    /// Write nothing; exit 1 when a file is not formatted
    #[arg(long)]
    pub check: bool,
    /// Colour the output: auto (when a terminal), always, never
    #[arg(long, default_value = "auto")]
    pub color: Color,
}

fn rule_files(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_file() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    for entry in std::fs::read_dir(path)? {
        let p = entry?.path();
        if p.is_dir() {
            rule_files(&p, out)?;
        } else if p.extension().is_some_and(|e| e == "hyk") {
            out.push(p);
        }
    }
    Ok(())
}

/// Replaces `path` with `text` only once the new text is fully on disk.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.hyoka-fmt-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

pub fn run(args: FmtArgs) -> ExitCode {
    let handler = output::handler(args.color);
    let roots = if args.paths.is_empty() {
        vec![PathBuf::from("rules")]
    } else {
        args.paths
    };
    let mut files = Vec::new();
    for root in &roots {
        if let Err(e) = rule_files(root, &mut files) {
            output::eprint(&format!("error: cannot read `{}`: {e}\n", root.display()));
            return output::usage_error();
        }
    }
    files.sort();
    let mut out = String::new();
    let (mut unformatted, mut rewritten, mut broken) = (Vec::new(), 0usize, 0usize);
    for file in &files {
        let name = file.display().to_string();
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                out.push_str(&format!("error: cannot read `{name}`: {e}\n"));
                broken += 1;
                continue;
            }
        };
        match hyoka_dsl::fmt::format(&name, &text) {
            Err(errors) => {
                broken += 1;
                for e in &errors {
                    output::render_one(e, &handler, &mut out);
                }
            }
            Ok(formatted) if formatted == text => {}
            Ok(formatted) => {
                if args.check {
                    unformatted.push(name);
                } else if let Err(e) = write_atomically(file, &formatted) {
                    out.push_str(&format!("error: cannot write `{name}`: {e}\n"));
                    broken += 1;
                } else {
                    rewritten += 1;
                }
            }
        }
    }
    for name in &unformatted {
        out.push_str(&format!("not formatted: {name}\n"));
    }
    out.push_str(&if args.check {
        format!(
            "{} rule files checked: {} not formatted, {} with errors\n",
            files.len(),
            unformatted.len(),
            broken
        )
    } else {
        format!(
            "{} rule files: {} reformatted, {} with errors\n",
            files.len(),
            rewritten,
            broken
        )
    });
    output::eprint(&out);
    if broken > 0 {
        output::usage_error()
    } else if !unformatted.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
