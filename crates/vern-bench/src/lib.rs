//! `vern-bench`: every benchmark the capability issues name, on SQLite and PostgreSQL, in one
//! command, with one JSON report and a Markdown table (issue 9; decision 0022).
//!
//! `cargo run --release -p vern-bench -- all` (see `BENCHMARKS.md`).

pub mod data;
pub mod db;
pub mod http;
pub mod report;
pub mod seed;
pub mod suite;

use std::time::Instant;

pub use db::{Backend, DEFAULT_POSTGRES_URL};
pub use report::{Machine, Record, Report, Target};
pub use suite::Config;

/// `tiny` (0.01, a smoke run in seconds), `small` (0.1), `default` (1), `large` (10), or a
/// multiplier of the default sizes.
pub fn parse_scale(text: &str) -> Result<f64, String> {
    let v = match text {
        "tiny" => 0.01,
        "small" => 0.1,
        "default" => 1.0,
        "large" => 10.0,
        other => other.parse::<f64>().map_err(|_| {
            format!("not a scale: {other} (tiny, small, default, large or a number)")
        })?,
    };
    if v.is_finite() && v > 0.0 && v <= 100.0 {
        Ok(v)
    } else {
        Err(format!(
            "the scale must be above 0 and at most 100, not {v}"
        ))
    }
}

/// Runs the configured groups on each backend; prints each record as it comes.
pub fn run(cfg: &Config, backends: &[Backend], command: &str) -> anyhow::Result<Report> {
    let machine = Machine::detect();
    let date = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)?
        .format(&time::format_description::well_known::Rfc3339)?;
    let started = Instant::now();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let mut records = Vec::new();
    let mut keep = |group: &str, backend: &str, r: anyhow::Result<Vec<Record>>| {
        let r = r.map_err(|e| e.context(format!("{group} on {backend}")))?;
        for rec in &r {
            eprintln!(
                "{:<40} {:<8} {:>14} {}",
                rec.name,
                rec.backend,
                report::number(rec.value),
                rec.unit
            );
        }
        records.extend(r);
        anyhow::Ok(())
    };
    if cfg.runs("decide") {
        keep("decide", "none", suite::decide_in_process(cfg))?;
    }
    for &backend in backends {
        let b = backend.name();
        if cfg.runs("import") {
            keep(
                "import",
                b,
                rt.block_on(suite::import_notices_rights(cfg, backend)),
            )?;
        }
        if cfg.runs("http") {
            keep("http", b, suite::http_decisions(cfg, backend))?;
        }
        if cfg.runs("consent") {
            keep(
                "consent",
                b,
                rt.block_on(suite::consent_and_events(cfg, backend)),
            )?;
        }
        if cfg.runs("retention") {
            keep("retention", b, rt.block_on(suite::retention(cfg, backend)))?;
        }
    }
    drop(rt);
    let mut machine = machine;
    machine.load_after = report::load_average();
    Ok(Report {
        date,
        command: command.to_owned(),
        scale: cfg.scale,
        seconds: started.elapsed().as_secs_f64(),
        machine,
        records,
    })
}
