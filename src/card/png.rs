//! PNG chunk reader and writer for card metadata. Pixels are never decoded.
//!
//! # Layout
//!
//! ```text
//! signature 89 50 4E 47 0D 0A 1A 0A
//! chunk := length:u32be  type:4 ASCII  data[length]  crc:u32be (CRC-32 of type+data)
//! tEXt  := keyword 00 text                       (Latin-1; card payloads are base64, so ASCII)
//! zTXt  := keyword 00 method(0) zlib-stream
//! iTXt  := keyword 00 flag method lang 00 translated-keyword 00 text (UTF-8, zlib if flag = 1)
//! ```
//!
//! Card text (`chara` = V1/V2/V3 JSON, `ccv3` = V3 JSON, base64 of UTF-8) may sit in
//! any of the three text chunk types, before or after `IDAT`, and several times.
//! The reader walks every chunk up to `IEND`, ignores bad CRCs on other chunks
//! (editors break them), and picks `ccv3` before `chara`, the *last* decodable one
//! of each (tools that append a new card leave the old one in place).
//! RisuAI's `chara-ext-asset_:N` chunks hold base64 asset bytes referenced as
//! `__asset:N`.

use std::borrow::Cow;

use crate::card::decode;
use crate::card::limits::{Budget, Limits};
use crate::card::warning::Warnings;
use crate::error::{Error, ErrorCode};

/// The 8-byte PNG signature.
pub const SIGNATURE: &[u8; 8] = b"\x89PNG\r\n\x1a\n";

/// One chunk, borrowed from the file.
#[derive(Debug, Clone, Copy)]
pub struct Chunk<'a> {
    /// Four-letter type.
    pub kind: [u8; 4],
    /// Chunk data.
    pub data: &'a [u8],
    /// The stored CRC.
    pub crc: u32,
    /// Byte offset of the length field.
    pub offset: usize,
}

impl Chunk<'_> {
    /// True when the stored CRC matches type + data.
    pub fn crc_ok(&self) -> bool {
        let mut h = crc32fast::Hasher::new();
        h.update(&self.kind);
        h.update(self.data);
        h.finalize() == self.crc
    }
    /// Total bytes on disk (length + type + data + crc).
    pub fn total_len(&self) -> usize {
        12 + self.data.len()
    }
}

/// Result of walking a PNG.
#[derive(Debug, Default)]
pub struct Walk<'a> {
    /// The chunks in file order (up to and including IEND).
    pub chunks: Vec<Chunk<'a>>,
    /// Set when the file ends inside a chunk or before IEND.
    pub truncated: Option<String>,
    /// Bytes after IEND (e.g. an appended zip).
    pub trailing: usize,
}

/// Walks all chunks. Never fails: damage is reported in [`Walk::truncated`].
pub fn walk(bytes: &[u8]) -> Walk<'_> {
    let mut w = Walk::default();
    let mut pos = SIGNATURE.len();
    if bytes.len() < pos {
        w.truncated = Some("the file is cut short: it ends inside the PNG signature".into());
        return w;
    }
    loop {
        if pos == bytes.len() {
            w.truncated = Some("the file is cut short: the PNG image data does not end properly".into());
            break;
        }
        if bytes.len() - pos < 12 {
            w.truncated = Some("the file is cut short: it ends in the middle of a PNG chunk".into());
            break;
        }
        let len = u32::from_be_bytes(bytes[pos..pos + 4].try_into().unwrap()) as usize;
        let kind: [u8; 4] = bytes[pos + 4..pos + 8].try_into().unwrap();
        if len > (1 << 31) || bytes.len() - pos - 12 < len {
            w.truncated = Some(format!(
                "the file is cut short: its `{}` chunk is incomplete",
                String::from_utf8_lossy(&kind)
            ));
            break;
        }
        let data = &bytes[pos + 8..pos + 8 + len];
        let crc = u32::from_be_bytes(bytes[pos + 8 + len..pos + 12 + len].try_into().unwrap());
        w.chunks.push(Chunk { kind, data, crc, offset: pos });
        pos += 12 + len;
        if &kind == b"IEND" {
            w.trailing = bytes.len() - pos;
            break;
        }
    }
    w
}

/// A decoded text chunk.
#[derive(Debug)]
pub struct TextChunk<'a> {
    /// Keyword bytes (Latin-1).
    pub keyword: &'a [u8],
    /// The text bytes (inflated for zTXt/compressed iTXt).
    pub text: Cow<'a, [u8]>,
}

/// Reads a tEXt/zTXt/iTXt chunk. Returns `Ok(None)` for other chunk types or a
/// malformed text chunk. Compressed text is inflated up to `per_item` bytes.
pub fn read_text<'a>(c: &Chunk<'a>, per_item: usize, budget: &mut Budget) -> Result<Option<TextChunk<'a>>, Error> {
    let d = c.data;
    let Some(nul) = d.iter().position(|&b| b == 0) else { return Ok(None) };
    let keyword = &d[..nul];
    let rest = &d[nul + 1..];
    match &c.kind {
        b"tEXt" => Ok(Some(TextChunk { keyword, text: Cow::Borrowed(rest) })),
        b"zTXt" => {
            if rest.is_empty() {
                return Ok(None);
            }
            let text = decode::inflate(&rest[1..], true, per_item, budget, "zTXt chunk")?;
            Ok(Some(TextChunk { keyword, text: Cow::Owned(text) }))
        }
        b"iTXt" => {
            if rest.len() < 2 {
                return Ok(None);
            }
            let compressed = rest[0] == 1;
            let after = &rest[2..];
            let Some(l) = after.iter().position(|&b| b == 0) else { return Ok(None) };
            let after = &after[l + 1..];
            let Some(t) = after.iter().position(|&b| b == 0) else { return Ok(None) };
            let text = &after[t + 1..];
            if compressed {
                let t = decode::inflate(text, true, per_item, budget, "iTXt chunk")?;
                Ok(Some(TextChunk { keyword, text: Cow::Owned(t) }))
            } else {
                Ok(Some(TextChunk { keyword, text: Cow::Borrowed(text) }))
            }
        }
        _ => Ok(None),
    }
}

/// Card-related content found in a PNG.
#[derive(Debug, Default)]
pub struct PngCardChunks {
    /// `ccv3` payloads in file order (raw chunk text).
    pub ccv3: Vec<Vec<u8>>,
    /// `chara` payloads in file order.
    pub chara: Vec<Vec<u8>>,
    /// `chara-ext-asset_:N` payloads: (N, raw base64 text).
    pub ext_assets: Vec<(String, Vec<u8>)>,
    /// `naidata` payloads (NovelAI lorebook PNG).
    pub naidata: Vec<Vec<u8>>,
    /// The `eXIf` chunk, if any (Backyard legacy cards).
    pub exif: Option<Vec<u8>>,
    /// Damage description when the file was cut short.
    pub truncated: Option<String>,
}

/// Collects every card chunk of a PNG.
pub fn collect(bytes: &[u8], limits: &Limits, budget: &mut Budget, w: &mut Warnings) -> Result<PngCardChunks, Error> {
    let walk = walk(bytes);
    let mut out = PngCardChunks { truncated: walk.truncated.clone(), ..Default::default() };
    for c in &walk.chunks {
        match &c.kind {
            b"tEXt" | b"zTXt" | b"iTXt" => {
                // Cheap keyword check before any inflate.
                let kw_end = c.data.iter().position(|&b| b == 0).unwrap_or(c.data.len());
                let kw = &c.data[..kw_end];
                let is_card = kw.eq_ignore_ascii_case(b"chara") || kw.eq_ignore_ascii_case(b"ccv3");
                let is_asset = kw.len() > 16 && kw[..16].eq_ignore_ascii_case(b"chara-ext-asset_");
                let is_nai = kw.eq_ignore_ascii_case(b"naidata");
                if !(is_card || is_asset || is_nai) {
                    continue;
                }
                if !c.crc_ok() {
                    w.push(
                        "png_bad_crc",
                        format!("the PNG's `{}` text chunk is damaged (its checksum does not match); it was read anyway", String::from_utf8_lossy(kw)),
                    );
                }
                let t = match read_text(c, limits.max_json_bytes, budget) {
                    Ok(Some(t)) => t,
                    Ok(None) => continue,
                    Err(e) if e.code() == ErrorCode::TooLarge => return Err(e),
                    Err(e) => {
                        w.push(
                            "png_chunk_unreadable",
                            format!("a `{}` text chunk in the PNG could not be read and was skipped: {}", String::from_utf8_lossy(kw), e.message()),
                        );
                        continue;
                    }
                };
                if &c.kind != b"tEXt" {
                    w.push(
                        "png_compressed_text",
                        format!(
                            "the card's `{}` text is stored compressed ({}); it was read, but SillyTavern and RisuAI only read uncompressed text, so re-export the card for them",
                            String::from_utf8_lossy(kw),
                            String::from_utf8_lossy(&c.kind)
                        ),
                    );
                }
                let text = t.text.into_owned();
                if is_asset {
                    let id = String::from_utf8_lossy(&kw[16..]).trim_start_matches(':').to_string();
                    out.ext_assets.push((id, text));
                } else if is_nai {
                    out.naidata.push(text);
                } else if kw.eq_ignore_ascii_case(b"ccv3") {
                    out.ccv3.push(text);
                } else {
                    out.chara.push(text);
                }
            }
            b"eXIf" => out.exif = Some(c.data.to_vec()),
            _ => {}
        }
    }
    Ok(out)
}

/// Decodes a card chunk payload to JSON bytes: raw JSON if it starts with `{`
/// (after whitespace), else lenient base64. `rcc||` (RisuAI encrypted) is
/// `unsupported_format`.
pub fn payload_to_json_bytes<'a>(text: &'a [u8], limits: &Limits) -> Result<Cow<'a, [u8]>, Error> {
    let start = text.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(text.len());
    let t = &text[start..];
    if t.first() == Some(&b'{') {
        return Ok(Cow::Borrowed(t));
    }
    if t.starts_with(b"rcc||") {
        return Err(Error::new(
            ErrorCode::UnsupportedFormat,
            "this is an encrypted RisuAI card, which cannot be read",
        ));
    }
    if t.len() / 4 * 3 > limits.max_json_bytes + 3 {
        return Err(Error::new(
            ErrorCode::TooLarge,
            format!("the card text in the PNG is about {} bytes; the limit is {}", t.len() / 4 * 3, limits.max_json_bytes),
        ));
    }
    decode::b64_decode_lenient(t)
        .map(Cow::Owned)
        .ok_or_else(|| Error::new(ErrorCode::BadJson, "the card text in the PNG is neither base64 nor JSON"))
}

/// Writes one chunk (length, type, data, CRC) to `out`.
pub fn write_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut h = crc32fast::Hasher::new();
    h.update(kind);
    h.update(data);
    out.extend_from_slice(&h.finalize().to_be_bytes());
}

/// Is this text chunk one of ours to replace (`chara`, `ccv3`, `chara-ext-asset_*`)?
fn is_card_text_chunk(c: &Chunk<'_>) -> bool {
    if !matches!(&c.kind, b"tEXt" | b"zTXt" | b"iTXt") {
        return false;
    }
    let kw_end = c.data.iter().position(|&b| b == 0).unwrap_or(c.data.len());
    let kw = &c.data[..kw_end];
    kw.eq_ignore_ascii_case(b"chara")
        || kw.eq_ignore_ascii_case(b"ccv3")
        || (kw.len() >= 16 && kw[..16].eq_ignore_ascii_case(b"chara-ext-asset_"))
}

/// Rebuilds a PNG with the given text chunks (keyword, base64 text) in place of
/// every old card chunk. The new chunks go right before
/// `IEND`, or before the first remaining text chunk so that readers taking the
/// first tEXt chunk (Agnai) see the card first. Every other chunk (colour, APNG,
/// other metadata) is kept byte-for-byte.
pub fn embed_text_chunks(png: &[u8], texts: &[(&str, &[u8])]) -> Result<Vec<u8>, Error> {
    if !png.starts_with(SIGNATURE) {
        return Err(Error::invalid_argument("the avatar is not a PNG; convert it to PNG first (e.g. with a canvas)"));
    }
    let walk = walk(png);
    if let Some(t) = walk.truncated {
        return Err(Error::new(ErrorCode::Truncated, format!("the avatar image is a damaged PNG ({t})")));
    }
    let kept: Vec<&Chunk<'_>> = walk.chunks.iter().filter(|c| !is_card_text_chunk(c)).collect();
    let insert_at = kept
        .iter()
        .position(|c| matches!(&c.kind, b"tEXt" | b"zTXt" | b"iTXt"))
        .or_else(|| kept.iter().position(|c| &c.kind == b"IEND"))
        .unwrap_or(kept.len());
    // An insert point before IHDR would be invalid; text chunks never come first in a valid PNG.
    let insert_at = insert_at.max(1.min(kept.len()));
    let extra: usize = texts.iter().map(|(k, t)| 13 + k.len() + t.len()).sum();
    let mut out = Vec::with_capacity(png.len() + extra);
    out.extend_from_slice(SIGNATURE);
    for (i, c) in kept.iter().enumerate() {
        if i == insert_at {
            for (k, t) in texts {
                let mut data = Vec::with_capacity(k.len() + 1 + t.len());
                data.extend_from_slice(k.as_bytes());
                data.push(0);
                data.extend_from_slice(t);
                write_chunk(&mut out, b"tEXt", &data);
            }
        }
        out.extend_from_slice(&png[c.offset..c.offset + c.total_len()]);
    }
    Ok(out)
}

/// A generated placeholder avatar (256×256 RGB, a soft two-colour gradient derived
/// from `seed`, e.g. the card name), encoded with the `png` crate.
pub fn placeholder_png(seed: &str) -> Vec<u8> {
    let h = seed.bytes().fold(0x811c9dc5u32, |h, b| (h ^ b as u32).wrapping_mul(0x01000193));
    let c1 = [(h & 0xff) as u8 / 2 + 64, ((h >> 8) & 0xff) as u8 / 2 + 64, ((h >> 16) & 0xff) as u8 / 2 + 64];
    let c2 = [c1[2] / 2, c1[0] / 2, c1[1] / 2];
    const N: u32 = 256;
    let mut pixels = Vec::with_capacity((N * N * 3) as usize);
    for y in 0..N {
        for _x in 0..N {
            for ch in 0..3 {
                let a = c1[ch] as u32 * (N - 1 - y) + c2[ch] as u32 * y;
                pixels.push((a / (N - 1)) as u8);
            }
        }
    }
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, N, N);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        // Writing into a Vec cannot fail for a well-formed header.
        let mut wr = enc.write_header().expect("png header");
        wr.write_image_data(&pixels).expect("png data");
    }
    out
}
