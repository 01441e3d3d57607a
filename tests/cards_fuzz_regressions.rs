//! Inputs the fuzzer (fuzz/, target `import_card`) once crashed on, replayed through the
//! same oracle: no panic, and the round-trip law holds for every accepted card. Also
//! replays a sample of the committed fuzz corpus.

use std::path::Path;

include!("../fuzz/fuzz_targets/oracle.rs");

fn replay_dir(dir: &Path, cap: usize) -> usize {
    let rd = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut files: Vec<_> = rd.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_file()).collect();
    files.sort();
    let mut n = 0;
    for p in files.into_iter().take(cap) {
        let data = std::fs::read(&p).unwrap();
        let r = std::panic::catch_unwind(|| run_one(&data));
        assert!(r.is_ok(), "fuzz input {} failed", p.display());
        n += 1;
    }
    n
}

#[test]
fn fuzz_crash_regressions() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let n = replay_dir(&root.join("tests/fixtures/cards/fuzz"), usize::MAX);
    assert!(n >= 1, "no regression inputs found");
}

#[test]
fn fuzz_corpus_sample() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let n = replay_dir(&root.join("fuzz/corpus/import_card"), 400);
    assert!(n >= 1, "the committed fuzz corpus (fuzz/corpus/import_card) is empty: nothing was tested");
}
