//! Inputs the fuzzer (fuzz/, target `import_card`) once crashed on, replayed through the
//! same oracle: no panic, and the round-trip law holds for every accepted card. Also
//! replays the committed seed corpus (`fuzz/corpus/import_card/seed_*`).

use std::path::Path;

include!("../fuzz/fuzz_targets/oracle.rs");

fn replay_files(files: Vec<std::path::PathBuf>) -> usize {
    let mut n = 0;
    for p in files {
        let data = std::fs::read(&p).unwrap();
        let r = std::panic::catch_unwind(|| run_one(&data));
        assert!(r.is_ok(), "fuzz input {} failed", p.display());
        n += 1;
    }
    n
}

/// The files of `dir` whose name starts with `prefix`, sorted.
fn files_in(dir: &Path, prefix: &str) -> Vec<std::path::PathBuf> {
    let rd = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut files: Vec<_> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(prefix)))
        .collect();
    files.sort();
    files
}

#[test]
fn fuzz_crash_regressions() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let n = replay_files(files_in(&root.join("tests/fixtures/cards/fuzz"), ""));
    assert!(n >= 1, "no regression inputs found");
}

/// The seeds kept in git (a fuzz run's own additions there are not tracked and not replayed):
/// the card fixtures and a spread of fuzzer-found inputs, in every input mode.
#[test]
fn fuzz_corpus_seeds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = files_in(&root.join("fuzz/corpus/import_card"), "seed_");
    let mut modes = [false; 9];
    for p in &files {
        if let Some(&b) = std::fs::read(p).unwrap().first() {
            modes[usize::from(b % 9)] = true;
        }
    }
    let n = replay_files(files);
    assert!(n >= 60, "only {n} seeds in fuzz/corpus/import_card (seed_*): the seed corpus is missing");
    let missing: Vec<usize> = (0..9).filter(|&m| !modes[m]).collect();
    assert!(missing.is_empty(), "no seed for input mode(s) {missing:?} in fuzz/corpus/import_card");
}
