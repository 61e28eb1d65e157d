//! The report: one record per figure and backend, machine information, JSON and Markdown.

use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The target a figure is held against, from the capability issues.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    AtLeast(f64),
    AtMost(f64),
}

impl Target {
    pub fn met(self, value: f64) -> bool {
        match self {
            Target::AtLeast(t) => value >= t,
            Target::AtMost(t) => value <= t,
        }
    }

    fn text(self, unit: &str) -> String {
        match self {
            Target::AtLeast(t) => format!("≥ {} {unit}", number(t)),
            Target::AtMost(t) => format!("≤ {} {unit}", number(t)),
        }
    }
}

/// A figure measured against something simpler in the same run (a bare SQL statement, the
/// store rows without the work around them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    pub name: String,
    pub value: f64,
    pub unit: String,
}

/// One figure of one benchmark on one backend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Stable name, `group.figure` (e.g. `decisions.http_single`).
    pub name: String,
    /// `sqlite`, `postgres`, or `none` for figures that touch no database.
    pub backend: String,
    pub value: f64,
    pub unit: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Baseline>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Target>,
    /// Whether the value meets the target (absent without a target).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub met: Option<bool>,
    /// What was measured: the workload and its size in this run.
    pub detail: String,
}

impl Record {
    pub fn new(name: &str, backend: &str, value: f64, unit: &str, detail: String) -> Self {
        Record {
            name: name.to_owned(),
            backend: backend.to_owned(),
            value,
            unit: unit.to_owned(),
            baseline: None,
            target: None,
            met: None,
            detail,
        }
    }

    pub fn target(mut self, target: Target) -> Self {
        self.met = Some(target.met(self.value));
        self.target = Some(target);
        self
    }

    pub fn baseline(mut self, name: &str, value: f64, unit: &str) -> Self {
        self.baseline = Some(Baseline {
            name: name.to_owned(),
            value,
            unit: unit.to_owned(),
        });
        self
    }
}

/// Where the figures were measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    pub cpu_model: String,
    pub cores: usize,
    pub rustc: String,
    pub git_commit: String,
    pub os: String,
    /// The 1-minute load average when the run started and when it ended: other work on the
    /// machine shows here.
    pub load_before: String,
    pub load_after: String,
}

impl Machine {
    pub fn detect() -> Self {
        let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, v)| v.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown".to_owned());
        let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
        Machine {
            cpu_model,
            cores,
            rustc: command_line("rustc", &["--version"]),
            git_commit: command_line("git", &["rev-parse", "--short=12", "HEAD"]),
            os: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
            load_before: load_average(),
            load_after: String::new(),
        }
    }
}

/// The whole run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// RFC 3339, UTC.
    pub date: String,
    pub command: String,
    pub scale: f64,
    pub seconds: f64,
    pub machine: Machine,
    pub records: Vec<Record>,
}

impl Report {
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let m = &self.machine;
        let _ = writeln!(
            out,
            "Run {} (`{}`, scale {}, {:.0} s), commit {}, {} × {}, {}; load average {} before, {} after.\n",
            self.date,
            self.command,
            self.scale,
            self.seconds,
            m.git_commit,
            m.cores,
            m.cpu_model,
            m.rustc,
            m.load_before,
            m.load_after
        );
        out.push_str("| Benchmark | Backend | Figure | Baseline in the same run | Target | Met | Workload |\n");
        out.push_str("|---|---|---|---|---|---|---|\n");
        for r in &self.records {
            let baseline = r.baseline.as_ref().map_or_else(
                || "—".to_owned(),
                |b| format!("{}: {} {}", b.name, number(b.value), b.unit),
            );
            let target = r.target.map_or_else(|| "—".to_owned(), |t| t.text(&r.unit));
            let met = match r.met {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "—",
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} {} | {} | {} | {} | {} |",
                r.name,
                r.backend,
                number(r.value),
                r.unit,
                baseline,
                target,
                met,
                r.detail
            );
        }
        out
    }

    pub fn write(&self, dir: &Path) -> anyhow::Result<()> {
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join("report.json"), serde_json::to_vec_pretty(self)?)?;
        std::fs::write(dir.join("report.md"), self.markdown())?;
        Ok(())
    }
}

/// A figure for people: thousands separated, two decimals below 100.
pub fn number(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    if v.abs() < 100.0 {
        return format!("{v:.2}");
    }
    let whole = format!("{:.0}", v.abs());
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if v < 0.0 {
        format!("-{grouped}")
    } else {
        grouped
    }
}

pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned())
}

fn command_line(program: &str, args: &[&str]) -> String {
    std::process::Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The median of `values` (the mean of the middle two for an even count); 0 for none.
pub fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_and_medians_are_middles() {
        assert_eq!(number(1_234_567.4), "1,234,567");
        assert_eq!(number(999.0), "999");
        assert_eq!(number(12.345), "12.35");
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(Target::AtMost(5.0).met(4.9));
        assert!(!Target::AtLeast(5.0).met(4.9));
    }
}
