//! Running the real `vern` binary against a fresh data directory.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_vern")
}

/// A fresh data directory, removed when dropped.
pub struct DataDir(pub PathBuf);

impl DataDir {
    pub fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("vern-cli-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        DataDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn data(&self) -> String {
        self.0.join("data").display().to_string()
    }

    /// Runs `vern ARGS --data DIR/data` with the directory as working directory.
    pub fn vern(&self, args: &[&str]) -> Output {
        Command::new(bin())
            .args(args)
            .args(["--data", &self.data()])
            .current_dir(&self.0)
            .env("VERN_LOG", "warn")
            .env_remove("VERN_MASTER_KEY")
            .output()
            .unwrap()
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A `vern serve` child process on 127.0.0.1:0.
pub struct Server {
    pub child: Child,
    pub base: String,
    /// The one-time admin token, when this start printed one.
    pub token: Option<String>,
    pub stderr: Vec<String>,
    /// Every output line after startup, as it arrives.
    pub later: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Server {
    pub fn start(dir: &DataDir, extra: &[&str]) -> Server {
        let mut child = Command::new(bin())
            .args(["serve", "--listen", "127.0.0.1:0", "--data", &dir.data()])
            .args(extra)
            .current_dir(dir.path())
            .env("VERN_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<(bool, String)>();
        let tx2 = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send((true, line));
            }
        });
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx2.send((false, line));
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut lines = Vec::new();
        let mut base = None;
        while base.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok((true, l)) => base = l.strip_prefix("vern listening on ").map(str::to_owned),
                Ok((false, l)) => lines.push(l),
                Err(_) => panic!("vern serve did not start: {lines:#?}"),
            }
        }
        // stdout and stderr race: wait for the "listening" log line on stderr, written after
        // the token, so every line before it has arrived.
        while !lines.iter().any(|l| l.contains("listening")) {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok((false, l)) => lines.push(l),
                Ok((true, _)) => {}
                Err(_) => panic!("vern serve logged no listening line: {lines:#?}"),
            }
        }
        // Keep draining stderr so the child never blocks on a full pipe.
        let collected = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = collected.clone();
        std::thread::spawn(move || {
            while let Ok((_, l)) = rx.recv() {
                if let Ok(mut v) = sink.lock() {
                    v.push(l);
                }
            }
        });
        let token = lines
            .iter()
            .find_map(|l| l.trim().strip_prefix("vern_").map(|t| format!("vern_{t}")));
        Server {
            child,
            base: base.unwrap(),
            token,
            stderr: lines,
            later: collected,
        }
    }

    pub fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
