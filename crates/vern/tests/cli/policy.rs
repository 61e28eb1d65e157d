//! `vern policy …` as a user runs it: exit codes and output.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn vern(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vern"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("run vern")
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code")
}

const FIXTURES: &str = "crates/vern-policy/tests/fixtures";

#[test]
fn check_accepts_the_bundled_policy() {
    let o = vern(&["policy", "check", "policies/confect.toml"]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("policies/confect.toml: ok"));
}

#[test]
fn check_rejects_every_broken_fixture_with_a_located_error() {
    let dir = root().join(FIXTURES).join("broken");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let rel = format!(
            "{FIXTURES}/broken/{}",
            path.file_name().unwrap().to_string_lossy()
        );
        let o = vern(&["policy", "check", &rel]);
        assert_eq!(code(&o), 1, "{rel} should fail");
        let err = String::from_utf8_lossy(&o.stderr);
        let first = err
            .lines()
            .find(|l| l.contains(": error: "))
            .unwrap_or_default();
        // FILE:LINE:COL: error: …
        let mut parts = first.splitn(4, ':');
        assert_eq!(parts.next(), Some(rel.as_str()), "{first}");
        assert!(parts.next().unwrap().parse::<u32>().is_ok(), "{first}");
        assert!(parts.next().unwrap().parse::<u32>().is_ok(), "{first}");
        assert!(parts.next().unwrap().starts_with(" error: "), "{first}");
        n += 1;
    }
    assert!(n >= 17, "only {n} broken fixtures");
}

#[test]
fn check_reports_an_unreadable_file() {
    let o = vern(&["policy", "check", "no/such/policy.toml"]);
    assert_eq!(code(&o), 1);
    assert!(String::from_utf8_lossy(&o.stderr).contains("no/such/policy.toml: error: cannot read"));
}

#[test]
fn render_writes_the_notice_in_both_languages_and_formats() {
    let nb = vern(&["policy", "render", "--lang", "nb"]);
    assert_eq!(code(&nb), 0);
    let nb = String::from_utf8(nb.stdout).unwrap();
    assert!(
        nb.contains("## Hvilke personopplysninger vi behandler"),
        "{nb}"
    );
    let en = vern(&["policy", "render", "--lang", "en", "--format", "html"]);
    assert_eq!(code(&en), 0);
    let en = String::from_utf8(en.stdout).unwrap();
    assert!(en.starts_with("<!DOCTYPE html>") && en.contains("<html lang=\"en\">"));
}

#[test]
fn ropa_lists_every_purpose_of_the_bundled_policy() {
    let o = vern(&["policy", "ropa", "--format", "csv"]);
    assert_eq!(code(&o), 0);
    let csv = String::from_utf8(o.stdout).unwrap();
    let policy = vern_policy::Policy::bundled().unwrap();
    for p in &policy.raw.purposes {
        assert!(
            csv.contains(&format!(",{},", p.id.get_ref())),
            "{} missing",
            p.id.get_ref()
        );
    }
}

#[test]
fn diff_exit_codes_say_none_editorial_material() {
    let d = format!("{FIXTURES}/diff");
    let run = |new: &str| {
        code(&vern(&[
            "policy",
            "diff",
            &format!("{d}/base.toml"),
            &format!("{d}/{new}"),
        ]))
    };
    assert_eq!(run("reordered.toml"), 0);
    assert_eq!(run("reworded.toml"), 1);
    assert_eq!(run("retention_36.toml"), 2);
    assert_eq!(run("added_purpose.toml"), 2);
    assert_eq!(run("new_non_eea_subprocessor.toml"), 2);
    assert_eq!(
        code(&vern(&[
            "policy",
            "diff",
            "missing.toml",
            "policies/confect.toml"
        ])),
        3
    );
}

#[test]
fn usage_errors_exit_64() {
    assert_eq!(code(&vern(&["policy", "render", "--lang", "de"])), 64);
    assert_eq!(code(&vern(&["policy", "frobnicate"])), 64);
    assert_eq!(code(&vern(&["--help"])), 0);
}
