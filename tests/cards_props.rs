//! Round-trip laws as property tests, on generated cards and lorebooks:
//!
//! * `import(export(card)) == card` for V3 JSON and PNG (exact), CharX (exact
//!   except that the icon becomes a real file), and the V2 backfill keeps every V2
//!   field;
//! * lorebooks: `import(lorebook_v3(book)) == book`, and the SillyTavern World Info
//!   form keeps every setting.

use nextchat_tavern::card::export::{export_card, ExportFormat, ExportOptions};
use nextchat_tavern::card::{import_card, Card, ImportOptions};
use nextchat_tavern::lorebook::{export_lorebook, import_lorebook, Lorebook, LorebookExportFormat};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[a-zA-Z0-9 ,.!?*\"'\\n{}<>@:/-]{0,40}",
        "\\PC{0,20}",
        Just("🌙 月影 ليرا \u{202b}x\u{202c} 👩🏽‍🚀".to_string()),
        Just("@@depth 2\n@@@role user\nlore".to_string()),
    ]
}

fn json_leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        // Decimal floats as people write them (0.25, 1234.567). Floats needing 17 significant
        // digits can move by one ulp, because serde_json is built without `float_roundtrip`.
        (-1_000_000_000i64..1_000_000_000).prop_map(|n| json!(n as f64 / 1000.0)),
        text().prop_map(Value::from),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    json_leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<String, Value>>())),
        ]
    })
}

fn extensions() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map("x_[a-z]{1,6}", json_value(), 0..4).prop_map(|m| {
        let mut out: Map<String, Value> = m.into_iter().collect();
        out.insert("talkativeness".into(), json!(0.5));
        out
    })
}

fn entry() -> impl Strategy<Value = Value> {
    (
        prop::collection::vec(text(), 0..3),
        text(),
        any::<bool>(),
        -5i64..500,
        prop::option::of(0i64..8),
        prop::option::of(0i64..10),
        prop::option::of(any::<bool>()),
        (prop::option::of(0i64..5), any::<bool>(), prop::option::of(0u8..3), prop::option::of(text())),
        extensions(),
        prop::option::of(json_value()),
    )
        .prop_map(
            |(keys, content, constant, order, pos, depth, cs, (sticky, selective, role, group), ext, unknown)| {
                let mut e = json!({
                    "keys": keys, "content": content, "enabled": !constant || order % 2 == 0, "insertion_order": order,
                    "constant": constant, "selective": selective, "secondary_keys": ["s"], "use_regex": order % 3 == 0,
                    "comment": "c", "position": "before_char",
                });
                let mut x = ext;
                if let Some(p) = pos {
                    x.insert("position".into(), p.into());
                }
                if let Some(d) = depth {
                    x.insert("depth".into(), d.into());
                }
                if let Some(c) = cs {
                    e["case_sensitive"] = c.into();
                }
                if let Some(s) = sticky {
                    x.insert("sticky".into(), s.into());
                }
                if let Some(r) = role {
                    x.insert("role".into(), r.into());
                }
                if let Some(g) = group {
                    x.insert("group".into(), g.into());
                }
                e["extensions"] = Value::Object(x);
                if let Some(u) = unknown {
                    e["x_unknown_entry_key"] = u;
                }
                e
            },
        )
}

fn book() -> impl Strategy<Value = Value> {
    (prop::collection::vec(entry(), 0..6), prop::option::of(text()), prop::option::of(1i64..50), any::<bool>())
        .prop_map(|(entries, name, scan, rec)| {
            let mut b =
                json!({"extensions": {"risu_fullWordMatching": rec}, "entries": entries, "recursive_scanning": rec});
            if let Some(n) = name {
                b["name"] = n.into();
            }
            if let Some(s) = scan {
                b["scan_depth"] = s.into();
            }
            b
        })
}

fn card_json() -> impl Strategy<Value = Value> {
    (
        (text(), text(), text(), text(), text(), text()),
        (text(), text(), prop::collection::vec(text(), 0..3), prop::collection::vec("[a-z]{1,8}", 0..3)),
        extensions(),
        prop::option::of(book()),
        (prop::option::of(text()), prop::option::of(0i64..2_000_000_000), prop::collection::vec(text(), 0..2)),
        prop::option::of(json_value()),
    )
        .prop_map(|((n, d, p, s, f, m), (cn, sp, alt, tags), ext, bk, (nick, date, gog), unknown)| {
            let mut data = json!({
                "name": n, "description": d, "personality": p, "scenario": s, "first_mes": f, "mes_example": m,
                "creator_notes": cn, "system_prompt": sp, "post_history_instructions": "", "alternate_greetings": alt,
                "tags": tags, "creator": "gen", "character_version": "1", "extensions": ext, "group_only_greetings": gog,
                "assets": [{"type": "icon", "uri": "ccdefault:", "name": "main", "ext": "png"}],
            });
            if let Some(b) = bk {
                data["character_book"] = b;
            }
            if let Some(n) = nick {
                data["nickname"] = n.into();
            }
            if let Some(t) = date {
                data["creation_date"] = t.into();
            }
            let mut top = json!({"spec": "chara_card_v3", "spec_version": "3.0", "data": data});
            if let Some(u) = unknown {
                top["data"]["x_unknown_data_key"] = u.clone();
                top["x_unknown_top_key"] = u;
            }
            top
        })
}

fn import(bytes: &[u8]) -> Card {
    import_card(bytes, &ImportOptions::default()).unwrap().card
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn card_round_trips(v in card_json()) {
        let card = import(&serde_json::to_vec(&v).unwrap());
        let opts = ExportOptions::default();
        // V3 JSON and PNG: exact.
        for f in [ExportFormat::JsonV3, ExportFormat::Png] {
            let back = import(&export_card(&card, f, &opts).unwrap());
            prop_assert_eq!(&back, &card, "{:?}", f);
        }
        // CharX: exact except the icon asset, which becomes a file in the zip.
        let back = import(&export_card(&card, ExportFormat::Charx, &opts).unwrap());
        let (mut a, mut b) = (back.clone(), card.clone());
        a.assets = None;
        b.assets = None;
        prop_assert_eq!(a, b);
        prop_assert!(back.assets.unwrap()[0].uri.starts_with("embeded://assets/icon/"));
        // V2 backfill: V2 fields survive (decorators stripped from lorebook content).
        let v2 = import(&export_card(&card, ExportFormat::JsonV2, &opts).unwrap());
        prop_assert_eq!(&v2.name, &card.name);
        prop_assert_eq!(&v2.description, &card.description);
        prop_assert_eq!(&v2.alternate_greetings, &card.alternate_greetings);
        prop_assert_eq!(&v2.tags, &card.tags);
        prop_assert_eq!(&v2.extensions, &card.extensions);
        prop_assert_eq!(v2.lorebook_len(), card.lorebook_len());
        // Exporting is deterministic and idempotent.
        let once = export_card(&card, ExportFormat::JsonV3, &opts).unwrap();
        let twice = export_card(&import(&once), ExportFormat::JsonV3, &opts).unwrap();
        prop_assert_eq!(once, twice);
    }

    #[test]
    fn lorebook_round_trips(b in book()) {
        let book: Lorebook = serde_json::from_value(b).unwrap();
        let v3 = import_lorebook(&export_lorebook(&book, LorebookExportFormat::V3), &Default::default()).unwrap();
        prop_assert_eq!(&v3.lorebook, &book);
        // World Info: every setting survives; the WI form gives each entry an explicit id (its uid).
        let wi = import_lorebook(&export_lorebook(&book, LorebookExportFormat::SillyTavern), &Default::default()).unwrap();
        prop_assert_eq!(wi.lorebook.entries.len(), book.entries.len());
        for (x, y) in wi.lorebook.entries.iter().zip(&book.entries) {
            let mut x = x.clone();
            x.id = y.id.clone();
            prop_assert_eq!(&x, y);
        }
        let wi2 = import_lorebook(&export_lorebook(&wi.lorebook, LorebookExportFormat::SillyTavern), &Default::default()).unwrap();
        prop_assert_eq!(wi2.lorebook, wi.lorebook);
    }

    #[test]
    fn yaml_reader_never_panics(text in "((\\PC|[ \t\n:|>\"'#\\-])){0,200}") {
        let _ = nextchat_tavern::card::yaml::parse_flat_mapping(&text);
        let _ = import_card(text.as_bytes(), &ImportOptions::default());
    }

    #[test]
    fn import_never_panics_on_noise(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = import_card(&bytes, &ImportOptions::default());
        let _ = import_lorebook(&bytes, &Default::default());
    }
}
