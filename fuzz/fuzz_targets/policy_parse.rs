//! Any bytes through the policy parser and validator: must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(d) = vern_policy::Policy::parse_bytes(data) {
        // Rendering locates spans in the text: exercise it too.
        let _ = d.render("fuzz.toml", &String::from_utf8_lossy(data));
    }
});
