//! Property tests of the incremental backup reader and the streamed import: any split of the
//! same bytes into chunks (lines and multi-byte characters cut anywhere) gives the same items —
//! or the same error — as the whole text, and a streamed import in batches of any size leaves
//! the store exactly as the one-transaction import does.

use std::ops::ControlFlow;

use nextchat_tavern::store::backup::{self, Reader, SliceSource, StreamOptions, Writer};
use nextchat_tavern::store::conformance::{block_on, test_env};
use nextchat_tavern::store::{BackupItem, MemoryStore, SettingEntry, Store};
use nextchat_tavern::Result;
use proptest::prelude::*;
use serde_json::json;

/// Text with multi-byte characters of every length (2, 3 and 4 bytes) and JSON escapes.
fn text() -> impl Strategy<Value = String> {
    "[a-zé€🦊\"\\\\\n\t ]{0,24}"
}

fn item() -> impl Strategy<Value = BackupItem> {
    prop_oneof![
        (0..1000u32, text(), prop::collection::vec(text(), 0..3)).prop_map(|(id, name, tags)| BackupItem::Record {
            store: "characters".into(),
            record: json!({"id": format!("c{id}"), "rev": 1, "name": name, "card": {"data": {"name": name}}, "tags": tags}),
        }),
        (0..1000u32, 0..50u64, text()).prop_map(|(id, seq, mes)| BackupItem::Record {
            store: "messages".into(),
            record: json!({"id": format!("m{id}"), "rev": 1, "chatId": format!("chat{}", id % 3), "seq": seq, "mes": mes}),
        }),
        (0..1000u32, text()).prop_map(|(id, title)| BackupItem::Record {
            store: "chats".into(),
            record: json!({"id": format!("chat{id}"), "rev": 2, "title": title}),
        }),
        (0..1000u32, prop::collection::vec(any::<u8>(), 0..200))
            .prop_map(|(id, bytes)| BackupItem::AssetBytes { id: format!("a{id}"), bytes }),
        (text(), text()).prop_map(|(key, v)| BackupItem::Setting(SettingEntry { key, value: json!(v), rev: 1, updated_at: 5 })),
    ]
}

fn backup_text(items: &[BackupItem]) -> String {
    let mut out = String::new();
    let mut sink = |l: String| {
        out.push_str(&l);
        Ok(())
    };
    let mut w = Writer::new(&mut sink, 5, false).unwrap();
    for i in items {
        w.item(i).unwrap();
    }
    w.finish().unwrap();
    out
}

/// Feeds `bytes` cut at `cuts` (positions, any order, duplicates allowed).
fn read_cut(bytes: &[u8], cuts: &[usize]) -> Result<Vec<BackupItem>> {
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    cuts.sort_unstable();
    let mut r = Reader::new();
    let mut items = Vec::new();
    let mut at = 0;
    for c in cuts.into_iter().chain([bytes.len()]) {
        r.push(&bytes[at..c]);
        at = c;
        while let Some(i) = r.next_item()? {
            items.push(i);
        }
    }
    r.end_input();
    while let Some(i) = r.next_item()? {
        items.push(i);
    }
    r.finish()?;
    Ok(items)
}

/// A damaged copy: a byte changed, bytes cut off the end, or a line dropped.
fn damage(text: &str, how: u8, at: usize) -> Vec<u8> {
    let mut b = text.as_bytes().to_vec();
    let at = at % b.len().max(1);
    match how % 3 {
        0 => b[at] = b[at].wrapping_add(1),
        1 => b.truncate(at),
        _ => {
            let lines: Vec<&str> = text.split_inclusive('\n').collect();
            let drop = at % lines.len();
            b = lines.iter().enumerate().filter(|(i, _)| *i != drop).map(|(_, l)| *l).collect::<String>().into_bytes();
        }
    }
    b
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_chunking_reads_the_same_items(items in prop::collection::vec(item(), 0..12), cuts in prop::collection::vec(any::<usize>(), 0..40)) {
        let text = backup_text(&items);
        let whole = backup::parse(&text).unwrap();
        prop_assert_eq!(&whole, &items);
        prop_assert_eq!(read_cut(text.as_bytes(), &cuts).unwrap(), whole);
    }

    #[test]
    fn any_chunking_of_a_damaged_backup_fails_the_same(
        items in prop::collection::vec(item(), 1..8),
        how in any::<u8>(),
        at in any::<usize>(),
        cuts in prop::collection::vec(any::<usize>(), 0..40),
    ) {
        let bytes = damage(&backup_text(&items), how, at);
        let whole = backup::parse_chunked(&bytes, usize::MAX);
        let cut = read_cut(&bytes, &cuts);
        prop_assert_eq!(format!("{whole:?}"), format!("{cut:?}"));
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_chunking_does_not_matter(bytes in prop::collection::vec(any::<u8>(), 0..300), cuts in prop::collection::vec(any::<usize>(), 0..20)) {
        let whole = backup::parse_chunked(&bytes, usize::MAX);
        prop_assert_eq!(format!("{whole:?}"), format!("{:?}", read_cut(&bytes, &cuts)));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn a_streamed_import_in_any_batches_equals_the_whole_import(
        items in prop::collection::vec(item(), 0..16),
        chunk in 1usize..200,
        batch_items in 1usize..6,
        batch_bytes in 1usize..2000,
        check_first in any::<bool>(),
    ) {
        let text = backup_text(&items);
        block_on(async {
            let whole = MemoryStore::new(test_env());
            let expected = whole.import_backup(&text, &mut |_| ControlFlow::Continue(())).await.unwrap();
            let streamed = MemoryStore::new(test_env());
            let opts = StreamOptions { batch_items, batch_bytes, check_first, ..Default::default() };
            let mut src = SliceSource::new(text.as_bytes(), chunk);
            let got = streamed.import_backup_from(&mut src, &opts, &mut |_| ControlFlow::Continue(())).await.unwrap();
            assert_eq!(got, expected);
            let dump = |s: MemoryStore| async move {
                let mut t = String::new();
                s.export_backup(true, &mut |l| { t.push_str(&l); Ok(()) }).await.unwrap();
                t.lines().skip(1).map(str::to_string).collect::<Vec<_>>()
            };
            assert_eq!(dump(streamed).await, dump(whole).await);
        });
    }
}
