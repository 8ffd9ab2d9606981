//! The DuckDB side: finding (or installing) a Python with `duckdb`, and
//! running `duckdb_check.py` on the NDJSON file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use soc_tui::detect::rules::Rules;

use super::Flagged;
use super::figures::Figures;

pub const SCRIPT: &str = include_str!("duckdb_check.py");
/// The release the SQL was checked against; pinned so reruns compare
/// against the same engine. A Python that already imports another version
/// is used as is (the report names the version).
const REQUIREMENT: &str = "duckdb==2.0.0";

/// The rule values the SQL needs. Allow-lists and suppressions are not
/// modelled there; the default rules have none.
pub fn rules_for_duckdb(rules: &Rules) -> Value {
    let b = &rules.baseline;
    json!({
        "window_days": b.window_days.get(),
        "volume_factor": b.volume_factor.get(),
        "expected_floor": b.expected_floor.get(),
        "min_changes": b.min_changes.get(),
        "new_resource_types": b.new_resource_types,
        "min_history_days": b.cold_start.min_history_days.get(),
        "cold_mode": b.cold_start.mode.as_str(),
        "absolute_threshold": b.cold_start.absolute_threshold.get(),
    })
}

/// A Python interpreter that imports `duckdb`, with its version.
pub struct Python {
    pub program: PathBuf,
    pub version: String,
}

fn duckdb_version(program: &Path) -> Option<String> {
    let out = Command::new(program)
        .args(["-c", "import duckdb; print(duckdb.__version__)"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Finds a Python with DuckDB, installing it from PyPI into a venv under the
/// target dir when `install` allows. The error says why DuckDB is skipped.
pub fn find_duckdb(install: bool, scratch: &Path) -> std::result::Result<Python, String> {
    let found =
        |program: PathBuf| duckdb_version(&program).map(|version| Python { program, version });
    if let Some(program) = std::env::var_os("SOC_TUI_BENCH_PYTHON") {
        let program = PathBuf::from(program);
        return found(program.clone()).ok_or_else(|| {
            format!(
                "SOC_TUI_BENCH_PYTHON={} cannot import duckdb",
                program.display()
            )
        });
    }
    let venv = target_dir().join("bench-venv");
    let venv_python = venv.join("bin").join("python");
    if let Some(python) = found(venv_python.clone()).or_else(|| found("python3".into())) {
        return Ok(python);
    }
    if !install {
        return Err(format!(
            "no Python here imports duckdb (smoke run: not installing; `cargo bench --bench baseline` installs it into {})",
            venv.display()
        ));
    }
    println!(
        "installing {REQUIREMENT} from PyPI into {} ...",
        venv.display()
    );
    let step = |program: &Path, args: &[&str]| -> std::result::Result<(), String> {
        let out = Command::new(program)
            .args(args)
            .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
            .current_dir(scratch)
            .output()
            .map_err(|e| format!("cannot run {}: {e}", program.display()))?;
        if out.status.success() {
            return Ok(());
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        let last = stderr.lines().rev().find(|l| !l.trim().is_empty());
        Err(format!(
            "`{} {}` failed ({}): {}",
            program.display(),
            args.join(" "),
            out.status,
            last.unwrap_or("no output")
        ))
    };
    let python3 = Path::new("python3");
    let venv_arg = venv.to_string_lossy();
    let via_venv = step(python3, &["-m", "venv", &venv_arg]).and_then(|()| {
        step(
            &venv_python,
            &["-m", "pip", "install", "--quiet", REQUIREMENT],
        )
    });
    if let (Ok(()), Some(python)) = (&via_venv, found(venv_python)) {
        return Ok(python);
    }
    // No venv module (Debian without python3-venv): the user site.
    let via_user = step(
        python3,
        &["-m", "pip", "install", "--user", "--quiet", REQUIREMENT],
    );
    match found(python3.into()) {
        Some(python) => Ok(python),
        None => Err(format!(
            "could not install duckdb: venv: {}; user site: {}",
            via_venv
                .err()
                .unwrap_or_else(|| "installed but not importable".into()),
            via_user
                .err()
                .unwrap_or_else(|| "installed but not importable".into())
        )),
    }
}

/// The cargo target dir this bench runs from (the ancestor holding
/// `CACHEDIR.TAG`), else `<manifest>/target`.
fn target_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| {
            exe.ancestors()
                .find(|dir| dir.join("CACHEDIR.TAG").is_file())
                .map(Path::to_path_buf)
        })
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
}

pub struct DuckRun {
    pub total: Duration,
    pub load: Duration,
    pub compute: Duration,
    pub cpu: Duration,
    pub events: u64,
    pub threads: String,
    pub version: String,
    pub flagged: Flagged,
    pub figures: BTreeMap<String, Figures>,
}

pub fn run_duckdb(python: &Python, script: &Path, config: &Value) -> Result<DuckRun> {
    let out = Command::new(&python.program)
        .arg(script)
        .arg(config.to_string())
        .output()
        .with_context(|| format!("running {}", python.program.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        // A Python traceback ends with the exception and its message.
        let stderr = String::from_utf8_lossy(&out.stderr);
        bail!(
            "{} exited with {}: {}",
            script.display(),
            out.status,
            stderr
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("no output")
        );
    }
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .with_context(|| format!("the DuckDB script printed no result: {stdout}"))?;
    let v: Value = serde_json::from_str(line).context("reading the DuckDB script's result")?;
    let seconds = |k: &str| -> Result<Duration> {
        let s = v[k]
            .as_f64()
            .with_context(|| format!("DuckDB result: no number `{k}`"))?;
        Duration::try_from_secs_f64(s).with_context(|| format!("DuckDB result: `{k}` = {s}"))
    };
    let mut figures = BTreeMap::new();
    let mut flagged = BTreeSet::new();
    for a in v["actors"]
        .as_array()
        .context("DuckDB result: no `actors` list")?
    {
        let actor = a["actor"]
            .as_str()
            .with_context(|| format!("DuckDB result: an entry without `actor`: {a}"))?
            .to_string();
        let field = |k: &str| format!("DuckDB result: {actor}: no `{k}`");
        if a["flagged"].as_bool().with_context(|| field("flagged"))? {
            flagged.insert(actor.clone());
        }
        let new_types = a["new_types"]
            .as_array()
            .with_context(|| field("new_types"))?
            .iter()
            .map(|t| {
                t.as_str()
                    .map(str::to_string)
                    .with_context(|| field("new_types"))
            })
            .collect::<Result<Vec<_>>>()?;
        let figure = Figures {
            changes: a["changes"].as_u64().with_context(|| field("changes"))?,
            expected: a["expected"].as_f64().with_context(|| field("expected"))?,
            cold: a["cold"].as_bool().with_context(|| field("cold"))?,
            new_types,
        };
        figures.insert(actor, figure);
    }
    Ok(DuckRun {
        total: seconds("seconds")?,
        load: seconds("load_seconds")?,
        compute: seconds("compute_seconds")?,
        cpu: seconds("cpu_seconds")?,
        events: v["events"].as_u64().unwrap_or(0),
        threads: v["threads"].to_string().trim_matches('"').to_string(),
        version: v["duckdb_version"]
            .as_str()
            .unwrap_or(&python.version)
            .to_string(),
        flagged: Flagged {
            active_actors: figures.len(),
            actors: flagged,
        },
        figures,
    })
}
