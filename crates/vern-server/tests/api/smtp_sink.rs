//! A real SMTP server for tests: aiosmtpd (`../shared/docs/testing-tools.md`) writing each
//! message it receives into a Maildir, read back through `scripts/read-maildir.py`.
//!
//! Outside CI a machine without aiosmtpd skips the mail tests (`SmtpSink::start` gives `None`);
//! in CI (`CI` set) aiosmtpd must be there. Other test crates include this file with `#[path]`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;

/// One received message, decoded.
#[derive(Debug, Clone, Deserialize)]
#[allow(dead_code)]
pub struct ReceivedMail {
    pub file: String,
    pub to: String,
    pub from: String,
    pub subject: String,
    pub message_id: String,
    pub body: String,
}

impl ReceivedMail {
    /// The `http(s)://…` links in the body, in order.
    #[allow(dead_code)]
    pub fn links(&self) -> Vec<String> {
        self.body
            .split(|c: char| c.is_whitespace() || c == '<' || c == '>' || c == '"')
            .filter(|w| w.starts_with("http://") || w.starts_with("https://"))
            .map(|w| w.trim_end_matches(['.', ',', ')']).to_owned())
            .collect()
    }
}

pub struct SmtpSink {
    pub port: u16,
    pub dir: PathBuf,
    child: Child,
}

fn python_has(module: &str) -> bool {
    Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

impl SmtpSink {
    /// Starts aiosmtpd on a free loopback port; `None` (test skipped) when aiosmtpd is missing
    /// outside CI.
    pub fn start() -> Option<SmtpSink> {
        if !python_has("aiosmtpd") {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI needs python3 with aiosmtpd"
            );
            eprintln!("skipping: python3 with aiosmtpd is not installed");
            return None;
        }
        let dir = std::env::temp_dir().join(format!("vern-maildir-{}", uuid::Uuid::new_v4()));
        for sub in ["tmp", "new", "cur"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let sink = SmtpSink { port, dir, child };
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "aiosmtpd did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(sink)
    }

    /// The URL for `--smtp-url` / `Mailer::new`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/read-maildir.py");
        let script = if std::path::Path::new(script).exists() {
            PathBuf::from(script)
        } else {
            // Included from another crate: the script sits at the workspace root.
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/read-maildir.py")
        };
        let out = Command::new("python3")
            .arg(script)
            .arg(&self.dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Waits until at least `n` messages arrived (at most `timeout`), and returns them all.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let deadline = Instant::now() + timeout;
        loop {
            let got = self.messages();
            if got.len() >= n || Instant::now() > deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
