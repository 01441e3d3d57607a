//! Thumbnails of PNG images (pure Rust): sizes and aspect ratio, tiny images, every colour type
//! and bit depth, interlacing, the area filter's colours, metadata dropped, and hostile or
//! damaged files refused with typed errors (never a panic).

use nextchat_tavern::card::png::write_chunk;
use nextchat_tavern::thumbnail::{decode_png_rgba, png_size, png_thumbnail, target_size, Thumbnail, ThumbnailOptions};
use nextchat_tavern::ErrorCode;

const SIG: &[u8] = b"\x89PNG\r\n\x1a\n";

fn encode(
    w: u32,
    h: u32,
    color: png::ColorType,
    depth: png::BitDepth,
    data: &[u8],
    extra: impl FnOnce(&mut png::Encoder<'_, &mut Vec<u8>>),
) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(color);
        enc.set_depth(depth);
        extra(&mut enc);
        let mut wr = enc.write_header().unwrap();
        wr.write_image_data(data).unwrap();
    }
    out
}

fn rgba_png(w: u32, h: u32, px: impl Fn(u32, u32) -> [u8; 4]) -> Vec<u8> {
    let px = &px;
    let data: Vec<u8> = (0..h).flat_map(|y| (0..w).flat_map(move |x| px(x, y))).collect();
    encode(w, h, png::ColorType::Rgba, png::BitDepth::Eight, &data, |_| {})
}

/// Decodes a thumbnail back to RGBA8.
fn pixels(t: &Thumbnail) -> Vec<[u8; 4]> {
    let mut dec = png::Decoder::new(std::io::Cursor::new(&t.png));
    dec.set_transformations(png::Transformations::normalize_to_color8());
    let mut r = dec.read_info().unwrap();
    let mut buf = vec![0; r.output_buffer_size().unwrap()];
    let info = r.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), (t.width, t.height));
    let ch = info.color_type.samples();
    buf[..info.buffer_size()]
        .chunks_exact(ch)
        .map(|p| match ch {
            3 => [p[0], p[1], p[2], 255],
            4 => [p[0], p[1], p[2], p[3]],
            n => panic!("thumbnails are RGB or RGBA, got {n} channels"),
        })
        .collect()
}

/// The png crate's reading of a PNG as RGBA8 (the reference for our decoder).
fn reference_rgba(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let mut dec = png::Decoder::new(std::io::Cursor::new(bytes));
    dec.set_transformations(png::Transformations::normalize_to_color8());
    let mut r = dec.read_info().unwrap();
    let mut buf = vec![0; r.output_buffer_size().unwrap()];
    let info = r.next_frame(&mut buf).unwrap();
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
    (info.width, info.height, rgba)
}

fn opts(max_side: u32) -> ThumbnailOptions {
    ThumbnailOptions { max_side, ..Default::default() }
}

#[test]
fn large_images_shrink_to_the_longest_side_keeping_the_aspect_ratio() {
    for (w, h, side, want) in
        [(800, 400, 256, (256, 128)), (300, 900, 256, (85, 256)), (1000, 1000, 64, (64, 64)), (5000, 3, 256, (256, 1))]
    {
        let t = png_thumbnail(&rgba_png(w, h, |x, y| [x as u8, y as u8, 7, 255]), &opts(side)).unwrap();
        assert_eq!((t.width, t.height), want, "{w}×{h} at {side}");
        assert_eq!((t.source_width, t.source_height), (w, h));
        assert_eq!(pixels(&t).len(), (want.0 * want.1) as usize);
    }
}

#[test]
fn tiny_images_keep_their_size_and_pixels() {
    for (w, h) in [(1, 1), (2, 3), (256, 17)] {
        let src = rgba_png(w, h, |x, y| [(x * 40) as u8, (y * 50) as u8, 9, 255]);
        let t = png_thumbnail(&src, &opts(256)).unwrap();
        assert_eq!((t.width, t.height), (w, h));
        let want: Vec<[u8; 4]> =
            (0..h).flat_map(|y| (0..w).map(move |x| [(x * 40) as u8, (y * 50) as u8, 9, 255])).collect();
        assert_eq!(pixels(&t), want);
    }
}

#[test]
fn the_area_filter_keeps_regions_and_averages_edges() {
    // Left half red, right half blue, 512×256 → 256×128: every thumbnail pixel is pure.
    let t = png_thumbnail(
        &rgba_png(512, 256, |x, _| if x < 256 { [255, 0, 0, 255] } else { [0, 0, 255, 255] }),
        &opts(256),
    )
    .unwrap();
    let px = pixels(&t);
    assert_eq!(px[0], [255, 0, 0, 255]);
    assert_eq!(px[127], [255, 0, 0, 255]);
    assert_eq!(px[128], [0, 0, 255, 255]);
    // A 1-pixel checkerboard averages to grey.
    let t = png_thumbnail(&rgba_png(64, 64, |x, y| if (x + y) % 2 == 0 { [255; 4] } else { [0, 0, 0, 255] }), &opts(8))
        .unwrap();
    assert!(pixels(&t).iter().all(|p| p == &[128, 128, 128, 255]), "{:?}", &pixels(&t)[..4]);
    // Transparent pixels do not darken: opaque red next to fully transparent black.
    let t =
        png_thumbnail(&rgba_png(64, 64, |x, _| if x % 2 == 0 { [255, 0, 0, 255] } else { [0, 0, 0, 0] }), &opts(16))
            .unwrap();
    assert!(pixels(&t).iter().all(|p| p == &[255, 0, 0, 128]), "{:?}", &pixels(&t)[..2]);
}

#[test]
fn every_colour_type_and_bit_depth_decodes() {
    let (w, h) = (40u32, 20u32);
    let gray8: Vec<u8> = (0..w * h).map(|i| (i % 256) as u8).collect();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("gray8", encode(w, h, png::ColorType::Grayscale, png::BitDepth::Eight, &gray8, |_| {})),
        (
            "gray1",
            encode(
                w,
                h,
                png::ColorType::Grayscale,
                png::BitDepth::One,
                &vec![0b1010_1010; (w / 8 * h) as usize],
                |_| {},
            ),
        ),
        (
            "gray4",
            encode(w, h, png::ColorType::Grayscale, png::BitDepth::Four, &vec![0x5A; (w / 2 * h) as usize], |_| {}),
        ),
        (
            "gray16",
            encode(w, h, png::ColorType::Grayscale, png::BitDepth::Sixteen, &vec![0x80; (w * 2 * h) as usize], |_| {}),
        ),
        (
            "graya8",
            encode(
                w,
                h,
                png::ColorType::GrayscaleAlpha,
                png::BitDepth::Eight,
                &vec![200; (w * 2 * h) as usize],
                |_| {},
            ),
        ),
        ("rgb8", encode(w, h, png::ColorType::Rgb, png::BitDepth::Eight, &vec![10; (w * 3 * h) as usize], |_| {})),
        ("rgb16", encode(w, h, png::ColorType::Rgb, png::BitDepth::Sixteen, &vec![0xFF; (w * 6 * h) as usize], |_| {})),
        (
            "rgba16",
            encode(w, h, png::ColorType::Rgba, png::BitDepth::Sixteen, &vec![0x40; (w * 8 * h) as usize], |_| {}),
        ),
        (
            "indexed8+trns",
            encode(
                w,
                h,
                png::ColorType::Indexed,
                png::BitDepth::Eight,
                &(0..w * h).map(|i| (i % 3) as u8).collect::<Vec<_>>(),
                |e| {
                    e.set_palette(vec![255, 0, 0, 0, 255, 0, 0, 0, 255]);
                    e.set_trns(vec![255, 128, 0]);
                },
            ),
        ),
        (
            "gray8+trns",
            encode(w, h, png::ColorType::Grayscale, png::BitDepth::Eight, &gray8, |e| e.set_trns(vec![0, 7])),
        ),
        (
            "gray2+trns",
            encode(
                w,
                h,
                png::ColorType::Grayscale,
                png::BitDepth::Two,
                &vec![0b0001_1011; (w / 4 * h) as usize],
                |e| e.set_trns(vec![0, 2]),
            ),
        ),
        (
            "rgb16+trns",
            encode(
                w,
                h,
                png::ColorType::Rgb,
                png::BitDepth::Sixteen,
                &(0..w * 6 * h).map(|i| (i % 5) as u8).collect::<Vec<_>>(),
                |e| e.set_trns(vec![0, 1, 2, 3, 4, 0]),
            ),
        ),
        (
            "graya16",
            encode(
                w,
                h,
                png::ColorType::GrayscaleAlpha,
                png::BitDepth::Sixteen,
                &(0..w * 4 * h).map(|i| (i * 7 % 256) as u8).collect::<Vec<_>>(),
                |_| {},
            ),
        ),
        (
            "rgba8-filters",
            encode(
                w,
                h,
                png::ColorType::Rgba,
                png::BitDepth::Eight,
                &(0..w * 4 * h).map(|i| (i * i % 251) as u8).collect::<Vec<_>>(),
                |e| e.set_filter(png::Filter::Paeth),
            ),
        ),
        (
            "indexed2",
            encode(w, h, png::ColorType::Indexed, png::BitDepth::Two, &vec![0b0001_1011; (w / 4 * h) as usize], |e| {
                e.set_palette(vec![0, 0, 0, 85, 85, 85, 170, 170, 170, 255, 255, 255]);
            }),
        ),
    ];
    for (name, png) in cases {
        assert_eq!(
            decode_png_rgba(&png, &opts(10)).unwrap(),
            reference_rgba(&png),
            "{name}: our decoder and the png crate disagree"
        );
        let t = png_thumbnail(&png, &opts(10)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!((t.width, t.height), (10, 5), "{name}");
        let px = pixels(&t);
        match name {
            "gray16" => assert!(px.iter().all(|p| p == &[0x80, 0x80, 0x80, 255]), "{name}"),
            "rgb16" => assert!(px.iter().all(|p| p == &[255, 255, 255, 255]), "{name}"),
            "graya8" => assert!(px.iter().all(|p| p == &[200, 200, 200, 200]), "{name}"),
            "gray1" => assert!(px.iter().all(|p| p == &[128, 128, 128, 255]), "{name} {:?}", px[0]),
            "indexed2" => assert!(px.iter().all(|p| p == &[128, 128, 128, 255]), "{name} {:?}", px[0]),
            "indexed8+trns" => assert!(px.iter().all(|p| p[3] < 255 && p[3] > 0), "{name} {:?}", px[0]),
            "gray8+trns" | "gray2+trns" => assert!(px.iter().any(|p| p[3] < 255), "{name}"),
            _ => {}
        }
    }
}

/// An Adam7-interlaced RGBA8 PNG written by hand (the `png` encoder does not interlace).
fn interlaced_png(w: u32, h: u32, px: impl Fn(u32, u32) -> [u8; 4]) -> Vec<u8> {
    const PASSES: [(u32, u32, u32, u32); 7] =
        [(0, 8, 0, 8), (4, 8, 0, 8), (0, 4, 4, 8), (2, 4, 0, 4), (0, 2, 2, 4), (1, 2, 0, 2), (0, 1, 1, 2)];
    let mut raw = Vec::new();
    for (xo, xs, yo, ys) in PASSES {
        if w <= xo || h <= yo {
            continue;
        }
        for y in (yo..h).step_by(ys as usize) {
            raw.push(0);
            for x in (xo..w).step_by(xs as usize) {
                raw.extend_from_slice(&px(x, y));
            }
        }
    }
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 1]);
    let mut out = SIG.to_vec();
    write_chunk(&mut out, b"IHDR", &ihdr);
    write_chunk(&mut out, b"IDAT", &miniz_oxide::deflate::compress_to_vec_zlib(&raw, 6));
    write_chunk(&mut out, b"IEND", &[]);
    out
}

#[test]
fn interlaced_images_give_the_same_thumbnail() {
    let f = |x: u32, y: u32| [(x * 7) as u8, (y * 3) as u8, (x ^ y) as u8, if x % 5 == 0 { 100 } else { 255 }];
    for (w, h, side) in [(61, 37, 16), (9, 9, 4), (3, 1, 2), (1, 5, 256)] {
        let plain = png_thumbnail(&rgba_png(w, h, f), &opts(side)).unwrap();
        let inter = png_thumbnail(&interlaced_png(w, h, f), &opts(side)).unwrap();
        assert_eq!(pixels(&inter), pixels(&plain), "{w}×{h}");
        let png = interlaced_png(w, h, f);
        assert_eq!(decode_png_rgba(&png, &opts(side)).unwrap(), reference_rgba(&png), "{w}×{h}");
    }
}

#[test]
fn metadata_chunks_are_not_copied() {
    let card = nextchat_tavern::card::png::embed_text_chunks(
        &rgba_png(300, 300, |_, _| [1, 2, 3, 255]),
        &[("chara", &b"eyJuYW1lIjoiQSJ9".repeat(1000)[..])],
    )
    .unwrap();
    let t = png_thumbnail(&card, &opts(300)).unwrap();
    assert!(t.png.len() < card.len() / 10, "{} vs {}", t.png.len(), card.len());
    assert!(!t.png.windows(4).any(|w| w == b"tEXt"));
}

fn header_only(w: u32, h: u32) -> Vec<u8> {
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    let mut out = SIG.to_vec();
    write_chunk(&mut out, b"IHDR", &ihdr);
    write_chunk(&mut out, b"IDAT", &miniz_oxide::deflate::compress_to_vec_zlib(&[0; 64], 6));
    write_chunk(&mut out, b"IEND", &[]);
    out
}

#[test]
fn hostile_and_damaged_files_are_typed_errors() {
    // A header claiming 2^31-1 × 2^31-1 pixels: refused before any pixel is decoded.
    let e = png_thumbnail(&header_only(0x7FFF_FFFF, 0x7FFF_FFFF), &ThumbnailOptions::default()).unwrap_err();
    assert_eq!(e.code(), ErrorCode::TooLarge, "{}", e.message());
    assert_eq!(png_size(&header_only(0x7FFF_FFFF, 3)).unwrap(), (0x7FFF_FFFF, 3));
    // Within the pixel budget but rows too wide for the decoder's buffers.
    let e = png_thumbnail(&header_only(40_000_000, 1), &ThumbnailOptions::default()).unwrap_err();
    assert_eq!(e.code(), ErrorCode::TooLarge, "{}", e.message());
    // A tighter budget.
    let e = png_thumbnail(
        &rgba_png(100, 100, |_, _| [0; 4]),
        &ThumbnailOptions { max_pixels: 9_999, ..Default::default() },
    )
    .unwrap_err();
    assert_eq!(e.code(), ErrorCode::TooLarge);
    // Claims 1000×1000 but holds 64 bytes of image data.
    let e = png_thumbnail(&header_only(1000, 1000), &ThumbnailOptions::default()).unwrap_err();
    assert!(matches!(e.code(), ErrorCode::Truncated | ErrorCode::UnsupportedFormat), "{e}");
    // Cut anywhere: an error, never a panic.
    let good = rgba_png(50, 40, |x, y| [x as u8, y as u8, 0, 255]);
    for cut in (0..good.len()).step_by(7) {
        let _ = png_thumbnail(&good[..cut], &opts(8));
    }
    let mut flipped = good.clone();
    for i in (8..flipped.len()).step_by(11) {
        flipped[i] ^= 0x55;
        let _ = png_thumbnail(&flipped, &opts(8));
    }
    assert_eq!(png_thumbnail(b"GIF89a....", &opts(8)).unwrap_err().code(), ErrorCode::UnsupportedFormat);
    assert_eq!(png_thumbnail(&good, &opts(0)).unwrap_err().code(), ErrorCode::InvalidArgument);
}

#[test]
fn the_real_card_fixture_thumbnails() {
    let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/cards/v2_basic.png")).unwrap();
    let (w, h) = png_size(&bytes).unwrap();
    let t = png_thumbnail(&bytes, &opts(64)).unwrap();
    assert_eq!((t.width, t.height), target_size(w, h, 64));
}
