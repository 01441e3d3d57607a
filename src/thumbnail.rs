//! Thumbnails of images, in pure Rust: a PNG is decoded row by row (every colour type and bit
//! depth, interlaced or not; the first image of an APNG), downscaled with an exact area (box)
//! filter in integer arithmetic on premultiplied alpha — so transparent pixels never darken
//! their neighbours — keeping its aspect ratio, and encoded as a PNG (RGB when opaque, else
//! RGBA) without any of the source's metadata chunks (a character card's PNG carries the whole
//! card in a text chunk: its thumbnail does not).
//!
//! The decoder is our own (~300 lines over `miniz_oxide`, which the module already carries for
//! card text chunks) rather than the `png` crate's: that one adds ~22 KB gzip to the wasm
//! module (and png 0.18.1 panics on some malformed palettes). The `png_thumbnail` fuzz target
//! checks it pixel for pixel against the `png` crate; encoding still uses the `png` crate.
//!
//! Images are never enlarged: one whose sides already fit is re-encoded at its size.
//!
//! Work is bounded: the header is read first and an image of more than
//! [`ThumbnailOptions::max_pixels`] pixels is refused with `too_large` before any pixel is
//! decoded; memory is two rows (rows over 64 MiB: `too_large`), a 32 KiB inflate window and
//! 32 bytes per thumbnail pixel, whatever the size of the source. Damaged data is an error
//! (`unsupported_format`, or `truncated` when the image data ends early), never a panic;
//! chunk CRCs are not checked (a damaged checksum is no reason to refuse a preview).
//!
//! Other formats (JPEG, WebP, GIF, AVIF…) need a decoder this crate does not carry: an
//! [`ImageDecoder`] supplies one where the platform has it (the browser: `store::web`).

use serde::{Deserialize, Serialize};

use crate::{Error, ErrorCode, Result};

/// Default longest side of a thumbnail, in pixels.
pub const DEFAULT_MAX_SIDE: u32 = 256;
/// Largest accepted [`ThumbnailOptions::max_side`].
pub const MAX_SIDE_LIMIT: u32 = 1024;
/// Default largest source image, in pixels (50 megapixels, e.g. 8660×5773).
pub const DEFAULT_MAX_PIXELS: u64 = 50_000_000;
/// Largest accepted [`ThumbnailOptions::max_pixels`].
pub const MAX_PIXELS_LIMIT: u64 = 1_000_000_000;
/// Longest PNG row (bytes) the decoder accepts.
const DECODER_BUFFER_BYTES: usize = 64 << 20;

/// How thumbnails are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ThumbnailOptions {
    /// Longest side of the thumbnail (1 ..= [`MAX_SIDE_LIMIT`], default [`DEFAULT_MAX_SIDE`]).
    pub max_side: u32,
    /// Sources with more pixels are refused with `too_large` (default [`DEFAULT_MAX_PIXELS`]).
    pub max_pixels: u64,
}

impl Default for ThumbnailOptions {
    fn default() -> Self {
        ThumbnailOptions { max_side: DEFAULT_MAX_SIDE, max_pixels: DEFAULT_MAX_PIXELS }
    }
}

impl ThumbnailOptions {
    /// Checks the ranges.
    pub fn validate(&self) -> Result<()> {
        if !(1..=MAX_SIDE_LIMIT).contains(&self.max_side) {
            return Err(Error::invalid_argument(format!(
                "maxSide must be 1..={MAX_SIDE_LIMIT}, not {}",
                self.max_side
            )));
        }
        if !(1..=MAX_PIXELS_LIMIT).contains(&self.max_pixels) {
            return Err(Error::invalid_argument(format!(
                "maxPixels must be 1..={MAX_PIXELS_LIMIT}, not {}",
                self.max_pixels
            )));
        }
        Ok(())
    }

    /// Refuses a source of `width`×`height` above [`max_pixels`](Self::max_pixels).
    pub fn check_source(&self, width: u32, height: u32) -> Result<()> {
        let px = u64::from(width) * u64::from(height);
        if px > self.max_pixels {
            return Err(Error::new(
                ErrorCode::TooLarge,
                format!(
                    "the image is {width}×{height} ({px} pixels); thumbnails are made of images up to {} pixels",
                    self.max_pixels
                ),
            ));
        }
        if width == 0 || height == 0 {
            return Err(Error::new(ErrorCode::UnsupportedFormat, "the image has no pixels"));
        }
        Ok(())
    }
}

/// A made thumbnail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thumbnail {
    /// The thumbnail, PNG-encoded.
    pub png: Vec<u8>,
    /// Its width.
    pub width: u32,
    /// Its height.
    pub height: u32,
    /// Width of the source image.
    pub source_width: u32,
    /// Height of the source image.
    pub source_height: u32,
}

/// Decodes image formats the pure core cannot (the browser's decoders, behind this seam).
#[allow(async_fn_in_trait)]
pub trait ImageDecoder {
    /// A thumbnail of `bytes` (of type `mime`, possibly empty) per `opts`, or `Ok(None)` when
    /// this decoder cannot decode images at all here (e.g. no `createImageBitmap` in Node).
    async fn thumbnail(&self, bytes: &[u8], mime: &str, opts: &ThumbnailOptions) -> Result<Option<Thumbnail>>;
}

/// No decoder: only PNG thumbnails (native code, Node).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoDecoder;

impl ImageDecoder for NoDecoder {
    async fn thumbnail(&self, _: &[u8], _: &str, _: &ThumbnailOptions) -> Result<Option<Thumbnail>> {
        Ok(None)
    }
}

/// True for bytes that start with the PNG signature.
pub fn is_png(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x89PNG\r\n\x1a\n")
}

/// The size of the thumbnail of a `width`×`height` image: the longest side becomes `max_side`
/// (never larger than the source), the other keeps the aspect ratio (rounded, at least 1).
pub fn target_size(width: u32, height: u32, max_side: u32) -> (u32, u32) {
    let max_side = max_side.max(1);
    if width <= max_side && height <= max_side {
        return (width.max(1), height.max(1));
    }
    let scale = |short: u32, long: u32| -> u32 {
        let v = (u64::from(short) * u64::from(max_side) + u64::from(long) / 2) / u64::from(long);
        (v as u32).clamp(1, short.max(1))
    };
    if width >= height {
        (max_side, scale(height, width))
    } else {
        (scale(width, height), max_side)
    }
}

/// Area-averaging downscaler from `sw`×`sh` to `ow`×`oh` (each no larger than the source).
///
/// In "scaled units" the source pixel `x` spans `[x·ow, (x+1)·ow)` and the output pixel `ox`
/// spans `[ox·sw, (ox+1)·sw)`; a source pixel overlaps at most two output pixels per axis, and
/// each output pixel gathers a total weight of exactly `sw·sh`. Sums are exact in `u64`:
/// 255·255·sw·sh stays below 2^46 for sources up to [`MAX_PIXELS_LIMIT`] pixels.
#[derive(Debug)]
pub struct Downscaler {
    sw: u32,
    sh: u32,
    ow: u32,
    oh: u32,
    /// Per source column: (first output column, its weight, weight of the next one).
    xmap: Vec<(u32, u32, u32)>,
    /// Premultiplied RGBA sums per output pixel.
    acc: Vec<u64>,
    /// One source row summed horizontally (premultiplied RGBA per output column).
    row: Vec<u64>,
}

fn split(i: u32, src: u32, out: u32) -> (u32, u32, u32) {
    let (i, src, out) = (u64::from(i), u64::from(src), u64::from(out));
    let start = i * out;
    let end = start + out;
    let o = start / src;
    let boundary = (o + 1) * src;
    if end <= boundary {
        (o as u32, out as u32, 0)
    } else {
        (o as u32, (boundary - start) as u32, (end - boundary) as u32)
    }
}

impl Downscaler {
    /// A downscaler; `ow <= sw`, `oh <= sh`, all at least 1.
    pub fn new(sw: u32, sh: u32, ow: u32, oh: u32) -> Result<Self> {
        if sw == 0 || sh == 0 || ow == 0 || oh == 0 || ow > sw || oh > sh {
            return Err(Error::new(ErrorCode::Internal, format!("bad downscale {sw}×{sh} → {ow}×{oh}")));
        }
        Ok(Downscaler {
            sw,
            sh,
            ow,
            oh,
            xmap: (0..sw).map(|x| split(x, sw, ow)).collect(),
            acc: vec![0; ow as usize * oh as usize * 4],
            row: vec![0; ow as usize * 4],
        })
    }

    /// Adds the pixels of source row `y` (or of the part of it an interlaced pass holds): the
    /// `i`-th RGBA pixel of `pixels` is at column `x0 + i·dx`. Pixels beyond the row are ignored.
    pub fn add_row(&mut self, y: u32, x0: u32, dx: u32, pixels: impl Iterator<Item = [u8; 4]>) {
        if y >= self.sh {
            return;
        }
        self.row.iter_mut().for_each(|v| *v = 0);
        let mut x = x0 as usize;
        for [r, g, b, a] in pixels {
            let Some(&(ox, w0, w1)) = self.xmap.get(x) else { break };
            let a32 = u64::from(a);
            let px = [u64::from(r) * a32, u64::from(g) * a32, u64::from(b) * a32, a32];
            let i = ox as usize * 4;
            for (acc, v) in self.row[i..i + 4].iter_mut().zip(px) {
                *acc += v * u64::from(w0);
            }
            if w1 > 0 {
                for (acc, v) in self.row[i + 4..i + 8].iter_mut().zip(px) {
                    *acc += v * u64::from(w1);
                }
            }
            x += dx.max(1) as usize;
        }
        let (oy, h0, h1) = split(y, self.sh, self.oh);
        let stride = self.ow as usize * 4;
        let base = oy as usize * stride;
        for (k, v) in self.row.iter().enumerate() {
            self.acc[base + k] += v * u64::from(h0);
        }
        if h1 > 0 {
            for (k, v) in self.row.iter().enumerate() {
                self.acc[base + stride + k] += v * u64::from(h1);
            }
        }
    }

    /// The thumbnail's RGBA pixels (straight alpha), row by row.
    pub fn finish(self) -> Vec<u8> {
        let total = u64::from(self.sw) * u64::from(self.sh);
        let mut out = Vec::with_capacity(self.acc.len());
        for px in self.acc.chunks_exact(4) {
            let a = px[3];
            for &c in &px[..3] {
                out.push((c + a / 2).checked_div(a).unwrap_or(0).min(255) as u8);
            }
            out.push(((a + total / 2) / total).min(255) as u8);
        }
        out
    }
}

/// Encodes RGBA pixels as a PNG: RGB when every pixel is opaque, else RGBA.
pub fn encode_rgba(width: u32, height: u32, rgba: &[u8]) -> Result<Vec<u8>> {
    if rgba.len() != width as usize * height as usize * 4 {
        return Err(Error::new(ErrorCode::Internal, "pixel buffer does not match the image size"));
    }
    let opaque = rgba.chunks_exact(4).all(|p| p[3] == 255);
    let (color, data) = if opaque {
        (png::ColorType::Rgb, rgba.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect::<Vec<u8>>())
    } else {
        (png::ColorType::Rgba, rgba.to_vec())
    };
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, width, height);
        enc.set_color(color);
        enc.set_depth(png::BitDepth::Eight);
        let enc_err = |e: png::EncodingError| Error::new(ErrorCode::Internal, format!("PNG encoding failed: {e}"));
        let mut wr = enc.write_header().map_err(enc_err)?;
        wr.write_image_data(&data).map_err(enc_err)?;
    }
    Ok(out)
}

/// Adam7 passes: (x offset, x step, y offset, y step).
const ADAM7: [(u32, u32, u32, u32); 7] =
    [(0, 8, 0, 8), (4, 8, 0, 8), (0, 4, 4, 8), (2, 4, 0, 4), (0, 2, 2, 4), (1, 2, 0, 2), (0, 1, 1, 2)];

/// The decoded rows' passes: (x offset, x step, y offset, y step, pixels per row, rows), in
/// file order; empty passes (tiny images) are left out, as the format says.
fn passes(width: u32, height: u32, interlaced: bool) -> Vec<(u32, u32, u32, u32, u32, u32)> {
    if !interlaced {
        return vec![(0, 1, 0, 1, width, height)];
    }
    let count = |n: u32, off: u32, step: u32| n.saturating_sub(off).div_ceil(step);
    ADAM7
        .iter()
        .map(|&(xo, xs, yo, ys)| (xo, xs, yo, ys, count(width, xo, xs), count(height, yo, ys)))
        .filter(|p| p.4 > 0 && p.5 > 0)
        .collect()
}

/// What `IHDR`, `PLTE` and `tRNS` say.
#[derive(Debug)]
struct Header {
    width: u32,
    height: u32,
    depth: u8,
    color: u8,
    interlaced: bool,
    /// Palette with alpha (indexed images); out-of-range indices read as opaque black.
    palette: Vec<[u8; 4]>,
    /// The transparent sample(s) of a grey or RGB image, at full precision.
    trns_key: Option<[u16; 3]>,
}

impl Header {
    fn channels(&self) -> u64 {
        match self.color {
            0 | 3 => 1,
            4 => 2,
            2 => 3,
            _ => 4,
        }
    }
}

fn damaged(what: impl Into<String>) -> Error {
    Error::new(ErrorCode::UnsupportedFormat, format!("the PNG cannot be decoded: {}", what.into()))
}

fn read_header(chunks: &[crate::card::png::Chunk<'_>]) -> Result<Header> {
    let mut h = read_ihdr(chunks)?;
    let color = h.color;
    let find =
        |kind: &[u8; 4]| chunks.iter().take_while(|c| &c.kind != b"IDAT").find(|c| &c.kind == kind).map(|c| c.data);
    if color == 3 {
        let plte = find(b"PLTE").filter(|p| !p.is_empty() && p.len() % 3 == 0 && p.len() <= 768);
        let plte = plte.ok_or_else(|| damaged("an indexed image without a valid palette"))?;
        h.palette = plte.chunks_exact(3).map(|c| [c[0], c[1], c[2], 255]).collect();
        // A tRNS longer than the palette is ignored, like the png crate and libpng do.
        if let Some(t) = find(b"tRNS").filter(|t| t.len() <= h.palette.len()) {
            for (p, a) in h.palette.iter_mut().zip(t) {
                p[3] = *a;
            }
        }
    } else if let Some(t) = find(b"tRNS") {
        let u = |i: usize| u16::from_be_bytes([t[i], t[i + 1]]);
        h.trns_key = match (color, t.len()) {
            (0, 2) => Some([u(0), 0, 0]),
            (2, 6) => Some([u(0), u(2), u(4)]),
            _ => None,
        };
    }
    Ok(h)
}

/// The `IHDR` (the first chunk) alone.
fn read_ihdr(chunks: &[crate::card::png::Chunk<'_>]) -> Result<Header> {
    let ihdr = match chunks.first() {
        Some(c) if &c.kind == b"IHDR" && c.data.len() == 13 => c.data,
        _ => return Err(damaged("no IHDR chunk first")),
    };
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    let (width, height, depth, color) = (be(&ihdr[0..4]), be(&ihdr[4..8]), ihdr[8], ihdr[9]);
    let ok = matches!((color, depth), (0, 1 | 2 | 4 | 8 | 16) | (3, 1 | 2 | 4 | 8) | (2 | 4 | 6, 8 | 16));
    if !ok || ihdr[10] != 0 || ihdr[11] != 0 || ihdr[12] > 1 {
        return Err(damaged(format!("unsupported IHDR (colour type {color}, bit depth {depth})")));
    }
    if width > i32::MAX as u32 || height > i32::MAX as u32 {
        return Err(damaged("image size out of range"));
    }
    Ok(Header { width, height, depth, color, interlaced: ihdr[12] == 1, palette: Vec::new(), trns_key: None })
}

/// The concatenated `IDAT` data, inflated on demand with miniz_oxide's core decompressor
/// (already in the module for card text chunks) into a 32 KiB window. Output decoded before
/// damage further on is still served, so rows before a broken spot read like in other decoders.
struct ImageData<'a> {
    parts: Vec<&'a [u8]>,
    part: usize,
    pos: usize,
    dec: Box<miniz_oxide::inflate::core::DecompressorOxide>,
    window: Vec<u8>,
    /// Where the next output goes in `window`.
    ofs: usize,
    /// Output not yet handed out: `window[avail.0..avail.1]`.
    avail: (usize, usize),
    /// Why no more output will come (end of stream, damage), once known.
    stop: Option<Error>,
}

impl<'a> ImageData<'a> {
    fn new(parts: Vec<&'a [u8]>) -> Self {
        ImageData {
            parts,
            part: 0,
            pos: 0,
            dec: Box::default(),
            window: vec![0; miniz_oxide::inflate::core::TINFL_LZ_DICT_SIZE],
            ofs: 0,
            avail: (0, 0),
            stop: None,
        }
    }

    /// Fills `out` completely with the next inflated bytes.
    fn fill(&mut self, out: &mut [u8]) -> Result<()> {
        use miniz_oxide::inflate::core::{decompress, inflate_flags::*};
        use miniz_oxide::inflate::TINFLStatus;
        let truncated = || Error::new(ErrorCode::Truncated, "the PNG's image data ends before its last row");
        let mut w = 0;
        while w < out.len() {
            let (a, b) = self.avail;
            if a < b {
                let n = (b - a).min(out.len() - w);
                out[w..w + n].copy_from_slice(&self.window[a..a + n]);
                self.avail.0 += n;
                w += n;
                continue;
            }
            if let Some(e) = &self.stop {
                return Err(e.clone());
            }
            while self.part + 1 < self.parts.len() && self.pos >= self.parts[self.part].len() {
                self.part += 1;
                self.pos = 0;
            }
            let input = self.parts.get(self.part).map_or(&[][..], |p| &p[self.pos.min(p.len())..]);
            let more = self.part + 1 < self.parts.len();
            let mut flags = TINFL_FLAG_PARSE_ZLIB_HEADER | TINFL_FLAG_IGNORE_ADLER32;
            if more {
                flags |= TINFL_FLAG_HAS_MORE_INPUT;
            }
            let (status, used, wrote) = decompress(&mut self.dec, input, &mut self.window, self.ofs, flags);
            self.pos += used;
            self.avail = (self.ofs, self.ofs + wrote);
            self.ofs = (self.ofs + wrote) & (self.window.len() - 1);
            match status {
                TINFLStatus::HasMoreOutput => {}
                TINFLStatus::NeedsMoreInput if more => {}
                TINFLStatus::Done | TINFLStatus::NeedsMoreInput | TINFLStatus::FailedCannotMakeProgress => {
                    self.stop = Some(truncated())
                }
                s => self.stop = Some(damaged(format!("the image data is damaged ({s:?})"))),
            }
            if used == 0 && wrote == 0 && self.stop.is_none() {
                // No progress: move on to the next part, or give up (never loops forever).
                if more {
                    self.part += 1;
                    self.pos = 0;
                } else {
                    self.stop = Some(truncated());
                }
            }
        }
        Ok(())
    }
}

/// Undoes a row's filter (`row` holds the filter byte, then the bytes); `bpp` is the filter's
/// bytes per pixel.
fn unfilter(row: &mut [u8], prev: &[u8], bpp: usize) -> Result<()> {
    let (kind, cur) = row.split_first_mut().ok_or_else(|| damaged("empty row"))?;
    let prev = &prev[1..];
    match *kind {
        0 => {}
        1 => {
            for i in bpp..cur.len() {
                cur[i] = cur[i].wrapping_add(cur[i - bpp]);
            }
        }
        2 => {
            for (c, p) in cur.iter_mut().zip(prev) {
                *c = c.wrapping_add(*p);
            }
        }
        3 => {
            for i in 0..cur.len() {
                let left = if i >= bpp { u16::from(cur[i - bpp]) } else { 0 };
                cur[i] = cur[i].wrapping_add(((left + u16::from(prev[i])) / 2) as u8);
            }
        }
        4 => {
            for i in 0..cur.len() {
                let (a, c) = if i >= bpp { (i16::from(cur[i - bpp]), i16::from(prev[i - bpp])) } else { (0, 0) };
                let b = i16::from(prev[i]);
                let p = a + b - c;
                let (pa, pb, pc) = ((p - a).abs(), (p - b).abs(), (p - c).abs());
                let pred = if pa <= pb && pa <= pc {
                    a
                } else if pb <= pc {
                    b
                } else {
                    c
                };
                cur[i] = cur[i].wrapping_add(pred as u8);
            }
        }
        k => return Err(damaged(format!("unknown row filter {k}"))),
    }
    Ok(())
}

/// The `i`-th pixel of an unfiltered row as RGBA8 (16-bit samples keep their high byte; low
/// bit depths are scaled to 0..=255; `tRNS` applied) — the png crate's
/// `normalize_to_color8` + expand-to-RGBA, which the fuzz target checks against.
fn pixel(h: &Header, row: &[u8], i: usize) -> [u8; 4] {
    let d = usize::from(h.depth);
    let sample = |k: usize| -> u16 {
        match d {
            16 => u16::from_be_bytes([row[2 * k], row[2 * k + 1]]),
            8 => u16::from(row[k]),
            _ => {
                let bit = k * d;
                u16::from((row[bit / 8] >> (8 - d - bit % 8)) & ((1u8 << d) - 1))
            }
        }
    };
    let to8 = |v: u16| -> u8 {
        match d {
            16 => (v >> 8) as u8,
            8 => v as u8,
            _ => (v * (255 / ((1 << d) - 1))) as u8,
        }
    };
    let ch = h.channels() as usize;
    match h.color {
        3 => h.palette.get(usize::from(sample(i))).copied().unwrap_or([0, 0, 0, 255]),
        0 => {
            let g = sample(i);
            let a = if h.trns_key.is_some_and(|k| k[0] == g) { 0 } else { 255 };
            [to8(g), to8(g), to8(g), a]
        }
        4 => {
            let g = to8(sample(i * 2));
            [g, g, g, to8(sample(i * 2 + 1))]
        }
        2 => {
            let (r, g, b) = (sample(i * ch), sample(i * ch + 1), sample(i * ch + 2));
            let a = if h.trns_key == Some([r, g, b]) { 0 } else { 255 };
            [to8(r), to8(g), to8(b), a]
        }
        _ => [to8(sample(i * 4)), to8(sample(i * 4 + 1)), to8(sample(i * 4 + 2)), to8(sample(i * 4 + 3))],
    }
}

/// Reads a PNG's size from its header without decoding anything else.
pub fn png_size(bytes: &[u8]) -> Result<(u32, u32)> {
    if !is_png(bytes) {
        return Err(Error::new(ErrorCode::UnsupportedFormat, "not a PNG image"));
    }
    let walk = crate::card::png::walk(bytes);
    let h = read_ihdr(&walk.chunks)?;
    Ok((h.width, h.height))
}

/// Decodes a PNG row by row, calling `row(y, x0, dx, pixels)` for every row (or part of a row
/// of an interlaced pass); returns the size. The size is checked against `opts` first.
fn decode_png(
    bytes: &[u8],
    opts: &ThumbnailOptions,
    mut row: impl FnMut(u32, u32, u32, &mut dyn Iterator<Item = [u8; 4]>),
) -> Result<()> {
    if !is_png(bytes) {
        return Err(Error::new(ErrorCode::UnsupportedFormat, "not a PNG image"));
    }
    let walk = crate::card::png::walk(bytes);
    let h = read_header(&walk.chunks)?;
    opts.check_source(h.width, h.height)?;
    let bits = h.channels() * u64::from(h.depth);
    let bpp = bits.div_ceil(8) as usize;
    let row_bytes = |px: u32| (u64::from(px) * bits).div_ceil(8);
    let longest = row_bytes(h.width) + 1;
    if longest > DECODER_BUFFER_BYTES as u64 {
        return Err(Error::new(ErrorCode::TooLarge, format!("PNG rows of {longest} bytes are longer than allowed")));
    }
    let parts: Vec<&[u8]> = walk.chunks.iter().filter(|c| &c.kind == b"IDAT").map(|c| c.data).collect();
    if parts.is_empty() {
        return Err(damaged("no image data"));
    }
    let mut data = ImageData::new(parts);
    let mut cur = vec![0u8; longest as usize];
    let mut prev = vec![0u8; longest as usize];
    for (xo, xs, yo, ys, px, lines) in passes(h.width, h.height, h.interlaced) {
        let len = row_bytes(px) as usize + 1;
        prev[..len].fill(0);
        for line in 0..lines {
            data.fill(&mut cur[..len])?;
            unfilter(&mut cur[..len], &prev[..len], bpp)?;
            let body = &cur[1..len];
            row(yo + line * ys, xo, xs, &mut (0..px as usize).map(|i| pixel(&h, body, i)));
            std::mem::swap(&mut cur, &mut prev);
        }
    }
    Ok(())
}

/// Makes the thumbnail of a PNG (see the module docs).
pub fn png_thumbnail(bytes: &[u8], opts: &ThumbnailOptions) -> Result<Thumbnail> {
    opts.validate()?;
    let (sw, sh) = png_size(bytes)?;
    opts.check_source(sw, sh)?;
    let (ow, oh) = target_size(sw, sh, opts.max_side);
    let mut scaler = Downscaler::new(sw, sh, ow, oh)?;
    decode_png(bytes, opts, |y, x0, dx, px| scaler.add_row(y, x0, dx, px))?;
    let rgba = scaler.finish();
    Ok(Thumbnail { png: encode_rgba(ow, oh, &rgba)?, width: ow, height: oh, source_width: sw, source_height: sh })
}

/// Decodes a whole PNG to RGBA8 rows (tests and the fuzz target's comparison with the png
/// crate; not used by the thumbnail path, which never holds the whole image).
pub fn decode_png_rgba(bytes: &[u8], opts: &ThumbnailOptions) -> Result<(u32, u32, Vec<u8>)> {
    let (w, h) = png_size(bytes)?;
    opts.check_source(w, h)?;
    let mut out = vec![0u8; w as usize * h as usize * 4];
    decode_png(bytes, opts, |y, x0, dx, px| {
        for (i, p) in px.enumerate() {
            let at = (y as usize * w as usize + x0 as usize + i * dx as usize) * 4;
            out[at..at + 4].copy_from_slice(&p);
        }
    })?;
    Ok((w, h, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_sizes_keep_the_aspect_ratio_and_never_enlarge() {
        assert_eq!(target_size(1000, 500, 256), (256, 128));
        assert_eq!(target_size(500, 1000, 256), (128, 256));
        assert_eq!(target_size(100, 50, 256), (100, 50));
        assert_eq!(target_size(10_000, 1, 256), (256, 1));
        assert_eq!(target_size(3, 2, 1), (1, 1));
        assert_eq!(target_size(257, 256, 256), (256, 255));
    }

    #[test]
    fn the_area_filter_averages_exactly() {
        // 3×1 → 2×1: each output pixel is 1.5 source pixels.
        let mut d = Downscaler::new(3, 1, 2, 1).unwrap();
        d.add_row(0, 0, 1, [[0, 0, 0, 255], [90, 90, 90, 255], [180, 180, 180, 255]].into_iter());
        let out = d.finish();
        assert_eq!(&out[..4], &[30, 30, 30, 255]); // (0 + 90/2) / 1.5
        assert_eq!(&out[4..], &[150, 150, 150, 255]); // (90/2 + 180) / 1.5
    }

    #[test]
    fn transparent_pixels_do_not_darken_their_neighbours() {
        let mut d = Downscaler::new(2, 1, 1, 1).unwrap();
        d.add_row(0, 0, 1, [[255, 0, 0, 255], [0, 0, 0, 0]].into_iter());
        assert_eq!(d.finish(), vec![255, 0, 0, 128]);
    }

    #[test]
    fn options_are_range_checked() {
        assert!(ThumbnailOptions { max_side: 0, ..Default::default() }.validate().is_err());
        assert!(ThumbnailOptions { max_side: 5000, ..Default::default() }.validate().is_err());
        assert!(ThumbnailOptions { max_pixels: u64::MAX, ..Default::default() }.validate().is_err());
        assert!(ThumbnailOptions::default().validate().is_ok());
    }
}
