//! Backyard/Faraday legacy character PNGs: the card is
//! base64 (or raw) JSON `{"version": 1..4, "character": {...}}` in the EXIF
//! `UserComment` tag (0x9286) of a PNG `eXIf` chunk.
//!
//! EXIF is a TIFF structure: `II*\0` (little-endian) or `MM\0*` (big-endian), the
//! offset of IFD0, then IFDs of 12-byte entries `tag u16, type u16, count u32,
//! value-or-offset u32`. `UserComment` lives in the Exif sub-IFD (pointer tag
//! 0x8769) and starts with an 8-byte charset header (`ASCII\0\0\0`, `UNICODE\0`,
//! or NULs).
//!
//! Legacy TavernAI WebP cards use the same tag in the WebP `EXIF` chunk (RIFF container:
//! `RIFF size WEBP` then `fourcc size:u32le data` chunks, padded to even sizes). Their
//! payload is raw JSON, base64 JSON, or a comma-separated list of decimal byte values
//! (all three occur in the wild).

use serde_json::{Map, Value};

use crate::card::archive::byaf_macros_to_tavern;
use crate::card::decode;
use crate::card::lenient;
use crate::card::limits::Limits;
use crate::card::model::Card;
use crate::card::warning::Warnings;
use crate::error::Error;
use crate::lorebook::Lorebook;

struct Tiff<'a> {
    b: &'a [u8],
    le: bool,
}

impl Tiff<'_> {
    fn u16(&self, at: usize) -> Option<u16> {
        let s: [u8; 2] = self.b.get(at..at + 2)?.try_into().ok()?;
        Some(if self.le { u16::from_le_bytes(s) } else { u16::from_be_bytes(s) })
    }
    fn u32(&self, at: usize) -> Option<u32> {
        let s: [u8; 4] = self.b.get(at..at + 4)?.try_into().ok()?;
        Some(if self.le { u32::from_le_bytes(s) } else { u32::from_be_bytes(s) })
    }
    /// Finds `tag` in the IFD at `off`: returns (type, count, value offset field position).
    fn find(&self, off: usize, tag: u16) -> Option<(u16, u32, usize)> {
        let n = self.u16(off)? as usize;
        for i in 0..n.min(512) {
            let e = off + 2 + i * 12;
            if self.u16(e)? == tag {
                return Some((self.u16(e + 2)?, self.u32(e + 4)?, e + 8));
            }
        }
        None
    }
}

/// Extracts the `UserComment` bytes (without the charset header) from EXIF data.
pub fn user_comment(exif: &[u8]) -> Option<Vec<u8>> {
    let b = exif.strip_prefix(b"Exif\0\0").unwrap_or(exif);
    let le = match b.get(..4)? {
        b"II*\0" => true,
        b"MM\0*" => false,
        _ => return None,
    };
    let t = Tiff { b, le };
    let ifd0 = t.u32(4)? as usize;
    let (ty, count, at) = match t.find(ifd0, 0x9286) {
        Some(x) => x,
        None => {
            let (_, _, p) = t.find(ifd0, 0x8769)?;
            let sub = t.u32(p)? as usize;
            t.find(sub, 0x9286)?
        }
    };
    if ty != 7 && ty != 2 {
        return None;
    }
    let count = count as usize;
    let data = if count <= 4 { b.get(at..at + count)? } else { b.get(t.u32(at)? as usize..)?.get(..count)? };
    let (header, body) = if data.len() >= 8 { data.split_at(8) } else { (&data[..0], data) };
    if header.starts_with(b"UNICODE") {
        // UTF-16 in the TIFF byte order.
        let units: Vec<u16> = body
            .chunks_exact(2)
            .map(|c| if le { u16::from_le_bytes([c[0], c[1]]) } else { u16::from_be_bytes([c[0], c[1]]) })
            .collect();
        return Some(String::from_utf16_lossy(&units).into_bytes());
    }
    let body = if header.iter().all(|&c| c == 0) || header.starts_with(b"ASCII") { body } else { data };
    let end = body.iter().position(|&c| c == 0).unwrap_or(body.len());
    Some(body[..end].to_vec())
}

/// Reads a Backyard legacy card from EXIF, if there is one.
pub fn backyard_from_exif(exif: &[u8], limits: &Limits, w: &mut Warnings) -> Result<Option<Card>, Error> {
    let Some(text) = user_comment(exif) else { return Ok(None) };
    let json_bytes = match crate::card::png::payload_to_json_bytes(&text, limits) {
        Ok(b) => b.into_owned(),
        Err(_) => return Ok(None),
    };
    let Ok(v) = decode::parse_json(&json_bytes, "the EXIF UserComment", limits, w) else { return Ok(None) };
    let Some(ch) = v.get("character").and_then(Value::as_object) else { return Ok(None) };
    let s = |k: &str| ch.get(k).and_then(lenient::string).unwrap_or_default();
    let mut card = Card {
        name: {
            let n = s("aiName");
            if n.is_empty() {
                s("aiDisplayName")
            } else {
                n
            }
        },
        description: byaf_macros_to_tavern(&s("aiPersona")),
        scenario: byaf_macros_to_tavern(&s("scenario")),
        first_mes: byaf_macros_to_tavern(&s("firstMessage")),
        system_prompt: byaf_macros_to_tavern(&s("basePrompt")),
        mes_example: byaf_macros_to_tavern(&s("customDialogue")),
        creation_date: ch.get("createdAt").and_then(Value::as_str).and_then(decode::parse_iso8601),
        modification_date: ch.get("updatedAt").and_then(Value::as_str).and_then(decode::parse_iso8601),
        ..Default::default()
    };
    if ch.get("isNSFW").and_then(lenient::boolean) == Some(true) {
        card.tags.push("nsfw".into());
    }
    if let Some(items) = ch.get("loreItems").and_then(Value::as_array) {
        let mut book = Lorebook::default();
        for (i, item) in items.iter().take(limits.max_lorebook_entries).enumerate() {
            let e = crate::card::archive::lore_item_entry(item, i, w);
            book.entries.push(e);
        }
        if !items.is_empty() {
            card.character_book = Some(book);
        }
    }
    let mut backyard = Map::new();
    for (k, v) in ch {
        if !card.backyard_date_read(k)
            && !matches!(
                k.as_str(),
                "aiName"
                    | "aiPersona"
                    | "scenario"
                    | "firstMessage"
                    | "basePrompt"
                    | "customDialogue"
                    | "loreItems"
                    | "isNSFW"
            )
        {
            backyard.insert(k.clone(), v.clone());
        }
    }
    if let Some(ver) = v.get("version") {
        backyard.insert("version".into(), ver.clone());
    }
    if let Some(dn) = ch.get("aiDisplayName").and_then(Value::as_str) {
        card.extensions.insert("display_name".into(), dn.into());
    }
    card.extensions.insert("backyard".into(), Value::Object(backyard));
    w.push("backyard_legacy", "read a legacy Backyard character PNG (EXIF UserComment)");
    Ok(Some(card))
}

/// Finds the `EXIF` chunk of a WebP (RIFF) file.
fn webp_exif(bytes: &[u8]) -> Option<&[u8]> {
    let mut p = 12;
    while p + 8 <= bytes.len() {
        let fourcc = &bytes[p..p + 4];
        let size = u32::from_le_bytes(bytes[p + 4..p + 8].try_into().ok()?) as usize;
        let data = bytes.get(p + 8..p + 8 + size)?;
        if fourcc == b"EXIF" {
            return Some(data);
        }
        p = p + 8 + size + (size & 1);
    }
    None
}

/// Decodes a `"123,34,..."` decimal byte list (Agnai/TavernAI WebP form).
fn byte_list(text: &[u8]) -> Option<Vec<u8>> {
    let t = std::str::from_utf8(text).ok()?.trim();
    if !t.bytes().next()?.is_ascii_digit() || !t.contains(',') {
        return None;
    }
    t.split(',').map(|x| x.trim().parse::<u8>().ok()).collect()
}

/// Reads a legacy TavernAI WebP card (EXIF `UserComment`).
pub fn card_from_webp(
    bytes: &[u8],
    limits: &Limits,
    file_name: Option<&str>,
    w: &mut Warnings,
) -> Result<(Card, crate::card::SourceSpec), Error> {
    use crate::error::ErrorCode;
    let exif = webp_exif(bytes).ok_or_else(|| Error::new(ErrorCode::NotACard, "the WebP has no EXIF chunk"))?;
    let text = user_comment(exif).ok_or_else(|| Error::new(ErrorCode::NotACard, "the WebP EXIF has no UserComment"))?;
    let json = match byte_list(&text) {
        Some(b) => b,
        None => crate::card::png::payload_to_json_bytes(&text, limits)?.into_owned(),
    };
    let v = decode::parse_json(&json, "the WebP UserComment", limits, w)?;
    w.push("webp_card", "read a legacy WebP card (EXIF UserComment); SillyTavern no longer imports WebP");
    crate::card::json::card_from_json_value(v, limits, file_name, w)
}
