//! The `vern-bench` binary at tiny scale: a smoke run of every group on SQLite (and on
//! PostgreSQL when `VERN_TEST_POSTGRES_URL` is set) that must write a report with every
//! benchmark's figure, each positive and finite.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

use vern_bench::Report;
use vern_bench::suite::NAMES;

fn run(backend: &str) -> Report {
    let out_dir = std::env::temp_dir().join(format!("vern-bench-smoke-{}", uuid::Uuid::new_v4()));
    let out = Command::new(env!("CARGO_BIN_EXE_vern-bench"))
        .args(["all", "--scale", "tiny", "--backend", backend, "--out"])
        .arg(&out_dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Report =
        serde_json::from_slice(&std::fs::read(out_dir.join("report.json")).unwrap()).unwrap();
    let md = std::fs::read_to_string(out_dir.join("report.md")).unwrap();
    assert!(md.contains("| Benchmark | Backend | Figure |"), "{md}");
    let _ = std::fs::remove_dir_all(&out_dir);
    report
}

fn check(report: &Report, backend: &str) {
    for name in NAMES {
        let want = if name == "decisions.in_process" {
            "none"
        } else {
            backend
        };
        let found: Vec<_> = report
            .records
            .iter()
            .filter(|r| r.name == name && r.backend == want)
            .collect();
        assert_eq!(found.len(), 1, "{name} on {want}: {found:?}");
        let r = found[0];
        assert!(r.value.is_finite() && r.value > 0.0, "{r:?}");
        assert_eq!(r.met, r.target.map(|t| t.met(r.value)), "{r:?}");
    }
    assert_eq!(report.records.len(), NAMES.len());
    assert!(report.machine.cores > 0);
    assert!(report.scale < 0.1);
}

#[test]
fn a_tiny_run_reports_every_benchmark_on_sqlite() {
    let report = run("sqlite");
    check(&report, "sqlite");
}

#[test]
fn a_tiny_run_reports_every_benchmark_on_postgres() {
    if std::env::var("VERN_TEST_POSTGRES_URL").is_ok_and(|u| !u.is_empty()) {
        let report = run("postgres");
        check(&report, "postgres");
    }
}
