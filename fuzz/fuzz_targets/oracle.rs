// Shared by the fuzz target (fuzz_targets/import_card.rs) and the crash regression test
// (tests/cards_fuzz_regressions.rs), which `include!` this file.
//
// The first byte picks how the rest is presented, so the fuzzer reaches deep code without
// having to discover PNG CRCs, zlib or zip structures by itself: raw bytes, a valid PNG
// carrying the payload in a `chara`/`ccv3` tEXt, zTXt or iTXt chunk (raw, base64 or zlib),
// a CharX/BYAF zip with the payload as `card.json`/`manifest.json`, or the lorebook
// importer. Every successful import must also satisfy `import(export_v3(card)) == card`
// and survive a PNG and a CharX export.

use base64::Engine;
use nextchat_tavern::card::export::{export_card, ExportFormat, ExportOptions};
use nextchat_tavern::card::{import_card, ImportOptions, Limits};
use nextchat_tavern::lorebook::import_lorebook;

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut h = crc32fast::Hasher::new();
    h.update(kind);
    h.update(data);
    out.extend_from_slice(&h.finalize().to_be_bytes());
}

fn png_with(kind: &[u8; 4], body: &[u8], after_idat: bool) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]);
    if !after_idat {
        chunk(&mut out, kind, body);
    }
    chunk(&mut out, b"IDAT", &[0x78, 0x9c, 0x63, 0x60, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01]);
    if after_idat {
        chunk(&mut out, kind, body);
    }
    chunk(&mut out, b"IEND", &[]);
    out
}

fn zip_with(name: &str, data: &[u8]) -> Vec<u8> {
    let crc = crc32fast::hash(data);
    let mut o = Vec::new();
    o.extend_from_slice(b"PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00\x21\x00");
    o.extend_from_slice(&crc.to_le_bytes());
    o.extend_from_slice(&(data.len() as u32).to_le_bytes());
    o.extend_from_slice(&(data.len() as u32).to_le_bytes());
    o.extend_from_slice(&(name.len() as u16).to_le_bytes());
    o.extend_from_slice(&0u16.to_le_bytes());
    o.extend_from_slice(name.as_bytes());
    o.extend_from_slice(data);
    let cd = o.len() as u32;
    o.extend_from_slice(b"PK\x01\x02\x14\x00\x14\x00\x00\x00\x00\x00\x00\x00\x21\x00");
    o.extend_from_slice(&crc.to_le_bytes());
    o.extend_from_slice(&(data.len() as u32).to_le_bytes());
    o.extend_from_slice(&(data.len() as u32).to_le_bytes());
    o.extend_from_slice(&(name.len() as u16).to_le_bytes());
    o.extend_from_slice(&[0; 12]);
    o.extend_from_slice(&0u32.to_le_bytes());
    o.extend_from_slice(name.as_bytes());
    let cd_size = o.len() as u32 - cd;
    o.extend_from_slice(b"PK\x05\x06\x00\x00\x00\x00\x01\x00\x01\x00");
    o.extend_from_slice(&cd_size.to_le_bytes());
    o.extend_from_slice(&cd.to_le_bytes());
    o.extend_from_slice(&0u16.to_le_bytes());
    o
}

/// JSON equality where floats may differ in the last bit: serde_json is built without
/// `float_roundtrip`, so a float like `9.7e92` can come back as `9.700000000000001e92`.
fn json_close(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value::*;
    match (a, b) {
        (Number(x), Number(y)) if x.is_f64() || y.is_f64() => {
            let (x, y) = (x.as_f64().unwrap_or(f64::NAN), y.as_f64().unwrap_or(f64::NAN));
            x == y || (x - y).abs() <= 4.0 * f64::EPSILON * x.abs().max(y.abs())
        }
        (Array(x), Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_close(p, q)),
        // Key order is not part of the model (serde_json maps compare as maps).
        (Object(x), Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| json_close(v, w)))
        }
        _ => a == b,
    }
}

/// The round-trip law: equal cards, up to the last bit of floats (see `json_close`).
fn assert_same_card(back: &nextchat_tavern::card::Card, got: &nextchat_tavern::card::Card) {
    if back != got {
        let (a, b) = (back.to_v3_value(), got.to_v3_value());
        assert!(json_close(&a, &b), "V3 JSON round trip changed the card:\n{a}\n{b}");
    }
}

fn text_body(keyword: &str, payload: &[u8]) -> Vec<u8> {
    let mut b = keyword.as_bytes().to_vec();
    b.push(0);
    b.extend_from_slice(payload);
    b
}

/// Presents `data` to the importer (see the module docs) and checks the round-trip law on
/// every accepted card. Panics on any violation.
pub fn run_one(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else { return };
    let kw = if mode & 0x80 != 0 { "ccv3" } else { "chara" };
    let after = mode & 0x40 != 0;
    let b64 = || base64::engine::general_purpose::STANDARD.encode(rest);
    let input: Vec<u8> = match mode % 9 {
        0 => rest.to_vec(),
        1 => png_with(b"tEXt", &text_body(kw, rest), after),
        2 => png_with(b"tEXt", &text_body(kw, b64().as_bytes()), after),
        3 => {
            let mut body = text_body(kw, &[0]);
            body.extend_from_slice(&miniz_oxide::deflate::compress_to_vec_zlib(b64().as_bytes(), 1));
            png_with(b"zTXt", &body, after)
        }
        4 => {
            let mut body = text_body(kw, &[1, 0]);
            body.extend_from_slice(b"en\0\0");
            body.extend_from_slice(&miniz_oxide::deflate::compress_to_vec_zlib(rest, 1));
            png_with(b"iTXt", &body, after)
        }
        5 => zip_with("card.json", rest),
        6 => zip_with("manifest.json", rest),
        7 => {
            let _ = import_lorebook(rest, &Limits::default());
            return;
        }
        _ => png_with(b"tEXt", &text_body(kw, rest), after)[..(8 + rest.len() % 64).min(60)].to_vec(),
    };
    let limits = Limits { max_decompressed_bytes: 8 << 20, max_json_bytes: 4 << 20, ..Limits::default() };
    let opts = ImportOptions { limits, file_name: None };
    let Ok(got) = import_card(&input, &opts) else { return };
    // Round-trip law on whatever we accepted.
    let avatar = png_with(b"tEXt", b"Comment\0x", false);
    let eo = ExportOptions { avatar: Some(&avatar), assets: &got.assets, now: None, omit_v2_lorebook: false };
    let v3 = export_card(&got.card, ExportFormat::JsonV3, &eo).expect("V3 export of an imported card");
    let back = import_card(&v3, &ImportOptions::default()).expect("re-import of our own V3 JSON");
    assert_same_card(&back.card, &got.card);
    // A card we accepted always exports, in every format.
    let png = export_card(&got.card, ExportFormat::Png, &eo).expect("PNG export of an imported card");
    let back = import_card(&png, &ImportOptions::default()).expect("re-import of our own PNG");
    assert_eq!(back.card.name, got.card.name);
    let charx = export_card(&got.card, ExportFormat::Charx, &eo).expect("CharX export of an imported card");
    import_card(&charx, &ImportOptions::default()).expect("re-import of our own CharX");
    export_card(&got.card, ExportFormat::JsonV2, &eo).expect("V2 JSON export of an imported card");
}
