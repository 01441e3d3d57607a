//! A small zip reader/writer on `miniz_oxide` (CharX, BYAF), instead of the `zip`
//! crate (+58 KB gzip in wasm).
//!
//! # Reading
//!
//! The end-of-central-directory record (`PK\x05\x06`, in the last 64 KiB + 22 bytes)
//! gives the central directory's size and offset. When the zip is preceded by
//! other bytes (a JPEG in RisuAI's "CharX embedded JPEG", or a self-extractor), the
//! stored offsets are relative to the start of the zip, so every offset is shifted
//! by `delta = eocd_pos - cd_size - cd_offset`. Local headers are then read
//! for the data start. Methods: 0 (stored) and 8 (deflate); declared sizes are
//! checked against the limits before inflating, and inflation itself is capped.
//! ZIP64 and encrypted entries are `unsupported_format`.
//!
//! # Writing
//!
//! Plain zip: local header + data per entry, central directory, EOCD. No data
//! descriptors, no ZIP64, DOS timestamp 1980-01-01, UTF-8 flag clear (our names are
//! ASCII).

use crate::card::decode;
use crate::card::limits::{Budget, Limits};
use crate::card::warning::Warnings;
use crate::error::{Error, ErrorCode};

/// One central-directory entry.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Entry name (path inside the zip).
    pub name: String,
    /// Compression method (0 stored, 8 deflate).
    pub method: u16,
    /// General-purpose flags.
    pub flags: u16,
    /// CRC-32 of the uncompressed data.
    pub crc: u32,
    /// Compressed size.
    pub comp_size: u64,
    /// Declared uncompressed size.
    pub size: u64,
    /// Local header offset (already shifted by the prefix delta).
    pub local_offset: u64,
}

/// An opened zip archive over a byte slice.
#[derive(Debug)]
pub struct Archive<'a> {
    data: &'a [u8],
    /// Entries in central-directory order.
    pub entries: Vec<Entry>,
    /// Bytes before the zip (0 for a plain zip).
    pub prefix: usize,
}

fn u16le(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}
fn u32le(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// Finds the last EOCD signature that is followed by a consistent record.
fn find_eocd(data: &[u8]) -> Option<usize> {
    if data.len() < 22 {
        return None;
    }
    let min = data.len().saturating_sub(22 + 65535);
    let mut i = data.len() - 22;
    loop {
        if &data[i..i + 4] == b"PK\x05\x06" {
            let comment_len = u16le(data, i + 20)? as usize;
            if i + 22 + comment_len <= data.len() {
                return Some(i);
            }
        }
        if i == min {
            return None;
        }
        i -= 1;
    }
}

impl<'a> Archive<'a> {
    /// Opens a zip (possibly preceded by other bytes).
    pub fn open(data: &'a [u8], limits: &Limits) -> Result<Archive<'a>, Error> {
        let eocd = find_eocd(data).ok_or_else(|| {
            Error::new(ErrorCode::Truncated, "zip: no end-of-central-directory record (the file is cut short?)")
        })?;
        let count = u16le(data, eocd + 10).unwrap_or(0) as usize;
        let cd_size = u32le(data, eocd + 12).unwrap_or(0) as u64;
        let cd_off = u32le(data, eocd + 16).unwrap_or(0) as u64;
        if count == 0xFFFF || cd_size == 0xFFFF_FFFF || cd_off == 0xFFFF_FFFF {
            return Err(Error::new(ErrorCode::UnsupportedFormat, "zip: ZIP64 archives are not supported"));
        }
        if count > limits.max_zip_entries {
            return Err(Error::new(
                ErrorCode::TooLarge,
                format!("zip has {count} entries; the limit is {}", limits.max_zip_entries),
            ));
        }
        let cd_start = (eocd as u64)
            .checked_sub(cd_size)
            .ok_or_else(|| Error::new(ErrorCode::Truncated, "zip: central directory size is larger than the file"))?;
        let delta = cd_start.checked_sub(cd_off).ok_or_else(|| {
            Error::new(ErrorCode::Truncated, "zip: central directory offset points past its position")
        })?;
        let mut entries = Vec::with_capacity(count);
        let mut p = cd_start as usize;
        for _ in 0..count {
            let bad = || Error::new(ErrorCode::Truncated, "zip: central directory entry is cut short");
            if data.get(p..p + 4) != Some(b"PK\x01\x02") {
                return Err(bad());
            }
            let flags = u16le(data, p + 8).ok_or_else(bad)?;
            let method = u16le(data, p + 10).ok_or_else(bad)?;
            let crc = u32le(data, p + 16).ok_or_else(bad)?;
            let comp = u32le(data, p + 20).ok_or_else(bad)? as u64;
            let size = u32le(data, p + 24).ok_or_else(bad)? as u64;
            let nlen = u16le(data, p + 28).ok_or_else(bad)? as usize;
            let elen = u16le(data, p + 30).ok_or_else(bad)? as usize;
            let clen = u16le(data, p + 32).ok_or_else(bad)? as usize;
            let off = u32le(data, p + 42).ok_or_else(bad)? as u64;
            let name_bytes = data.get(p + 46..p + 46 + nlen).ok_or_else(bad)?;
            if comp == 0xFFFF_FFFF || size == 0xFFFF_FFFF || off == 0xFFFF_FFFF {
                return Err(Error::new(ErrorCode::UnsupportedFormat, "zip: ZIP64 entries are not supported"));
            }
            entries.push(Entry {
                name: String::from_utf8_lossy(name_bytes).into_owned(),
                method,
                flags,
                crc,
                comp_size: comp,
                size,
                local_offset: off + delta,
            });
            p += 46 + nlen + elen + clen;
        }
        Ok(Archive { data, entries, prefix: delta as usize })
    }

    /// Finds an entry by exact name, then case-insensitively.
    pub fn find(&self, name: &str) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| e.name == name)
            .or_else(|| self.entries.iter().find(|e| e.name.eq_ignore_ascii_case(name)))
    }

    /// Reads and (if needed) inflates an entry, capped at `min(per_item, budget)`.
    pub fn read(&self, e: &Entry, per_item: usize, budget: &mut Budget, w: &mut Warnings) -> Result<Vec<u8>, Error> {
        let cap = budget.cap(per_item);
        if e.size > cap as u64 {
            return Err(Error::new(
                ErrorCode::TooLarge,
                format!("zip entry `{}` declares {} bytes; the limit is {cap}", e.name, e.size),
            ));
        }
        if e.flags & 1 != 0 {
            return Err(Error::new(ErrorCode::UnsupportedFormat, format!("zip entry `{}` is encrypted", e.name)));
        }
        let lo = e.local_offset as usize;
        let bad = || {
            Error::new(ErrorCode::Truncated, format!("zip entry `{}`: local header is missing or cut short", e.name))
        };
        if self.data.get(lo..lo + 4) != Some(b"PK\x03\x04") {
            return Err(bad());
        }
        let nlen = u16le(self.data, lo + 26).ok_or_else(bad)? as usize;
        let elen = u16le(self.data, lo + 28).ok_or_else(bad)? as usize;
        let start = lo + 30 + nlen + elen;
        let end = start.checked_add(e.comp_size as usize).ok_or_else(bad)?;
        let raw = self.data.get(start..end).ok_or_else(bad)?;
        let out = match e.method {
            0 => {
                budget.spend(raw.len());
                raw.to_vec()
            }
            8 => decode::inflate(raw, false, cap, budget, &format!("zip entry `{}`", e.name))?,
            m => {
                return Err(Error::new(
                    ErrorCode::UnsupportedFormat,
                    format!("zip entry `{}` uses compression method {m}", e.name),
                ))
            }
        };
        if crc32fast::hash(&out) != e.crc {
            w.push("zip_bad_crc", format!("zip entry `{}` has a wrong CRC; read anyway", e.name));
        }
        Ok(out)
    }
}

/// Finds a zip inside other bytes (JPEG polyglot): true when an EOCD exists.
pub fn has_zip(data: &[u8]) -> bool {
    find_eocd(data).is_some()
}

/// Writes a zip archive.
#[derive(Debug, Default)]
pub struct Writer {
    out: Vec<u8>,
    central: Vec<u8>,
    count: u16,
}

impl Writer {
    /// A new, empty archive.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an entry; `deflate` chooses method 8 over 0 (stored).
    pub fn add(&mut self, name: &str, data: &[u8], deflate: bool) -> Result<(), Error> {
        if self.count == u16::MAX || self.out.len() > u32::MAX as usize - data.len() - 1024 {
            return Err(Error::new(
                ErrorCode::TooLarge,
                "zip export: more than 65,535 entries or 4 GiB (ZIP64 is not written)",
            ));
        }
        let crc = crc32fast::hash(data);
        let compressed;
        let (method, body): (u16, &[u8]) = if deflate {
            compressed = miniz_oxide::deflate::compress_to_vec(data, 6);
            if compressed.len() < data.len() {
                (8, &compressed)
            } else {
                (0, data)
            }
        } else {
            (0, data)
        };
        let offset = self.out.len() as u32;
        let name_b = name.as_bytes();
        // Local header.
        let o = &mut self.out;
        o.extend_from_slice(b"PK\x03\x04");
        o.extend_from_slice(&20u16.to_le_bytes()); // version needed
        o.extend_from_slice(&0u16.to_le_bytes()); // flags
        o.extend_from_slice(&method.to_le_bytes());
        o.extend_from_slice(&0u16.to_le_bytes()); // time
        o.extend_from_slice(&0x21u16.to_le_bytes()); // date 1980-01-01
        o.extend_from_slice(&crc.to_le_bytes());
        o.extend_from_slice(&(body.len() as u32).to_le_bytes());
        o.extend_from_slice(&(data.len() as u32).to_le_bytes());
        o.extend_from_slice(&(name_b.len() as u16).to_le_bytes());
        o.extend_from_slice(&0u16.to_le_bytes());
        o.extend_from_slice(name_b);
        o.extend_from_slice(body);
        // Central directory record.
        let c = &mut self.central;
        c.extend_from_slice(b"PK\x01\x02");
        c.extend_from_slice(&20u16.to_le_bytes()); // version made by
        c.extend_from_slice(&20u16.to_le_bytes()); // version needed
        c.extend_from_slice(&0u16.to_le_bytes());
        c.extend_from_slice(&method.to_le_bytes());
        c.extend_from_slice(&0u16.to_le_bytes());
        c.extend_from_slice(&0x21u16.to_le_bytes());
        c.extend_from_slice(&crc.to_le_bytes());
        c.extend_from_slice(&(body.len() as u32).to_le_bytes());
        c.extend_from_slice(&(data.len() as u32).to_le_bytes());
        c.extend_from_slice(&(name_b.len() as u16).to_le_bytes());
        c.extend_from_slice(&[0; 8]); // extra len, comment len, disk, internal attrs
        c.extend_from_slice(&0u32.to_le_bytes()); // external attrs
        c.extend_from_slice(&offset.to_le_bytes());
        c.extend_from_slice(name_b);
        self.count += 1;
        Ok(())
    }

    /// Finishes the archive.
    pub fn finish(mut self) -> Vec<u8> {
        let cd_off = self.out.len() as u32;
        let cd_size = self.central.len() as u32;
        self.out.extend_from_slice(&self.central);
        let o = &mut self.out;
        o.extend_from_slice(b"PK\x05\x06");
        o.extend_from_slice(&[0; 4]);
        o.extend_from_slice(&self.count.to_le_bytes());
        o.extend_from_slice(&self.count.to_le_bytes());
        o.extend_from_slice(&cd_size.to_le_bytes());
        o.extend_from_slice(&cd_off.to_le_bytes());
        o.extend_from_slice(&0u16.to_le_bytes());
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_then_read_with_prefix() {
        let mut wr = Writer::new();
        wr.add("card.json", br#"{"a":1}"#, true).unwrap();
        wr.add("assets/x.bin", &[7u8; 1000], false).unwrap();
        let zip = wr.finish();
        let mut with_prefix = vec![0xFFu8, 0xD8, 0xFF, 1, 2, 3];
        with_prefix.extend_from_slice(&zip);
        let limits = Limits::default();
        let a = Archive::open(&with_prefix, &limits).unwrap();
        assert_eq!(a.prefix, 6);
        let mut b = Budget::new(&limits);
        let mut w = Warnings::default();
        let e = a.find("card.json").unwrap().clone();
        assert_eq!(a.read(&e, 1 << 20, &mut b, &mut w).unwrap(), br#"{"a":1}"#);
        let e = a.find("ASSETS/X.BIN").unwrap().clone();
        assert_eq!(a.read(&e, 1 << 20, &mut b, &mut w).unwrap(), vec![7u8; 1000]);
        assert!(w.is_empty());
    }
}
