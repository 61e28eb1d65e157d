//! `vern serve` from nothing, and the README quick tour run against it.

use crate::support::{DataDir, Server};

fn get(url: &str, token: Option<&str>) -> (u16, String) {
    let mut cmd = std::process::Command::new("curl");
    cmd.args(["-s", "-o", "-", "-w", "\n%{http_code}", url]);
    if let Some(t) = token {
        cmd.args(["-H", &format!("Authorization: Bearer {t}")]);
    }
    let out = String::from_utf8(cmd.output().unwrap().stdout).unwrap();
    let (body, status) = out.rsplit_once('\n').unwrap();
    (status.parse().unwrap(), body.to_owned())
}

#[test]
fn serve_starts_with_no_configuration_and_prints_a_one_time_admin_token() {
    let dir = DataDir::new();
    let server = Server::start(&dir, &[]);
    let token = server
        .token
        .clone()
        .expect("first start prints an admin token");
    assert!(
        server.stderr.iter().any(|l| l.contains("NEW MASTER KEY")),
        "{:#?}",
        server.stderr
    );
    let key = dir.path().join("data/master.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "master key must be owner-only");
    }
    assert_eq!(get(&format!("{}/healthz", server.base), None).0, 200);
    assert_eq!(get(&format!("{}/readyz", server.base), None).0, 200);
    assert_eq!(get(&format!("{}/v1/subjects", server.base), None).0, 401);
    assert_eq!(
        get(&format!("{}/v1/subjects", server.base), Some(&token)).0,
        200
    );
    server.stop();

    // A second start reuses the key and prints no new token; the old token still works.
    let again = Server::start(&dir, &[]);
    assert!(again.token.is_none(), "{:#?}", again.stderr);
    assert!(!again.stderr.iter().any(|l| l.contains("NEW MASTER KEY")));
    assert_eq!(
        get(&format!("{}/v1/subjects", again.base), Some(&token)).0,
        200
    );
}

#[test]
fn serve_refuses_to_start_without_the_master_key_of_existing_data() {
    let dir = DataDir::new();
    Server::start(&dir, &[]).stop();
    std::fs::remove_file(dir.path().join("data/master.key")).unwrap();
    let out = std::process::Command::new(crate::support::bin())
        .args(["serve", "--listen", "127.0.0.1:0", "--data", &dir.data()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("master key file"));
}

/// The README's quick tour, run as written: only the address is the test server's.
#[test]
fn readme_quick_tour_works() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let tour = readme
        .split("<!-- tour:begin -->")
        .nth(1)
        .and_then(|s| s.split("<!-- tour:end -->").next())
        .expect("README has a quick tour between tour markers");
    let script: String = tour
        .lines()
        .filter(|l| {
            !l.starts_with("```") && !l.contains("cargo run") && !l.starts_with("export TOKEN=")
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert!(script.contains("curl"), "{script}");

    let dir = DataDir::new();
    let server = Server::start(&dir, &[]);
    let script = script.replace("http://127.0.0.1:8080", &server.base);
    let out = std::process::Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .env("TOKEN", server.token.clone().unwrap())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "tour failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("\"subject_id\""),
        "lookup printed the subject: {stdout}"
    );
    assert!(stdout.contains("kari.nordmann@example.com"), "{stdout}");
    assert!(
        stdout.contains("\"ok\":true") || stdout.contains("\"ok\": true"),
        "{stdout}"
    );
}
