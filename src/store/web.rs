//! Browser edges of the store besides IndexedDB (wasm32 only, web-sys):
//!
//! * [`JsSource`] — backup bytes read chunk by chunk from a `Blob` (`blob.stream()`), a
//!   `ReadableStream` or a `Uint8Array`, for [`Store::import_backup_from`](super::Store::import_backup_from);
//! * [`BrowserImages`] — the browser's image decoders (`createImageBitmap` + `OffscreenCanvas`)
//!   for thumbnails of images the pure core cannot decode (JPEG, WebP, GIF, AVIF…).

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Function, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AbortSignal, Blob, BlobPropertyBag, ImageBitmap, OffscreenCanvas, OffscreenCanvasRenderingContext2d,
    ReadableStream, ReadableStreamDefaultReader,
};

use super::backup::ChunkSource;
use crate::thumbnail::{self, ImageDecoder, Thumbnail, ThumbnailOptions};
use crate::{Error, ErrorCode, Result};

/// Bytes handed out per chunk from a `Uint8Array`.
const BYTES_CHUNK: u32 = 1 << 20;

fn js_message(e: &JsValue) -> String {
    Reflect::get(e, &JsValue::from_str("message"))
        .ok()
        .and_then(|m| m.as_string())
        .unwrap_or_else(|| e.as_string().unwrap_or_else(|| format!("{e:?}")))
}

/// What a [`JsSource`] reads.
enum Input {
    Blob(Blob),
    Stream(ReadableStream),
    Bytes(Uint8Array),
}

/// A backup read chunk by chunk from JS. A `Blob` or `Uint8Array` can be read again (so the
/// import can check it first); a `ReadableStream` only once. Aborting `signal` cancels a
/// pending read at once and the next chunk fails with `aborted`. Dropping the source cancels
/// a stream that was not read to its end.
pub struct JsSource {
    input: Input,
    reader: Rc<RefCell<Option<ReadableStreamDefaultReader>>>,
    pos: u32,
    read: u64,
    ended: bool,
    signal: Option<AbortSignal>,
    on_abort: Option<Closure<dyn FnMut()>>,
}

impl JsSource {
    /// Reads `value`: a `Blob` (or `File`), a `ReadableStream` of bytes, a `Uint8Array` or a
    /// string (wrapped in a `Blob`, so its bytes never sit in wasm memory all at once).
    pub fn new(value: &JsValue, signal: Option<AbortSignal>) -> Result<Self> {
        // `is_string`, not `as_string`: the text stays in JS (a Blob), never copied into wasm.
        let input = if value.is_string() {
            let parts = Array::of1(value);
            Input::Blob(Blob::new_with_str_sequence(&parts).map_err(|e| Error::invalid_argument(js_message(&e)))?)
        } else if let Some(b) = value.dyn_ref::<Blob>() {
            Input::Blob(b.clone())
        } else if let Some(s) = value.dyn_ref::<ReadableStream>() {
            if s.locked() {
                return Err(Error::invalid_argument("backup: the ReadableStream is locked (already being read)"));
            }
            Input::Stream(s.clone())
        } else if let Some(u) = value.dyn_ref::<Uint8Array>() {
            Input::Bytes(u.clone())
        } else {
            return Err(Error::invalid_argument("backup: pass a Blob, a ReadableStream, a Uint8Array or a string"));
        };
        let reader: Rc<RefCell<Option<ReadableStreamDefaultReader>>> = Rc::default();
        let on_abort = signal.as_ref().map(|s| {
            let r = reader.clone();
            let c = Closure::<dyn FnMut()>::new(move || {
                if let Some(r) = r.borrow().as_ref() {
                    let _ = r.cancel();
                }
            });
            let _ = s.add_event_listener_with_callback("abort", c.as_ref().unchecked_ref());
            c
        });
        Ok(JsSource { input, reader, pos: 0, read: 0, ended: false, signal, on_abort })
    }

    fn aborted(&self) -> bool {
        self.signal.as_ref().is_some_and(|s| s.aborted())
    }

    fn cancelled() -> Error {
        Error::new(ErrorCode::Aborted, "the import was cancelled")
    }

    fn stream_reader(&self) -> Result<ReadableStreamDefaultReader> {
        if let Some(r) = self.reader.borrow().as_ref() {
            return Ok(r.clone());
        }
        let stream = match &self.input {
            Input::Blob(b) => b.stream(),
            Input::Stream(s) => s.clone(),
            Input::Bytes(_) => return Err(Error::new(ErrorCode::Internal, "bytes have no stream")),
        };
        let r: ReadableStreamDefaultReader = stream.get_reader().unchecked_into();
        *self.reader.borrow_mut() = Some(r.clone());
        Ok(r)
    }
}

impl Drop for JsSource {
    fn drop(&mut self) {
        if let (Some(s), Some(c)) = (&self.signal, &self.on_abort) {
            let _ = s.remove_event_listener_with_callback("abort", c.as_ref().unchecked_ref());
        }
        if let Some(r) = self.reader.borrow_mut().take() {
            if !self.ended {
                let _ = r.cancel();
            }
        }
    }
}

impl ChunkSource for JsSource {
    async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>> {
        if self.aborted() {
            return Err(Self::cancelled());
        }
        if self.ended {
            return Ok(None);
        }
        if let Input::Bytes(u) = &self.input {
            let len = u.length();
            if self.pos >= len {
                self.ended = true;
                return Ok(None);
            }
            let end = self.pos.saturating_add(BYTES_CHUNK).min(len);
            let out = u.subarray(self.pos, end).to_vec();
            self.pos = end;
            self.read += out.len() as u64;
            return Ok(Some(out));
        }
        let reader = self.stream_reader()?;
        let res = JsFuture::from(reader.read()).await;
        if self.aborted() {
            return Err(Self::cancelled());
        }
        let res = res.map_err(|e| {
            Error::new(
                ErrorCode::Truncated,
                format!("reading the backup failed after {} bytes: {}", self.read, js_message(&e)),
            )
        })?;
        if Reflect::get(&res, &JsValue::from_str("done")).ok().and_then(|d| d.as_bool()).unwrap_or(true) {
            self.ended = true;
            return Ok(None);
        }
        let v = Reflect::get(&res, &JsValue::from_str("value")).unwrap_or(JsValue::UNDEFINED);
        let bytes = if let Some(u) = v.dyn_ref::<Uint8Array>() {
            u.to_vec()
        } else if v.is_instance_of::<js_sys::ArrayBuffer>() {
            Uint8Array::new(&v).to_vec()
        } else if let Some(s) = v.as_string() {
            s.into_bytes()
        } else {
            return Err(Error::invalid_argument("backup: the stream must yield Uint8Array chunks (or strings)"));
        };
        self.read += bytes.len() as u64;
        Ok(Some(bytes))
    }

    fn total_bytes(&self) -> Option<u64> {
        match &self.input {
            Input::Blob(b) => Some(b.size() as u64),
            Input::Bytes(u) => Some(u64::from(u.length())),
            Input::Stream(_) => None,
        }
    }

    fn can_rewind(&self) -> bool {
        !matches!(self.input, Input::Stream(_))
    }

    async fn rewind(&mut self) -> Result<()> {
        if !self.can_rewind() {
            return Err(Error::invalid_argument("a ReadableStream can be read only once"));
        }
        if let Some(r) = self.reader.borrow_mut().take() {
            if !self.ended {
                let _ = r.cancel();
            }
        }
        self.pos = 0;
        self.read = 0;
        self.ended = false;
        Ok(())
    }
}

/// The browser's image decoders behind [`ImageDecoder`]: `createImageBitmap` decodes (JPEG,
/// WebP, GIF, AVIF, BMP… whatever the browser reads), an `OffscreenCanvas` downscales with
/// `imageSmoothingQuality = "high"`, and the pixels are encoded by our PNG encoder. Where
/// either API is missing (Node, old browsers) it decodes nothing (`Ok(None)`). The browser
/// decodes the whole image before its size is known: `maxPixels` is checked right after, so
/// the result is the same `too_large` as for a PNG, but the browser's own limits bound the
/// decode itself.
#[derive(Debug, Default, Clone, Copy)]
pub struct BrowserImages;

impl ImageDecoder for BrowserImages {
    async fn thumbnail(&self, bytes: &[u8], mime: &str, opts: &ThumbnailOptions) -> Result<Option<Thumbnail>> {
        let g = js_sys::global();
        let Some(create) =
            Reflect::get(&g, &JsValue::from_str("createImageBitmap")).ok().and_then(|f| f.dyn_into::<Function>().ok())
        else {
            return Ok(None);
        };
        if !Reflect::get(&g, &JsValue::from_str("OffscreenCanvas")).is_ok_and(|c| !c.is_undefined()) {
            return Ok(None);
        }
        let fail =
            |what: &str, e: JsValue| Error::new(ErrorCode::UnsupportedFormat, format!("{what}: {}", js_message(&e)));
        let bag = BlobPropertyBag::new();
        bag.set_type(mime);
        let blob = Blob::new_with_u8_array_sequence_and_options(&Array::of1(&Uint8Array::from(bytes)), &bag)
            .map_err(|e| fail("Blob", e))?;
        let promise: Promise = create.call1(&g, &blob).map_err(|e| fail("createImageBitmap", e))?.unchecked_into();
        let bitmap: ImageBitmap = JsFuture::from(promise)
            .await
            .map_err(|e| fail("the browser cannot decode this image", e))?
            .unchecked_into();
        let (w, h) = (bitmap.width(), bitmap.height());
        let drawn = (|| {
            opts.check_source(w, h)?;
            let (tw, th) = thumbnail::target_size(w, h, opts.max_side);
            let canvas = OffscreenCanvas::new(tw, th).map_err(|e| fail("OffscreenCanvas", e))?;
            let ctx: OffscreenCanvasRenderingContext2d = canvas
                .get_context("2d")
                .map_err(|e| fail("getContext", e))?
                .ok_or_else(|| Error::new(ErrorCode::UnsupportedFormat, "no 2d canvas context here"))?
                .unchecked_into();
            let _ = Reflect::set(&ctx, &JsValue::from_str("imageSmoothingQuality"), &JsValue::from_str("high"));
            ctx.draw_image_with_image_bitmap_and_dw_and_dh(&bitmap, 0.0, 0.0, f64::from(tw), f64::from(th))
                .map_err(|e| fail("drawImage", e))?;
            let data =
                ctx.get_image_data(0.0, 0.0, f64::from(tw), f64::from(th)).map_err(|e| fail("getImageData", e))?;
            Ok::<_, Error>((tw, th, data.data().0))
        })();
        bitmap.close();
        let (tw, th, rgba) = drawn?;
        let png = thumbnail::encode_rgba(tw, th, &rgba)?;
        Ok(Some(Thumbnail { png, width: tw, height: th, source_width: w, source_height: h }))
    }
}
