//! Fuzz target for the incremental backup reader and the streamed import.
//!
//! The first input byte picks the chunk size (0: the whole input at once), the rest is the
//! backup. Laws: the reader never panics; any chunking gives exactly the same items or the
//! same error as the whole input; an accepted backup written out again reads back the same;
//! and a streamed import of it in small batches leaves a memory store exactly as the
//! one-transaction import does.
#![no_main]

use std::ops::ControlFlow;

use nextchat_tavern::store::backup::{self, SliceSource, StreamOptions, Writer};
use nextchat_tavern::store::conformance::{block_on, test_env};
use nextchat_tavern::store::{MemoryStore, Store};

fn dump(s: &MemoryStore) -> Vec<String> {
    let mut t = String::new();
    block_on(s.export_backup(true, &mut |l| {
        t.push_str(&l);
        Ok(())
    }))
    .unwrap();
    t.lines().skip(1).map(str::to_string).collect()
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&first, bytes)) = data.split_first() else { return };
    let chunk = if first == 0 { usize::MAX } else { usize::from(first) };
    let whole = backup::parse_chunked(bytes, usize::MAX);
    let cut = backup::parse_chunked(bytes, chunk);
    assert_eq!(format!("{whole:?}"), format!("{cut:?}"), "chunking changed the result");
    let Ok(items) = whole else { return };

    let mut text = String::new();
    {
        let mut sink = |l: String| {
            text.push_str(&l);
            Ok(())
        };
        let mut w = Writer::new(&mut sink, 0, true).unwrap();
        for i in &items {
            w.item(i).unwrap();
        }
        w.finish().unwrap();
    }
    assert_eq!(backup::parse(&text).unwrap(), items, "written again, read back differently");

    let one = MemoryStore::new(test_env());
    let a = block_on(one.import_backup(&text, &mut |_| ControlFlow::Continue(())));
    let streamed = MemoryStore::new(test_env());
    let opts =
        StreamOptions { batch_items: 1 + usize::from(first % 4), check_first: first % 2 == 0, ..Default::default() };
    let b = block_on(streamed.import_backup_from(&mut SliceSource::new(bytes, chunk.min(1 << 16)), &opts, &mut |_| {
        ControlFlow::Continue(())
    }));
    match (a, b) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a, b, "reports differ");
            assert_eq!(dump(&one), dump(&streamed), "stores differ");
        }
        (Err(a), Err(b)) => assert_eq!(a.code(), b.code()),
        (a, b) => panic!("whole import {a:?} but streamed {b:?}"),
    }
});
