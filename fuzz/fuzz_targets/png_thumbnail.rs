//! Fuzz target for the PNG thumbnail path (our row-by-row PNG decoder over miniz_oxide,
//! Adam7 positions, the area filter, the encoder) on untrusted bytes.
//!
//! The first input byte picks the longest side (1..=64) and, with its top bit, whether the
//! chunk CRCs of the rest are fixed up first (so mutations reach the image data instead of
//! dying on a checksum). Laws: never a panic; whenever the png crate decodes the image, our
//! decoder gives exactly the same RGBA pixels (differential oracle); a made thumbnail has the
//! promised size, is a PNG that reads back at that size, and thumbnailing it again keeps it.
#![no_main]

use nextchat_tavern::thumbnail::{decode_png_rgba, png_size, png_thumbnail, target_size, ThumbnailOptions};

/// Recomputes every chunk's CRC (keeps lengths and types as they are).
fn fix_crcs(bytes: &mut [u8]) {
    let mut at = 8;
    while at + 12 <= bytes.len() {
        let len = u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize;
        let Some(end) = (at + 8).checked_add(len) else { return };
        if end + 4 > bytes.len() {
            return;
        }
        let crc = crc32fast::hash(&bytes[at + 4..end]);
        bytes[end..end + 4].copy_from_slice(&crc.to_be_bytes());
        at = end + 4;
    }
}

/// True when a PLTE chunk's length is not a multiple of 3: png 0.18.1 panics on those
/// (palette.rs, slice out of range) instead of failing, so they get no reference.
fn odd_palette(bytes: &[u8]) -> bool {
    let mut at = 8;
    while at + 12 <= bytes.len() {
        let len = u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize;
        if &bytes[at + 4..at + 8] == b"PLTE" && len % 3 != 0 {
            return true;
        }
        let Some(next) = (at + 12).checked_add(len) else { return false };
        at = next;
    }
    false
}

/// The png crate's RGBA8 reading, if it reads the image.
fn reference(bytes: &[u8], max_pixels: u64) -> Option<(u32, u32, Vec<u8>)> {
    if odd_palette(bytes) {
        return None;
    }
    let mut dec = png::Decoder::new(std::io::Cursor::new(bytes));
    dec.set_transformations(png::Transformations::normalize_to_color8());
    let (w, h) = {
        let i = dec.read_header_info().ok()?;
        (i.width, i.height)
    };
    if u64::from(w) * u64::from(h) > max_pixels {
        return None;
    }
    let mut r = dec.read_info().ok()?;
    let mut buf = vec![0; r.output_buffer_size()?];
    let info = r.next_frame(&mut buf).ok()?;
    let ch = info.color_type.samples();
    let rgba = buf[..info.buffer_size()]
        .chunks_exact(ch)
        .flat_map(|p| match ch {
            1 => [p[0], p[0], p[0], 255],
            2 => [p[0], p[0], p[0], p[1]],
            3 => [p[0], p[1], p[2], 255],
            _ => [p[0], p[1], p[2], p[3]],
        })
        .collect();
    Some((info.width, info.height, rgba))
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else { return };
    let mut bytes = rest.to_vec();
    if first & 0x80 != 0 {
        fix_crcs(&mut bytes);
    }
    // A small pixel budget keeps each run fast.
    let opts = ThumbnailOptions { max_side: 1 + u32::from(first & 0x3F), max_pixels: 1_000_000 };
    let ours = decode_png_rgba(&bytes, &opts);
    if let Some(want) = reference(&bytes, opts.max_pixels) {
        match &ours {
            Ok(got) => assert!(got == &want, "pixels differ from the png crate's"),
            Err(e) => panic!("the png crate decodes it, we fail: {e}"),
        }
    }
    let Ok(t) = png_thumbnail(&bytes, &opts) else {
        assert!(ours.is_err(), "decoded but no thumbnail");
        return;
    };
    assert!(t.width <= opts.max_side && t.height <= opts.max_side, "{}×{} > {}", t.width, t.height, opts.max_side);
    assert_eq!((t.width, t.height), target_size(t.source_width, t.source_height, opts.max_side));
    assert_eq!(png_size(&t.png).unwrap(), (t.width, t.height));
    let again = png_thumbnail(&t.png, &opts).unwrap();
    assert_eq!((again.width, again.height), (t.width, t.height));
});
