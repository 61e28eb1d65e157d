//! `vern import FILE.csv|.jsonl`: bulk subjects, identifiers and records.
//!
//! Two passes. The first reads the whole file and checks every subject against the policy
//! (types, categories, purposes, bases, identifier syntax, duplicates inside the file) without
//! writing anything; if any line is bad, every bad line is reported with its number and
//! reason and nothing is imported. The second pass encrypts and writes in batches, one
//! transaction each, and each batch commits together with how far the import got (keyed by
//! the file's SHA-256, in the database). If the import stops (crash, `kill -9`, conflict with
//! data already stored), rerunning the same command resumes exactly after the last committed
//! batch — no subject twice, none skipped — and the report says so. Never a silent partial
//! import.

use std::collections::HashSet;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};
use vern_core::ids::SystemClock;
use vern_server::vault::{Principal, SubjectInput, Vault, VaultError};
use vern_store::{ImportProgress, ImportStore};

use super::config::StoreArgs;
use super::context::Ctx;
use vern_server::import_file::{self as parse, ImportFormat, LineError};

/// Subjects per transaction.
pub const DEFAULT_BATCH: usize = 5_000;
/// Problems listed before the rest are only counted.
const MAX_LISTED: usize = 100;

pub struct ImportOptions {
    pub file: PathBuf,
    pub batch: usize,
    pub progress: bool,
}

pub async fn run(args: &StoreArgs, opts: ImportOptions) -> anyhow::Result<bool> {
    let format = ImportFormat::from_path(&opts.file).with_context(|| {
        format!(
            "{}: the file name must end in .csv or .jsonl",
            opts.file.display()
        )
    })?;
    let ctx = Ctx::open(args, true).await?;
    let policy = Arc::new(ctx.policy.clone());
    let vault = Vault::open(
        ctx.store.clone(),
        policy.clone(),
        ctx.keys.current,
        ctx.keys.previous,
        Arc::new(SystemClock),
    )
    .await?;
    let who = Principal::cli_admin();
    let shown = opts.file.display().to_string();

    // Pass 1: check everything, write nothing.
    let file_hash = hash_file(&opts.file)?;
    let mut problems: Vec<LineError> = Vec::new();
    let mut bad = 0usize;
    let (mut subjects, mut records) = (0usize, 0usize);
    let mut seen_identifiers: HashSet<[u8; 32]> = HashSet::new();
    for item in parse::subjects(format, open(&opts.file)?) {
        let problem = match item {
            Err(e) => Some(e),
            Ok(s) => {
                subjects += 1;
                records += s.input.records.len();
                check_subject(&vault, &s.input, &mut seen_identifiers)
                    .err()
                    .map(|reason| LineError {
                        line: s.line,
                        reason,
                    })
            }
        };
        if let Some(p) = problem {
            bad += 1;
            if problems.len() < MAX_LISTED {
                problems.push(p);
            }
        }
    }
    if bad > 0 {
        for p in &problems {
            eprintln!("{shown}:{}: error: {}", p.line, p.reason);
        }
        if bad > problems.len() {
            eprintln!("… and {} more", bad - problems.len());
        }
        eprintln!("{shown}: {bad} bad subject(s); nothing was imported");
        return Ok(false);
    }

    // Pass 2: write in batches, resuming after the last committed one.
    let tenant = vault.tenant();
    let done_before =
        usize::try_from(ctx.store.import_progress(tenant, &file_hash).await?).unwrap_or(usize::MAX);
    // Pass 1 counted what the file holds; pass 2 may start after an earlier, partial run.
    if done_before >= subjects && subjects > 0 {
        println!("{shown}: already imported ({subjects} subjects); nothing to do");
        return Ok(true);
    }
    let bar = if opts.progress {
        ProgressBar::new(subjects as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} subjects {per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_position(done_before as u64);
    let started = std::time::Instant::now();
    let mut done = done_before;
    // Two stages on two cores: a thread reads, checks and encrypts the next batch while the
    // store writes the previous one. The channel holds one batch, which bounds memory.
    let vault = Arc::new(vault);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Built, String>>(1);
    let producer = {
        let vault = vault.clone();
        let (path, who, shown, size) = (opts.file.clone(), who.clone(), shown.clone(), opts.batch);
        std::thread::spawn(move || {
            produce(&vault, &who, &shown, format, &path, done_before, size, &tx)
        })
    };
    let mut failure = None;
    let mut refused = 0usize;
    while let Some(next) = rx.recv().await {
        let built = match next {
            Ok(b) => b,
            Err(e) => {
                failure = Some(e);
                break;
            }
        };
        let count = built.subjects.len();
        let mut subjects = built.subjects;
        // A suppressed address is not imported again as a marketing lead.
        match vault.drop_suppressed_leads(&mut subjects).await {
            Ok(n) => refused += n,
            Err(e) => {
                failure = Some(format!("the suppression check failed: {e}"));
                break;
            }
        }
        let progress = ImportProgress {
            tenant_id: tenant,
            file_hash: file_hash.clone(),
            done: (done + count) as u64,
            at: vern_core::ids::to_micros(time::OffsetDateTime::now_utc()),
        };
        if let Err(e) = ctx.store.import_batch_tracked(subjects, progress).await {
            failure = Some(format!(
                "the batch starting at line {} was not imported: {e}",
                built.first_line
            ));
            break;
        }
        done += count;
        bar.set_position(done as u64);
    }
    drop(rx);
    let _ = producer.join();
    if let Some(reason) = failure {
        bar.abandon();
        eprintln!(
            "{shown}: {reason}\n{done} subject(s) are imported; fix the cause and run the same command to resume"
        );
        return Ok(false);
    }
    bar.finish_and_clear();
    if refused > 0 {
        println!(
            "{shown}: refused {refused} marketing lead(s) whose email or phone is on the suppression list (not stored)"
        );
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{shown}: imported {} subjects ({records} records in the file) in {secs:.1} s{}",
        done - done_before - refused,
        if done_before > 0 {
            format!(", resumed after {done_before} already imported")
        } else {
            String::new()
        }
    );
    if secs > 0.0 && done_before == 0 {
        println!("{:.0} records/s", records as f64 / secs);
    }
    Ok(true)
}

/// Policy and syntax checks of one subject, as the API would do them, without encrypting or
/// writing; identifiers must also be unique across the file.
fn check_subject(
    vault: &Vault,
    input: &SubjectInput,
    seen: &mut HashSet<[u8; 32]>,
) -> Result<(), String> {
    let checked = vault.check_subject_input(input).map_err(|e| explain(&e))?;
    for (kind, value) in &checked.normalised {
        // A digest, so the set holds no plaintext identifiers.
        let digest: [u8; 32] = Sha256::new()
            .chain_update(kind.as_bytes())
            .chain_update([0])
            .chain_update(value.as_bytes())
            .finalize()
            .into();
        if !seen.insert(digest) {
            return Err(format!("a {kind} identifier appears twice in the file"));
        }
    }
    Ok(())
}

/// One encrypted batch, ready for the store.
struct Built {
    first_line: usize,
    subjects: Vec<vern_store::NewSubject>,
}

/// Reads the file from subject `skip` on and sends encrypted batches until the end, an error,
/// or the receiver hanging up.
#[allow(clippy::too_many_arguments)]
fn produce(
    vault: &Vault,
    who: &Principal,
    shown: &str,
    format: ImportFormat,
    path: &Path,
    skip: usize,
    size: usize,
    tx: &tokio::sync::mpsc::Sender<Result<Built, String>>,
) {
    let file = match open(path) {
        Ok(f) => f,
        Err(e) => {
            let _ = tx.blocking_send(Err(e.to_string()));
            return;
        }
    };
    let mut stream = parse::subjects(format, file).skip(skip);
    loop {
        let mut lines = Vec::with_capacity(size);
        let mut inputs = Vec::with_capacity(size);
        for item in stream.by_ref().take(size) {
            match item {
                Ok(s) => {
                    lines.push(s.line);
                    inputs.push(s.input);
                }
                Err(e) => {
                    let _ = tx.blocking_send(Err(format!(
                        "{shown}:{}: the file changed during the import: {}",
                        e.line, e.reason
                    )));
                    return;
                }
            }
        }
        if inputs.is_empty() {
            return;
        }
        let built = vault
            .build_import_batch(who, &inputs)
            .map(|subjects| Built {
                first_line: lines[0],
                subjects,
            })
            .map_err(|(i, e)| {
                format!(
                    "{shown}:{}: {}",
                    lines.get(i).copied().unwrap_or(0),
                    explain(&e)
                )
            });
        let stop = built.is_err();
        if tx.blocking_send(built).is_err() || stop {
            return;
        }
    }
}

/// Every invalid field with its reason (the reasons never repeat submitted values).
fn explain(e: &VaultError) -> String {
    match e {
        VaultError::Validation(fields) => fields
            .iter()
            .map(|f| format!("{}: {} ({})", f.field, f.reason, f.code))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

fn open(path: &Path) -> anyhow::Result<File> {
    File::open(path).with_context(|| format!("cannot open {}", path.display()))
}

fn hash_file(path: &Path) -> anyhow::Result<String> {
    use std::io::Read;
    let mut f = open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}
