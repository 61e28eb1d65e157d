//! Reading import files for `vern import` (and its fuzz target): JSON Lines (one subject per line) or CSV (one record per row, rows of
//! one subject consecutive under the same `subject_ref`). Every problem carries its line number;
//! values never appear in messages.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read};

use crate::vault::{IdentifierInput as ImportIdentifier, RecordInput, SubjectInput};

/// One subject as read from an import file (the API's create-subject body), with the line it
/// starts on. Not yet checked against the policy.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportSubject {
    pub line: usize,
    pub input: SubjectInput,
}

/// A bad line: where, and why (no personal data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line: usize,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    Jsonl,
    Csv,
}

impl ImportFormat {
    pub fn from_path(path: &std::path::Path) -> Option<Self> {
        match path.extension()?.to_str()? {
            "jsonl" | "ndjson" => Some(ImportFormat::Jsonl),
            "csv" => Some(ImportFormat::Csv),
            _ => None,
        }
    }
}

/// The CSV columns, in the order vern writes them; files may order them freely.
pub const CSV_COLUMNS: &[&str] = &[
    "subject_ref",
    "subject_type",
    "jurisdiction",
    "email",
    "phone",
    "category",
    "value",
    "source",
    "purposes",
    "legal_basis",
    "collected_at",
    "last_activity_at",
    "originating_system",
];
const CSV_REQUIRED: &[&str] = &[
    "subject_ref",
    "subject_type",
    "category",
    "value",
    "source",
    "purposes",
];

/// Streams subjects from a reader. Parse errors are yielded in place and reading goes on, so
/// one pass reports every bad line.
pub fn subjects(
    format: ImportFormat,
    reader: impl Read + 'static,
) -> Box<dyn Iterator<Item = Result<ImportSubject, LineError>>> {
    match format {
        ImportFormat::Jsonl => Box::new(jsonl(reader)),
        ImportFormat::Csv => Box::new(CsvSubjects::new(reader)),
    }
}

fn jsonl(reader: impl Read) -> impl Iterator<Item = Result<ImportSubject, LineError>> {
    let mut lines = BufReader::new(reader).split(b'\n').enumerate();
    std::iter::from_fn(move || {
        loop {
            let (i, line) = lines.next()?;
            let line_no = i + 1;
            let bytes = match line {
                Ok(b) => b,
                Err(e) => {
                    return Some(Err(LineError {
                        line: line_no,
                        reason: format!("cannot read: {e}"),
                    }));
                }
            };
            let Ok(text) = std::str::from_utf8(&bytes) else {
                return Some(Err(LineError {
                    line: line_no,
                    reason: "not valid UTF-8".into(),
                }));
            };
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            return Some(match serde_json::from_str::<SubjectInput>(text) {
                Ok(input) => Ok(ImportSubject {
                    line: line_no,
                    input,
                }),
                Err(e) => Err(LineError {
                    line: line_no,
                    reason: json_reason(&e),
                }),
            });
        }
    })
}

/// serde_json's message without the input excerpt (it may hold personal data).
fn json_reason(e: &serde_json::Error) -> String {
    if e.is_syntax() || e.is_eof() {
        return format!("not valid JSON (column {})", e.column());
    }
    let msg = e.to_string();
    let msg = msg.split(" at line ").next().unwrap_or(&msg);
    // "invalid type: string \"ada@…\", expected …" quotes the value: drop the quote.
    match msg.find('"') {
        Some(start) if msg.starts_with("invalid type") || msg.starts_with("invalid value") => {
            let end = msg[start + 1..]
                .find('"')
                .map_or(msg.len(), |e| start + 2 + e);
            format!("{}<value>{}", &msg[..start], &msg[end..])
        }
        _ => msg.to_owned(),
    }
}

struct CsvSubjects {
    rows: csv::StringRecordsIntoIter<Box<dyn Read>>,
    columns: Result<Vec<Option<usize>>, LineError>,
    pending: Option<(String, ImportSubject)>,
    seen_refs: HashSet<String>,
    done: bool,
}

impl CsvSubjects {
    fn new(reader: impl Read + 'static) -> Self {
        let mut r = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(Box::new(reader) as Box<dyn Read>);
        let columns = match r.headers() {
            Ok(h) => map_columns(h),
            Err(e) => Err(LineError {
                line: 1,
                reason: csv_reason(&e),
            }),
        };
        CsvSubjects {
            rows: r.into_records(),
            columns,
            pending: None,
            seen_refs: HashSet::new(),
            done: false,
        }
    }

    fn row(
        &mut self,
        cols: &[Option<usize>],
        rec: &csv::StringRecord,
        line: usize,
    ) -> Result<(String, ImportSubject, RecordInput), LineError> {
        let get = |name: &str| -> Option<String> {
            let idx = CSV_COLUMNS.iter().position(|c| *c == name)?;
            let v = rec.get(cols[idx]?)?.trim();
            (!v.is_empty()).then(|| v.to_owned())
        };
        let need = |name: &str| {
            get(name).ok_or_else(|| LineError {
                line,
                reason: format!("column `{name}` is empty"),
            })
        };
        let subject_ref = need("subject_ref")?;
        let time = |name: &str| -> Result<Option<time::OffsetDateTime>, LineError> {
            get(name)
                .map(|v| {
                    time::OffsetDateTime::parse(&v, &time::format_description::well_known::Rfc3339)
                        .map_err(|_| LineError {
                            line,
                            reason: format!("column `{name}` is not an RFC 3339 time"),
                        })
                })
                .transpose()
        };
        let mut identifiers = Vec::new();
        for kind in ["email", "phone"] {
            if let Some(value) = get(kind) {
                identifiers.push(ImportIdentifier {
                    kind: kind.to_owned(),
                    value,
                });
            }
        }
        let subject = ImportSubject {
            line,
            input: SubjectInput {
                subject_type: need("subject_type")?,
                jurisdiction: get("jurisdiction"),
                identifiers,
                records: Vec::new(),
            },
        };
        let record = RecordInput {
            category: need("category")?,
            value: serde_json::Value::String(need("value")?),
            source: need("source")?,
            purposes: need("purposes")?
                .split(';')
                .map(|p| p.trim().to_owned())
                .filter(|p| !p.is_empty())
                .collect(),
            legal_basis: get("legal_basis"),
            collected_at: time("collected_at")?,
            last_activity_at: time("last_activity_at")?,
            originating_system: get("originating_system"),
            // CSV has no column for named event times; JSON lines carry `event_times`.
            event_times: Default::default(),
        };
        Ok((subject_ref, subject, record))
    }
}

fn map_columns(headers: &csv::StringRecord) -> Result<Vec<Option<usize>>, LineError> {
    let mut cols = vec![None; CSV_COLUMNS.len()];
    for (i, h) in headers.iter().enumerate() {
        let h = h.trim();
        match CSV_COLUMNS.iter().position(|c| *c == h) {
            Some(k) if cols[k].is_some() => {
                return Err(LineError {
                    line: 1,
                    reason: format!("column `{h}` appears twice"),
                });
            }
            Some(k) => cols[k] = Some(i),
            None => {
                return Err(LineError {
                    line: 1,
                    reason: format!(
                        "unknown column `{h}` (expected: {})",
                        CSV_COLUMNS.join(", ")
                    ),
                });
            }
        }
    }
    for r in CSV_REQUIRED {
        if CSV_COLUMNS
            .iter()
            .position(|c| c == r)
            .and_then(|k| cols[k])
            .is_none()
        {
            return Err(LineError {
                line: 1,
                reason: format!("missing column `{r}`"),
            });
        }
    }
    Ok(cols)
}

fn csv_reason(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "not valid UTF-8".into(),
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("has {len} fields, the header has {expected_len}")
        }
        csv::ErrorKind::Io(err) => format!("cannot read: {err}"),
        _ => "malformed CSV".into(),
    }
}

impl Iterator for CsvSubjects {
    type Item = Result<ImportSubject, LineError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let cols = match &self.columns {
            Ok(c) => c.clone(),
            Err(e) => {
                self.done = true;
                return Some(Err(e.clone()));
            }
        };
        loop {
            let Some(rec) = self.rows.next() else {
                self.done = true;
                return self.pending.take().map(|(_, s)| Ok(s));
            };
            let rec = match rec {
                Ok(r) => r,
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line() as usize);
                    return Some(Err(LineError {
                        line,
                        reason: csv_reason(&e),
                    }));
                }
            };
            let line = rec.position().map_or(0, |p| p.line() as usize);
            let (subject_ref, subject, record) = match self.row(&cols, &rec, line) {
                Ok(r) => r,
                Err(e) => return Some(Err(e)),
            };
            match &mut self.pending {
                Some((r, pending)) if *r == subject_ref => {
                    let (p, s) = (&mut pending.input, subject.input);
                    if p.subject_type != s.subject_type || p.jurisdiction != s.jurisdiction {
                        return Some(Err(LineError {
                            line,
                            reason: format!(
                                "this subject has a different subject_type or jurisdiction than on line {}",
                                pending.line
                            ),
                        }));
                    }
                    for id in s.identifiers {
                        if !p.identifiers.contains(&id) {
                            p.identifiers.push(id);
                        }
                    }
                    p.records.push(record);
                }
                _ => {
                    if !self.seen_refs.insert(subject_ref.clone()) {
                        return Some(Err(LineError {
                            line,
                            reason: "rows of one subject_ref must be consecutive".into(),
                        }));
                    }
                    let mut subject = subject;
                    subject.input.records.push(record);
                    if let Some((_, done)) = self.pending.replace((subject_ref, subject)) {
                        return Some(Ok(done));
                    }
                }
            }
        }
    }
}
