//! `vern import FILE.csv|.jsonl`: bulk subjects, identifiers and records.
//!
//! Two passes. The first reads the whole file and checks every subject against the policy
//! (types, categories, purposes, bases, identifier syntax, duplicates inside the file) without
//! writing anything; if any line is bad, every bad line is reported with its number and
//! reason and nothing is imported. The second pass encrypts and writes in batches, one
//! transaction each, and records after each batch how far it got in a progress file next to
//! the data. If the import stops (crash, conflict with data already stored), rerunning the same
//! command resumes after the last committed batch; the report says so. Never a silent partial
//! import.

pub mod parse;

use std::collections::HashSet;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};
use vern_core::ids::SystemClock;
use vern_server::vault::{Principal, SubjectInput, Vault, VaultError};
use vern_store::Store;

use self::parse::{ImportFormat, LineError};
use super::config::StoreArgs;
use super::context::Ctx;

/// Subjects per transaction.
pub const DEFAULT_BATCH: usize = 2_000;
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
                check_subject(&vault, &who, &s.input, &mut seen_identifiers)
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
    let progress_path = ctx
        .settings
        .data
        .join(format!("import-{}.progress", &file_hash[..16]));
    let done_before = read_progress(&progress_path, &file_hash)?;
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
    let mut batch: Vec<(usize, SubjectInput)> = Vec::with_capacity(opts.batch);
    let mut stream = parse::subjects(format, open(&opts.file)?).skip(done_before);
    loop {
        let next = stream.next();
        if let Some(item) = next {
            let s = item.map_err(|e| {
                anyhow::anyhow!(
                    "{shown}:{}: the file changed during the import: {}",
                    e.line,
                    e.reason
                )
            })?;
            batch.push((s.line, s.input));
            if batch.len() < opts.batch {
                continue;
            }
        }
        if batch.is_empty() {
            break;
        }
        let inputs: Vec<SubjectInput> = batch.iter().map(|(_, s)| s.clone()).collect();
        let built = vault.build_import_batch(&who, &inputs).map_err(|(i, e)| {
            anyhow::anyhow!(
                "{shown}:{}: {}",
                batch.get(i).map_or(0, |(l, _)| *l),
                explain(&e)
            )
        })?;
        if let Err(e) = ctx.store.import_batch(built).await {
            bar.abandon();
            let first = batch.first().map_or(0, |(l, _)| *l);
            eprintln!(
                "{shown}: the batch starting at line {first} was not imported: {e}\n\
                 {done} subject(s) before it are imported; fix the cause and run the same command to resume"
            );
            return Ok(false);
        }
        done += batch.len();
        write_progress(&progress_path, &file_hash, done)?;
        bar.set_position(done as u64);
        batch.clear();
    }
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{shown}: imported {} subjects ({records} records in the file) in {secs:.1} s{}",
        done - done_before,
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

/// Policy and syntax checks of one subject, as the API would do them, without writing.
fn check_subject(
    vault: &Vault,
    who: &Principal,
    input: &SubjectInput,
    seen: &mut HashSet<[u8; 32]>,
) -> Result<(), String> {
    vault
        .build_new_subject(who, input)
        .map_err(|e| explain(&e))?;
    for id in &input.identifiers {
        let kind =
            vern_core::identifier::IdentifierKind::parse(&id.kind).map_err(|e| e.to_string())?;
        let normalised =
            vern_core::identifier::normalise(&kind, &id.value).map_err(|e| e.to_string())?;
        let digest: [u8; 32] = Sha256::new()
            .chain_update(kind.as_str().as_bytes())
            .chain_update([0])
            .chain_update(normalised.as_bytes())
            .finalize()
            .into();
        if !seen.insert(digest) {
            return Err(format!(
                "a {} identifier appears twice in the file",
                kind.as_str()
            ));
        }
    }
    Ok(())
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

fn read_progress(path: &Path, file_hash: &str) -> anyhow::Result<usize> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(0);
    };
    let mut parts = text.split_whitespace();
    match (parts.next(), parts.next().and_then(|n| n.parse().ok())) {
        (Some(h), Some(n)) if h == file_hash => Ok(n),
        _ => bail!(
            "{} is not a progress file for this import; remove it to start over",
            path.display()
        ),
    }
}

fn write_progress(path: &Path, file_hash: &str, done: usize) -> anyhow::Result<()> {
    let tmp = path.with_extension("progress.tmp");
    let mut f = File::create(&tmp)?;
    writeln!(f, "{file_hash} {done}")?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}
