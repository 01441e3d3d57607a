//! Fuzz target for the card importer; the logic is in `oracle.rs`.
#![no_main]

include!("oracle.rs");

libfuzzer_sys::fuzz_target!(|data: &[u8]| run_one(data));
