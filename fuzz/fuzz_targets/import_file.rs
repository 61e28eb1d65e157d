//! Any bytes as a CSV or JSONL import file: the reader must never panic and must always end.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vern_server::import_file::{ImportFormat, subjects};

fuzz_target!(|data: &[u8]| {
    for format in [ImportFormat::Jsonl, ImportFormat::Csv] {
        let reader = std::io::Cursor::new(data.to_vec());
        for item in subjects(format, reader).take(10_000) {
            let _ = item;
        }
    }
});
