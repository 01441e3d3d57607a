//! Crafted inputs: every card quirk that the fixtures do not cover, the safety limits,
//! other card and lorebook flavours, and the writer rules.

use std::path::Path;

use base64::Engine;
use nextchat_tavern::card::export::{export_card, export_card_reporting, ExportFormat, ExportOptions};
use nextchat_tavern::card::png::{walk, write_chunk, SIGNATURE};
use nextchat_tavern::card::zip::Writer;
use nextchat_tavern::card::{import_card, ImportOptions, Limits};
use nextchat_tavern::lorebook::{
    export_lorebook, import_lorebook, Lorebook, LorebookExportFormat, LorebookFormat, Position,
};
use nextchat_tavern::ErrorCode;
use serde_json::{json, Value};

fn b64(b: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(b)
}

fn png_with_chunks(chunks: &[(&[u8; 4], Vec<u8>)]) -> Vec<u8> {
    let mut out = SIGNATURE.to_vec();
    write_chunk(&mut out, b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]);
    for (k, d) in chunks {
        write_chunk(&mut out, k, d);
    }
    write_chunk(&mut out, b"IDAT", &[0x78, 0x9c, 0x63, 0x60, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01]);
    write_chunk(&mut out, b"IEND", &[]);
    out
}

fn text(kw: &str, payload: &[u8]) -> Vec<u8> {
    let mut v = kw.as_bytes().to_vec();
    v.push(0);
    v.extend_from_slice(payload);
    v
}

fn import_json(v: &Value) -> nextchat_tavern::card::ImportedCard {
    import_card(&serde_json::to_vec(v).unwrap(), &ImportOptions::default()).unwrap()
}

fn codes(r: &nextchat_tavern::card::ImportedCard) -> Vec<String> {
    r.warnings.iter().map(|w| w.code.clone()).collect()
}

fn v2(data: Value) -> Value {
    json!({"spec": "chara_card_v2", "spec_version": "2.0", "data": data})
}

#[test]
fn v2_quirks_are_fixed_and_reported() {
    let r = import_json(&v2(json!({
        "name": "Q", "description": "", "first_mes": "hi", "alternate_greetings": null, "tags": ["a", 7, null],
        "character_version": 1.5, "creator": "undefined", "character_book": null, "extensions": null,
        "creator_notes": "Creator's notes go here.", "creation_date": 1_700_000_000_123i64, "x_custom": {"k": 1}
    })));
    let c = &r.card;
    assert!(c.alternate_greetings.is_empty());
    assert_eq!(c.tags, vec!["a", "7"]);
    assert_eq!(c.character_version, "1.5");
    assert_eq!(c.creator, "");
    assert!(c.character_book.is_none());
    assert!(c.extensions.is_empty());
    assert_eq!(c.creator_notes, "");
    assert_eq!(c.creation_date, Some(1_700_000_000));
    assert_eq!(c.data_extra["x_custom"], json!({"k": 1}));
    let w = codes(&r);
    for code in [
        "tags_coerced",
        "number_as_string",
        "literal_undefined",
        "character_book_null",
        "extensions_null",
        "creator_notes_placeholder",
        "date_milliseconds",
    ] {
        assert!(w.iter().any(|c| c == code), "missing warning {code} in {w:?}");
    }
}

#[test]
fn depth_prompt_role_number_and_talkativeness_garbage() {
    let r = import_json(&v2(json!({"name": "D", "extensions": {"talkativeness": "lots", "fav": "true",
        "depth_prompt": {"prompt": "p", "depth": "7", "role": 2}}})));
    let e = &r.card.extensions;
    assert_eq!(e["talkativeness"], json!(0.5));
    assert_eq!(e["fav"], json!(true));
    assert_eq!(e["depth_prompt"], json!({"prompt": "p", "depth": 7, "role": "assistant"}));
}

#[test]
fn spec_less_v2_top_level_book_and_mirrors() {
    let r = import_json(&json!({
        "data": {"name": "N", "description": "d", "first_mes": "f", "extensions": {}},
        "character_book": {"entries": [{"keys": ["k"], "content": "c"}]},
        "name": "N", "description": "different top-level text", "avatar": "none", "chat": "x.jsonl"
    }));
    assert_eq!(r.source_spec.as_str(), "chara_card_v2");
    assert_eq!(r.card.lorebook_len(), 1);
    assert!(!r.card.extra.contains_key("name"), "an equal mirror is dropped");
    assert_eq!(r.card.extra["description"], json!("different top-level text"));
    assert_eq!(r.card.extra["avatar"], json!("none"));
    let w = codes(&r);
    assert!(
        w.contains(&"spec_missing".to_string())
            && w.contains(&"character_book_top_level".to_string())
            && w.contains(&"mirror_differs".to_string()),
        "{w:?}"
    );
}

#[test]
fn st_hybrid_v1_without_spec_moves_legacy_fields() {
    let r = import_json(
        &json!({"name": "Old", "description": "d", "personality": "", "scenario": "", "first_mes": "f",
        "mes_example": "", "creatorcomment": "notes", "talkativeness": "0.3", "fav": false, "tags": "a, b", "create_date": "2023-5-12 @17h"}),
    );
    assert_eq!(r.source_spec.as_str(), "chara_card_v1");
    assert_eq!(r.card.creator_notes, "notes");
    assert_eq!(r.card.extensions["talkativeness"], json!(0.3));
    assert_eq!(r.card.tags, vec!["a", "b"]);
    assert_eq!(r.card.extra["create_date"], json!("2023-5-12 @17h"));
}

#[test]
fn agnai_character_export() {
    let r = import_json(
        &json!({"kind": "character", "name": "Ag", "greeting": "Hello", "scenario": "s", "sampleChat": "ex",
        "persona": {"kind": "wpp", "attributes": {"mind": ["kind", "curious"]}}, "description": "notes",
        "alternateGreetings": ["g2"], "tags": ["t"], "voice": {"service": "x"},
        "characterBook": {"kind": "memory", "name": "mem", "entries": [{"name": "e", "entry": "text", "keywords": ["k"], "priority": 5, "weight": 3, "enabled": true}]}}),
    );
    assert_eq!(r.source_spec.as_str(), "agnai");
    let c = &r.card;
    assert_eq!(
        (c.name.as_str(), c.first_mes.as_str(), c.mes_example.as_str(), c.creator_notes.as_str()),
        ("Ag", "Hello", "ex", "notes")
    );
    assert!(c.description.contains("mind(\"kind\" + \"curious\")"), "{}", c.description);
    assert_eq!(c.extensions["agnai"]["voice"], json!({"service": "x"}));
    let b = c.character_book.as_ref().unwrap();
    assert_eq!((b.entries[0].content.as_str(), b.entries[0].order, b.entries[0].priority), ("text", 3, Some(5)));
}

#[test]
fn png_chunk_variants() {
    let card = serde_json::to_vec(&v2(json!({"name": "Chunky", "extensions": {}}))).unwrap();
    // iTXt, compressed, with URL-safe base64 and no padding, after IDAT.
    let mut itxt = text("chara", &[1, 0]);
    itxt.extend_from_slice(b"en\0\0");
    let b = b64(&card).replace('+', "-").replace('/', "_").trim_end_matches('=').to_string();
    itxt.extend_from_slice(&miniz_oxide::deflate::compress_to_vec_zlib(b.as_bytes(), 6));
    let r = import_card(&png_with_chunks(&[(b"iTXt", itxt)]), &ImportOptions::default()).unwrap();
    assert_eq!(r.card.name, "Chunky");
    // Raw JSON (not base64) in a tEXt, keyword in upper case.
    let r = import_card(&png_with_chunks(&[(b"tEXt", text("CHARA", &card))]), &ImportOptions::default()).unwrap();
    assert_eq!(r.card.name, "Chunky");
    // A broken ccv3 falls back to chara, with a warning.
    let r = import_card(
        &png_with_chunks(&[(b"tEXt", text("chara", b64(&card).as_bytes())), (b"tEXt", text("ccv3", b"!!!not base64"))]),
        &ImportOptions::default(),
    )
    .unwrap();
    assert_eq!(r.card.name, "Chunky");
    // Encrypted RisuAI card.
    let e =
        import_card(&png_with_chunks(&[(b"tEXt", text("chara", b"rcc||rccv1||abc||h||m"))]), &ImportOptions::default())
            .unwrap_err();
    assert_eq!(e.code(), ErrorCode::UnsupportedFormat);
    // RisuAI asset chunks become __asset:N files.
    let v3 = serde_json::to_vec(
        &json!({"spec": "chara_card_v3", "spec_version": "3.0", "data": {"name": "R", "extensions": {},
        "assets": [{"type": "emotion", "uri": "__asset:1", "name": "joy", "ext": "png"}]}}),
    )
    .unwrap();
    let png = png_with_chunks(&[
        (b"tEXt", text("chara-ext-asset_:1", b64(b"IMG").as_bytes())),
        (b"tEXt", text("ccv3", b64(&v3).as_bytes())),
    ]);
    let r = import_card(&png, &ImportOptions::default()).unwrap();
    assert_eq!(r.assets[0].path, "__asset:1");
    assert_eq!(r.assets[0].bytes, b"IMG");
    // ... and are written back on PNG export.
    let out =
        export_card(&r.card, ExportFormat::Png, &ExportOptions { assets: &r.assets, ..Default::default() }).unwrap();
    let back = import_card(&out, &ImportOptions::default()).unwrap();
    assert_eq!(back.assets, r.assets);
}

#[test]
fn limits_are_enforced_with_typed_errors() {
    // Decompression bomb in a zTXt chunk.
    let bomb = miniz_oxide::deflate::compress_to_vec_zlib(&vec![b'A'; 8 << 20], 9);
    let mut z = text("chara", &[0]);
    z.extend_from_slice(&bomb);
    let limits = Limits { max_json_bytes: 1 << 20, ..Limits::default() };
    let e = import_card(&png_with_chunks(&[(b"zTXt", z)]), &ImportOptions { limits, file_name: None }).unwrap_err();
    assert_eq!(e.code(), ErrorCode::TooLarge);
    // Zip member declaring more than the limit.
    let mut w = Writer::new();
    w.add("card.json", &vec![b' '; 2 << 20], true).unwrap();
    let e = import_card(&w.finish(), &ImportOptions { limits, file_name: None }).unwrap_err();
    assert_eq!(e.code(), ErrorCode::TooLarge);
    // Too many zip entries.
    let mut w = Writer::new();
    for i in 0..20 {
        w.add(&format!("f{i}"), b"x", false).unwrap();
    }
    let e = import_card(
        &w.finish(),
        &ImportOptions { limits: Limits { max_zip_entries: 10, ..Limits::default() }, file_name: None },
    )
    .unwrap_err();
    assert_eq!(e.code(), ErrorCode::TooLarge);
    // Deep nesting.
    let deep = format!(
        "{{\"spec\":\"chara_card_v2\",\"data\":{{\"name\":\"x\",\"extensions\":{{\"a\":{}{}}}}}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let e = import_card(deep.as_bytes(), &ImportOptions::default()).unwrap_err();
    assert_eq!(e.code(), ErrorCode::BadJson);
    // Input size and lorebook entries.
    let e = import_card(
        &[b' '; 100],
        &ImportOptions { limits: Limits { max_input_bytes: 10, ..Limits::default() }, file_name: None },
    )
    .unwrap_err();
    assert_eq!(e.code(), ErrorCode::TooLarge);
    let big = v2(
        json!({"name": "L", "extensions": {}, "character_book": {"extensions": {}, "entries": (0..50).map(|i| json!({"keys": [i.to_string()], "content": ""})).collect::<Vec<_>>()}}),
    );
    let e = import_card(
        &serde_json::to_vec(&big).unwrap(),
        &ImportOptions { limits: Limits { max_lorebook_entries: 10, ..Limits::default() }, file_name: None },
    )
    .unwrap_err();
    assert_eq!(e.code(), ErrorCode::TooLarge);
}

#[test]
fn other_containers_are_typed_errors() {
    let webp = b"RIFF\x10\0\0\0WEBPVP8 ";
    assert_eq!(import_card(webp, &ImportOptions::default()).unwrap_err().code(), ErrorCode::NotACard);
    assert_eq!(
        import_card(&[111, 0, 1, 2], &ImportOptions::default()).unwrap_err().code(),
        ErrorCode::UnsupportedFormat
    );
    assert_eq!(import_card(b"", &ImportOptions::default()).unwrap_err().code(), ErrorCode::NotACard);
    assert_eq!(import_card(b"[1,2]", &ImportOptions::default()).unwrap_err().code(), ErrorCode::NotACard);
    assert_eq!(import_card(b"{\"a\":1", &ImportOptions::default()).unwrap_err().code(), ErrorCode::BadJson);
    assert_eq!(import_card(b"hello world", &ImportOptions::default()).unwrap_err().code(), ErrorCode::NotACard);
    assert_eq!(
        import_card(b"\xFF\xD8\xFF\xE0 jpeg", &ImportOptions::default()).unwrap_err().code(),
        ErrorCode::NotACard
    );
    assert_eq!(import_card(b"PK\x03\x04", &ImportOptions::default()).unwrap_err().code(), ErrorCode::Truncated);
    let e = import_card(br#"{"spec":"lorebook_v3","data":{"entries":[]}}"#, &ImportOptions::default()).unwrap_err();
    assert_eq!(e.code(), ErrorCode::NotACard);
}

#[test]
fn empty_name_uses_the_file_name_when_given() {
    let bytes = serde_json::to_vec(&v2(json!({"name": "", "extensions": {}}))).unwrap();
    let r = import_card(&bytes, &ImportOptions { file_name: Some("dir/My Card.json".into()), ..Default::default() })
        .unwrap();
    assert_eq!(r.card.name, "My Card");
}

#[test]
fn png_export_follows_the_writer_rules() {
    let r = import_json(
        &json!({"spec": "chara_card_v3", "spec_version": "3.0", "data": {"name": "W", "extensions": {"k": 1},
        "group_only_greetings": [], "nickname": "Dubs", "character_book": {"extensions": {}, "entries": [
            {"keys": ["a"], "content": "@@depth 2\n@@role user\nText", "use_regex": true, "id": "s1", "enabled": true, "insertion_order": 1, "extensions": {}}]}}}),
    );
    // An avatar with an old card chunk, a `parameters` text chunk before IDAT, and APNG/colour chunks.
    let avatar = png_with_chunks(&[
        (b"sRGB", vec![0]),
        (b"acTL", vec![0; 8]),
        (b"tEXt", text("parameters", b"sd")),
        (b"tEXt", text("chara", b"b2xk")),
    ]);
    let out = export_card(&r.card, ExportFormat::Png, &ExportOptions { avatar: Some(&avatar), ..Default::default() })
        .unwrap();
    let w = walk(&out);
    assert!(w.truncated.is_none());
    let kinds: Vec<String> = w
        .chunks
        .iter()
        .map(|c| {
            let kw = c.data.split(|&b| b == 0).next().unwrap();
            if &c.kind == b"tEXt" {
                format!("tEXt:{}", String::from_utf8_lossy(kw))
            } else {
                String::from_utf8_lossy(&c.kind).into_owned()
            }
        })
        .collect();
    // Old card chunk gone; ours first among text chunks (chara, then ccv3); the rest kept in order; CRCs valid.
    assert_eq!(kinds, ["IHDR", "sRGB", "acTL", "tEXt:chara", "tEXt:ccv3", "tEXt:parameters", "IDAT", "IEND"]);
    assert!(w.chunks.iter().all(|c| c.crc_ok()));
    // The chara chunk is a V2 backfill: V1 fields at the top, no decorators, no V3-only fields.
    let chara = &w.chunks[3].data[6..];
    let v: Value = serde_json::from_slice(&base64::engine::general_purpose::STANDARD.decode(chara).unwrap()).unwrap();
    assert_eq!(v["spec"], "chara_card_v2");
    assert_eq!(v["name"], "W");
    assert!(v["data"].get("nickname").is_none() && v["data"].get("group_only_greetings").is_none());
    let e = &v["data"]["character_book"]["entries"][0];
    assert_eq!(e["content"], "Text");
    assert!(e.get("use_regex").is_none() && e.get("id").is_none());
    assert_eq!(e["extensions"]["use_regex"], true);
    assert_eq!(e["extensions"]["original_id"], "s1");
    // No avatar: a generated placeholder that is a valid PNG.
    let out = export_card(&r.card, ExportFormat::Png, &ExportOptions::default()).unwrap();
    let decoder = png::Decoder::new(std::io::Cursor::new(&out));
    let info = decoder.read_info().unwrap();
    assert_eq!(info.info().width, 256);
    // A missing embedded asset keeps its reference and is reported (see
    // `a_card_whose_archive_lacks_an_asset_still_exports`).
    let mut c = r.card.clone();
    c.assets = Some(vec![nextchat_tavern::card::Asset {
        kind: "emotion".into(),
        uri: "embeded://assets/x.png".into(),
        name: "x".into(),
        ext: "png".into(),
        extra: Default::default(),
    }]);
    for f in [ExportFormat::Png, ExportFormat::Charx] {
        let (bytes, ws) = export_card_reporting(&c, f, &ExportOptions::default()).unwrap();
        assert!(ws.iter().any(|w| w.code == "asset_missing"), "{f:?}: {ws:?}");
        let back = import_card(&bytes, &ImportOptions::default()).unwrap();
        assert!(back.card.assets.iter().flatten().any(|a| a.uri == "embeded://assets/x.png"), "{f:?}");
    }
    // Non-PNG avatars are refused.
    let e = export_card(
        &r.card,
        ExportFormat::Png,
        &ExportOptions { avatar: Some(b"\xFF\xD8\xFFjpeg"), ..Default::default() },
    )
    .unwrap_err();
    assert_eq!(e.code(), ErrorCode::InvalidArgument);
}

#[test]
fn lorebook_flavours() {
    let l = Limits::default();
    let risu = json!({"type": "risu", "ver": 1, "data": [{"key": "a, b", "secondkey": "c", "insertorder": 5, "comment": "t", "content": "x",
        "mode": "constant", "alwaysActive": false, "selective": true, "extentions": {"risu_case_sensitive": true}, "activationPercent": 30, "folder": "f"}]});
    let r = import_lorebook(&serde_json::to_vec(&risu).unwrap(), &l).unwrap();
    assert_eq!(r.source_format, LorebookFormat::Risu);
    let e = &r.lorebook.entries[0];
    assert_eq!(
        (e.keys.clone(), e.secondary_keys.clone(), e.order, e.constant, e.case_sensitive, e.probability),
        (vec!["a".to_string(), "b".into()], vec!["c".to_string()], 5, true, Some(true), 30.0)
    );
    assert_eq!(e.extra["folder"], json!("f"));

    let nai = json!({"lorebookVersion": 5, "entries": [{"id": "u-1", "displayName": "Town", "text": "A town.", "keys": ["town"], "enabled": true,
        "forceActivation": true, "contextConfig": {"budgetPriority": 400, "prefix": ""}}], "settings": {"x": 1}});
    let r = import_lorebook(&serde_json::to_vec(&nai).unwrap(), &l).unwrap();
    assert_eq!(r.source_format, LorebookFormat::NovelAi);
    let e = &r.lorebook.entries[0];
    assert_eq!((e.comment.as_str(), e.content.as_str(), e.constant, e.order), ("Town", "A town.", true, 400));
    assert_eq!(r.lorebook.extra["settings"], json!({"x": 1}));

    let agnai = json!({"kind": "memory", "name": "Mem", "scanDepth": 3, "entries": [{"name": "n", "entry": "e", "keywords": ["k"], "priority": 1, "weight": 9, "enabled": false}]});
    let r = import_lorebook(&serde_json::to_vec(&agnai).unwrap(), &l).unwrap();
    assert_eq!(r.source_format, LorebookFormat::AgnaiMemory);
    assert_eq!(
        (r.lorebook.scan_depth, r.lorebook.entries[0].order, r.lorebook.entries[0].enabled),
        (Some(3), 9, false)
    );

    let v3 = json!({"spec": "lorebook_v3", "data": {"name": "B", "extensions": {}, "entries": [{"keys": ["k"], "content": "c", "extensions": {"position": 7, "outlet_name": "o"}, "enabled": true, "insertion_order": 1, "use_regex": false}]}});
    let r = import_lorebook(&serde_json::to_vec(&v3).unwrap(), &l).unwrap();
    assert_eq!(r.source_format, LorebookFormat::LorebookV3);
    assert_eq!(r.lorebook.entries[0].position, Position::Outlet);
    // Written back: every original key with its value (plus explicit defaults of the other spec fields).
    let out: Value = serde_json::from_slice(&export_lorebook(&r.lorebook, LorebookExportFormat::V3)).unwrap();
    assert_eq!(out["spec"], "lorebook_v3");
    assert_eq!(out["data"]["name"], "B");
    for (k, val) in v3["data"]["entries"][0].as_object().unwrap() {
        assert_eq!(&out["data"]["entries"][0][k], val, "{k}");
    }
    // NovelAI lorebook PNG (naidata).
    let png = png_with_chunks(&[(b"tEXt", text("naidata", b64(&serde_json::to_vec(&nai).unwrap()).as_bytes()))]);
    assert_eq!(import_lorebook(&png, &l).unwrap().source_format, LorebookFormat::NovelAi);
}

/// Every World Info book of the SillyTavern golden vectors reads directly with serde, keeps every
/// field, and survives the World Info round trip.
#[test]
fn st_golden_world_info_books() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/st-golden");
    let local = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/st-golden");
    let dir = if dir.exists() { dir } else { local };
    let mut n = 0;
    for f in std::fs::read_dir(&dir).unwrap() {
        let p = f.unwrap().path();
        if p.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let v: Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
        let Some(lb) = v.get("lorebook").filter(|l| l.is_object()) else { continue };
        let book: Lorebook = serde_json::from_value(lb.clone()).unwrap();
        assert_eq!(book.entries.len(), lb["entries"].as_object().unwrap().len());
        for e in &book.entries {
            assert!(
                e.extra.is_empty(),
                "{}: unknown ST field(s) {:?}",
                p.display(),
                e.extra.keys().collect::<Vec<_>>()
            );
        }
        // World Info out → in is the identity, and every original field is written back with its value.
        let wi = book.to_world_info_value();
        let again: Lorebook = serde_json::from_value(wi.clone()).unwrap();
        assert_eq!(again, book, "{}", p.display());
        for (uid, orig) in lb["entries"].as_object().unwrap() {
            for (k, val) in orig.as_object().unwrap() {
                let out = &wi["entries"][uid][k];
                // `true` for delayUntilRecursion is level 1, and a null role is "system" (0).
                let same = out == val
                    || (val.is_boolean() && k == "delayUntilRecursion")
                    || (val.is_null() && k == "role" && *out == json!(0));
                assert!(same, "{}: entry {uid} field {k}: {val} became {out}", p.display());
            }
        }
        n += 1;
    }
    assert!(n > 0, "no golden books found");
}

/// Values we cannot read, and values that disagree between two spellings, are written back
/// verbatim, and the round-trip law still holds.
#[test]
fn unreadable_and_conflicting_values_round_trip() {
    let v = json!({"spec": "chara_card_v2", "data": {"name": {"not": "a string"}, "tags": "x", "extensions": {},
        "character_book": {"name": ["odd"], "entries": {
            "3": {"keys": ["a"], "content": "c", "comment": [1, 2], "excludeRecursion": true,
                  "extensions": {"exclude_recursion": false, "depth": "deep", "case_sensitive": true}, "case_sensitive": true},
            "9": {"key": ["b"], "uid": 9, "id": "str-id", "content": "d"},
            "10": {"keys": ["c"], "uid": 42, "id": 5, "content": "e"}}}},
        "spec_original": 1, "name": "mirror"});
    let r = import_json(&v);
    let c = &r.card;
    assert_eq!(c.name, "");
    assert_eq!(c.data_extra["name"], json!({"not": "a string"}));
    let b = c.character_book.as_ref().unwrap();
    assert_eq!(b.extra["name"], json!(["odd"]));
    let e0 = &b.entries[0];
    assert_eq!(e0.uid, 3);
    assert!(e0.exclude_recursion);
    assert_eq!(e0.extensions["exclude_recursion"], json!(false), "the conflicting spelling is kept");
    assert_eq!(e0.extensions["depth"], json!("deep"), "an unreadable setting is kept");
    assert!(!e0.extensions.contains_key("case_sensitive"), "an equal mirror is dropped");
    assert_eq!(e0.extra["comment"], json!([1, 2]));
    assert_eq!((b.entries[1].uid, b.entries[2].uid), (9, 42));
    // import(export(card)) == card, and the odd values are written back as they were.
    let out = export_card(c, ExportFormat::JsonV3, &ExportOptions::default()).unwrap();
    let back = import_card(&out, &ImportOptions::default()).unwrap();
    assert_eq!(&back.card, c);
    let j: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(j["data"]["name"], json!({"not": "a string"}));
    assert_eq!(j["data"]["character_book"]["entries"][0]["comment"], json!([1, 2]));
    assert_eq!(j["data"]["character_book"]["entries"][0]["excludeRecursion"], json!(true));
    assert_eq!(j["spec"], "chara_card_v3");
}

/// A legacy TavernAI WebP card: EXIF `UserComment` (ASCII header) holding a decimal byte list.
#[test]
fn webp_exif_user_comment_card() {
    let json = serde_json::to_vec(&json!({"name": "Webby", "description": "d", "first_mes": "hi 🌙"})).unwrap();
    let list = json.iter().map(|b| b.to_string()).collect::<Vec<_>>().join(",");
    let mut comment = b"ASCII\0\0\0".to_vec();
    comment.extend_from_slice(list.as_bytes());
    // TIFF (little-endian): IFD0 with one entry, UserComment (0x9286, type 7) pointing at offset 26.
    let mut tiff = b"II*\0".to_vec();
    tiff.extend_from_slice(&8u32.to_le_bytes());
    tiff.extend_from_slice(&1u16.to_le_bytes());
    tiff.extend_from_slice(&0x9286u16.to_le_bytes());
    tiff.extend_from_slice(&7u16.to_le_bytes());
    tiff.extend_from_slice(&(comment.len() as u32).to_le_bytes());
    tiff.extend_from_slice(&26u32.to_le_bytes());
    tiff.extend_from_slice(&0u32.to_le_bytes());
    tiff.extend_from_slice(&comment);
    let mut body = b"WEBP".to_vec();
    body.extend_from_slice(b"VP8X");
    body.extend_from_slice(&10u32.to_le_bytes());
    body.extend_from_slice(&[0; 10]);
    body.extend_from_slice(b"EXIF");
    body.extend_from_slice(&(tiff.len() as u32).to_le_bytes());
    body.extend_from_slice(&tiff);
    if tiff.len() % 2 == 1 {
        body.push(0);
    }
    let mut webp = b"RIFF".to_vec();
    webp.extend_from_slice(&(body.len() as u32).to_le_bytes());
    webp.extend_from_slice(&body);
    let r = import_card(&webp, &ImportOptions::default()).unwrap();
    assert_eq!(r.format.as_str(), "webp");
    assert_eq!(r.source_spec.as_str(), "chara_card_v1");
    assert_eq!(r.card.name, "Webby");
    assert_eq!(r.card.first_mes, "hi 🌙");
}

/// A RisuAI CharX whose `card.json` refers to files the archive does not have.
fn charx_with_dangling_assets() -> Vec<u8> {
    let card = json!({"spec": "chara_card_v3", "spec_version": "3.0", "data": {"name": "Dangle", "extensions": {},
        "first_mes": "hi", "assets": [
            {"type": "icon", "uri": "embeded://assets/icon/images/main.png", "name": "main", "ext": "png"},
            {"type": "emotion", "uri": "__asset:1", "name": "joy", "ext": "png"},
            {"type": "emotion", "uri": "embeded://assets/emotion/images/gone.png", "name": "sad", "ext": "png"}]}});
    let mut w = Writer::new();
    w.add("card.json", &serde_json::to_vec(&card).unwrap(), true).unwrap();
    w.add("assets/icon/images/main.png", &png_with_chunks(&[]), false).unwrap();
    w.finish()
}

#[test]
fn a_card_whose_archive_lacks_an_asset_still_exports() {
    let r = import_card(&charx_with_dangling_assets(), &ImportOptions::default()).unwrap();
    assert!(r.warnings.iter().any(|w| w.code == "asset_missing"), "{:?}", r.warnings);
    let opts = ExportOptions { assets: &r.assets, ..Default::default() };
    for f in [ExportFormat::Png, ExportFormat::JsonV3, ExportFormat::JsonV2, ExportFormat::Charx] {
        let (bytes, ws) =
            export_card_reporting(&r.card, f, &opts).unwrap_or_else(|e| panic!("{f:?}: an imported card must export: {e}"));
        let back = import_card(&bytes, &ImportOptions::default()).unwrap_or_else(|e| panic!("{f:?}: re-import: {e}"));
        assert_eq!(back.card.name, "Dangle");
        if matches!(f, ExportFormat::Png | ExportFormat::Charx) {
            // The files that exist are written; the missing ones keep their reference, with a warning each.
            assert_eq!(ws.iter().filter(|w| w.code == "asset_missing").count(), 2, "{f:?}: {ws:?}");
            let uris: Vec<&str> = back.card.assets.iter().flatten().map(|a| a.uri.as_str()).collect();
            assert!(uris.contains(&"__asset:1"), "{f:?}: {uris:?}");
            assert!(uris.contains(&"embeded://assets/emotion/images/gone.png"), "{f:?}: {uris:?}");
            let icon = back.card.assets.iter().flatten().find(|a| a.name == "main").unwrap();
            if f == ExportFormat::Png {
                assert!(icon.uri.starts_with("data:image/png;base64,"), "{}", icon.uri);
            } else {
                assert_eq!(icon.uri, "embeded://assets/icon/images/main.png");
                assert!(back.assets.iter().any(|a| a.path == "assets/icon/images/main.png"));
            }
        }
    }
}

fn chunk_text<'a>(png: &'a [u8], keyword: &str) -> Option<Vec<u8>> {
    walk(png).chunks.iter().find_map(|c| {
        let kw = c.data.split(|&b| b == 0).next().unwrap();
        (&c.kind == b"tEXt" && kw == keyword.as_bytes())
            .then(|| base64::engine::general_purpose::STANDARD.decode(&c.data[kw.len() + 1..]).unwrap())
    })
}

#[test]
fn png_export_can_leave_the_lorebook_out_of_the_v2_copy() {
    let entries: Vec<Value> = (0..200)
        .map(|i| json!({"keys": [format!("key{i}")], "content": "lore ".repeat(40) + &i.to_string(),
            "enabled": true, "insertion_order": i, "extensions": {}}))
        .collect();
    let r = import_json(&v2(json!({"name": "Booky", "description": "d", "first_mes": "hi", "extensions": {},
        "character_book": {"extensions": {}, "entries": entries}})));
    let full = export_card(&r.card, ExportFormat::Png, &ExportOptions::default()).unwrap();
    let slim =
        export_card(&r.card, ExportFormat::Png, &ExportOptions { omit_v2_lorebook: true, ..Default::default() }).unwrap();
    // The default stays SillyTavern-compatible: the V2 copy carries the book too.
    let v2_full: Value = serde_json::from_slice(&chunk_text(&full, "chara").unwrap()).unwrap();
    assert_eq!(v2_full["data"]["character_book"]["entries"].as_array().unwrap().len(), 200);
    // The slim file is much smaller ...
    assert!(slim.len() * 10 < full.len() * 6, "slim {} vs full {}", slim.len(), full.len());
    // ... a V2-only reader still gets the card from `chara` (without the book) ...
    let v2_slim: Value = serde_json::from_slice(&chunk_text(&slim, "chara").unwrap()).unwrap();
    assert_eq!(v2_slim["spec"], "chara_card_v2");
    assert_eq!(v2_slim["name"], "Booky");
    assert_eq!(v2_slim["data"]["first_mes"], "hi");
    assert!(v2_slim["data"].get("character_book").is_none());
    // ... and a V3 reader (SillyTavern reads `ccv3` first, as we do) gets the whole book.
    let v3: Value = serde_json::from_slice(&chunk_text(&slim, "ccv3").unwrap()).unwrap();
    assert_eq!(v3["data"]["character_book"]["entries"].as_array().unwrap().len(), 200);
    let back = import_card(&slim, &ImportOptions::default()).unwrap();
    assert_eq!(back.card, r.card);
}

/// No message a person reads cites internal question numbers or byte offsets.
#[test]
fn warnings_and_errors_are_written_for_people() {
    let mut messages: Vec<String> = Vec::new();
    let mut collect = |bytes: &[u8]| match import_card(bytes, &ImportOptions::default()) {
        Ok(r) => messages.extend(r.warnings.into_iter().map(|w| w.message)),
        Err(e) => messages.push(e.message().to_string()),
    };
    let quirky = v2(json!({
        "name": "", "description": "", "first_mes": "hi", "alternate_greetings": "one", "tags": "a, b",
        "character_version": 1.5, "creator": "undefined", "character_book": null, "extensions": null,
        "creator_notes": "Creator's notes go here.", "creation_date": "2024-01-02", "modification_date": 1_700_000_000_123i64
    }));
    collect(&serde_json::to_vec(&quirky).unwrap());
    collect(&serde_json::to_vec(&json!({"data": {"name": "NoSpec", "first_mes": "x",
        "extensions": {"talkativeness": "lots", "depth_prompt": {"depth": "", "role": 3}}}})).unwrap());
    let card = serde_json::to_vec(&v2(json!({"name": "P", "extensions": {}}))).unwrap();
    let good = b64(&card);
    let two = png_with_chunks(&[(b"tEXt", text("chara", good.as_bytes())), (b"tEXt", text("chara", b"!!!"))]);
    collect(&two);
    let truncated = &two[..two.len() - 30];
    collect(truncated);
    collect(&two[..60]);
    let mut z = text("chara", &[0]);
    z.extend_from_slice(&miniz_oxide::deflate::compress_to_vec_zlib(good.as_bytes(), 6));
    collect(&png_with_chunks(&[(b"zTXt", z)]));
    collect(&png_with_chunks(&[(b"tEXt", text("chara", b"rcc||xyz"))]));
    collect(&charx_with_dangling_assets());
    for dir in ["tests/fixtures/cards", "tests/fixtures/cards/fuzz"] {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_file() {
                collect(&std::fs::read(p).unwrap());
            }
        }
    }
    assert!(messages.len() > 20, "{messages:?}");
    let internal = regex_lite::Regex::new(r"\(Q\d|\bQ\d+\b|at byte|offset \d|§").unwrap();
    let bad: Vec<&String> = messages.iter().filter(|m| internal.is_match(m)).collect();
    assert!(bad.is_empty(), "messages citing internal references: {bad:#?}");
}
