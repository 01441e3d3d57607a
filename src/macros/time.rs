//! Date/time formatting for the time macros (moment.js `en` locale conventions),
//! with an injectable clock: the caller passes "now" in epoch milliseconds and a UTC
//! offset, so renders are reproducible in tests.

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const WEEKDAYS: [&str; 7] = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/// The system clock in epoch milliseconds (used only when the caller gives none).
pub fn system_now_ms() -> f64 {
    #[cfg(target_arch = "wasm32")]
    {
        js_sys::Date::now()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as f64).unwrap_or(0.0)
    }
}

/// Broken-down local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    /// Year (proleptic Gregorian).
    pub year: i64,
    /// 1–12.
    pub month: u32,
    /// 1–31.
    pub day: u32,
    /// 0–23.
    pub hour: u32,
    /// 0–59.
    pub minute: u32,
    /// 0–59.
    pub second: u32,
    /// 0–999.
    pub milli: u32,
    /// 0 = Sunday.
    pub weekday: u32,
    /// Offset from UTC in minutes.
    pub offset_min: i32,
}

/// Days since 1970-01-01 → (year, month, day) (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let (y, m, d) = crate::civil::civil_from_days(z);
    (y, m as u32, d as u32)
}

/// (year, month, day) → days since 1970-01-01.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    crate::civil::days_from_civil(y, m as i64, d as i64)
}

/// Epoch milliseconds + offset → local broken-down time.
pub fn to_civil(epoch_ms: f64, offset_min: i32) -> Civil {
    let ms =
        if epoch_ms.is_finite() { epoch_ms.clamp(-8.64e15, 8.64e15) as i64 } else { 0 } + offset_min as i64 * 60_000;
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let (year, month, day) = civil_from_days(days);
    Civil {
        year,
        month,
        day,
        hour: (rem / 3_600_000) as u32,
        minute: (rem / 60_000 % 60) as u32,
        second: (rem / 1000 % 60) as u32,
        milli: (rem % 1000) as u32,
        weekday: (days + 4).rem_euclid(7) as u32,
        offset_min,
    }
}

fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// Formats with moment.js tokens (`YYYY MM DD HH mm ss A dddd MMMM Do LT LL …`);
/// text in `[brackets]` is literal.
pub fn format(c: &Civil, fmt: &str) -> String {
    let expanded = fmt
        .replace("LLLL", "dddd, MMMM D, YYYY h:mm A")
        .replace("LLL", "MMMM D, YYYY h:mm A")
        .replace("LTS", "h:mm:ss A")
        .replace("LL", "MMMM D, YYYY")
        .replace("LT", "h:mm A");
    let s = expanded.as_str();
    let mut out = String::new();
    let mut i = 0;
    let h12 = if c.hour % 12 == 0 { 12 } else { c.hour % 12 };
    const TOKENS: [&str; 27] = [
        "YYYY", "MMMM", "dddd", "MMM", "ddd", "SSS", "YY", "MM", "DD", "Do", "HH", "hh", "mm", "ss", "dd", "ZZ", "M",
        "D", "H", "h", "m", "s", "A", "a", "d", "Z", "L",
    ];
    while i < s.len() {
        let rest = &s[i..];
        if rest.starts_with('[') {
            if let Some(end) = rest.find(']') {
                out.push_str(&rest[1..end]);
                i += end + 1;
                continue;
            }
        }
        let tok = TOKENS.iter().find(|t| rest.starts_with(**t));
        let Some(tok) = tok else {
            let ch = rest.chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
            continue;
        };
        let off = c.offset_min;
        let (sign, oa) = if off < 0 { ('-', -off) } else { ('+', off) };
        let piece = match *tok {
            "YYYY" => format!("{:04}", c.year),
            "YY" => format!("{:02}", c.year.rem_euclid(100)),
            "MMMM" => MONTHS[(c.month - 1) as usize].to_string(),
            "MMM" => MONTHS[(c.month - 1) as usize][..3].to_string(),
            "MM" => format!("{:02}", c.month),
            "M" => c.month.to_string(),
            "DD" => format!("{:02}", c.day),
            "Do" => ordinal(c.day),
            "D" => c.day.to_string(),
            "dddd" => WEEKDAYS[c.weekday as usize].to_string(),
            "ddd" => WEEKDAYS[c.weekday as usize][..3].to_string(),
            "dd" => WEEKDAYS[c.weekday as usize][..2].to_string(),
            "d" => c.weekday.to_string(),
            "HH" => format!("{:02}", c.hour),
            "H" => c.hour.to_string(),
            "hh" => format!("{h12:02}"),
            "h" => h12.to_string(),
            "mm" => format!("{:02}", c.minute),
            "m" => c.minute.to_string(),
            "ss" => format!("{:02}", c.second),
            "s" => c.second.to_string(),
            "SSS" => format!("{:03}", c.milli),
            "A" => (if c.hour < 12 { "AM" } else { "PM" }).to_string(),
            "a" => (if c.hour < 12 { "am" } else { "pm" }).to_string(),
            "Z" => format!("{sign}{:02}:{:02}", oa / 60, oa % 60),
            "ZZ" => format!("{sign}{:02}{:02}", oa / 60, oa % 60),
            "L" => format!("{:02}/{:02}/{:04}", c.month, c.day, c.year),
            _ => String::new(),
        };
        out.push_str(&piece);
        i += tok.len();
    }
    out
}

/// moment.js `duration.humanize()` (`en`): "a few seconds", "a minute", "5 minutes", …
pub fn humanize(ms: f64) -> String {
    let secs = (ms.abs() / 1000.0).round();
    let mins = (secs / 60.0).round();
    let hours = (mins / 60.0).round();
    let days = (hours / 24.0).round();
    let months = (days / 30.4375).round();
    let years = (days / 365.25).round();
    if secs < 45.0 {
        "a few seconds".into()
    } else if secs < 90.0 {
        "a minute".into()
    } else if mins < 45.0 {
        format!("{mins} minutes")
    } else if mins < 90.0 {
        "an hour".into()
    } else if hours < 22.0 {
        format!("{hours} hours")
    } else if hours < 36.0 {
        "a day".into()
    } else if days < 26.0 {
        format!("{days} days")
    } else if days < 45.0 {
        "a month".into()
    } else if days < 320.0 {
        format!("{} months", months.max(2.0))
    } else if days < 548.0 {
        "a year".into()
    } else {
        format!("{} years", years.max(2.0))
    }
}

/// Parses a timestamp: epoch milliseconds (number or numeric string), or an ISO-8601
/// date (`2024-05-01`, `2024-05-01T10:20:30(.123)(Z|±hh:mm)`; no zone = UTC).
pub fn parse_timestamp(v: &serde_json::Value) -> Option<f64> {
    match v {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => parse_date_str(s),
        _ => None,
    }
}

/// See [`parse_timestamp`].
pub fn parse_date_str(s: &str) -> Option<f64> {
    let s = s.trim();
    if let Ok(n) = s.parse::<f64>() {
        return Some(n);
    }
    let b = s.as_bytes();
    let num = |a: usize, l: usize| -> Option<i64> { s.get(a..a + l)?.parse::<i64>().ok() };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, mo, d) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let mut ms = days_from_civil(y, mo as u32, d as u32) * 86_400_000;
    let mut i = 10;
    if b.len() > 10 && (b[10] == b'T' || b[10] == b' ') {
        let (h, mi) = (num(11, 2)?, num(14, 2)?);
        ms += h * 3_600_000 + mi * 60_000;
        i = 16;
        if b.get(16) == Some(&b':') {
            ms += num(17, 2)? * 1000;
            i = 19;
            if b.get(19) == Some(&b'.') {
                let mut j = 20;
                let mut frac = String::new();
                while j < b.len() && b[j].is_ascii_digit() {
                    frac.push(b[j] as char);
                    j += 1;
                }
                frac.truncate(3);
                while frac.len() < 3 {
                    frac.push('0');
                }
                ms += frac.parse::<i64>().unwrap_or(0);
                i = j;
            }
        }
    }
    let tz = &s[i.min(s.len())..];
    if !tz.is_empty() && tz != "Z" {
        let sign = match tz.as_bytes()[0] {
            b'+' => -1,
            b'-' => 1,
            _ => return None,
        };
        let digits: String = tz[1..].chars().filter(|c| c.is_ascii_digit()).collect();
        if digits.len() < 2 {
            return None;
        }
        let h = digits[..2].parse::<i64>().ok()?;
        let m = digits.get(2..4).and_then(|x| x.parse::<i64>().ok()).unwrap_or(0);
        ms += sign * (h * 60 + m) * 60_000;
    }
    Some(ms as f64)
}

/// Parses `UTC+2`, `UTC-5:30`, `GMT+1` → offset in minutes.
pub fn parse_utc_offset(s: &str) -> Option<i32> {
    let t = s.trim();
    let up = t.to_ascii_uppercase();
    let rest = up.strip_prefix("UTC").or_else(|| up.strip_prefix("GMT"))?;
    if rest.is_empty() {
        return Some(0);
    }
    let (sign, body) = match rest.as_bytes()[0] {
        b'+' => (1, &rest[1..]),
        b'-' => (-1, &rest[1..]),
        _ => return None,
    };
    let (h, m) = match body.split_once(':') {
        Some((h, m)) => (h.parse::<i32>().ok()?, m.parse::<i32>().ok()?),
        None => (body.parse::<i32>().ok()?, 0),
    };
    if h > 14 || m > 59 {
        return None;
    }
    Some(sign * (h * 60 + m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_conversion_round_trips() {
        // 2024-10-05T15:04:09.007Z was a Saturday.
        let ms = parse_date_str("2024-10-05T15:04:09.007Z").unwrap();
        let c = to_civil(ms, 0);
        assert_eq!((c.year, c.month, c.day, c.hour, c.minute, c.second, c.milli), (2024, 10, 5, 15, 4, 9, 7));
        assert_eq!(c.weekday, 6);
        assert_eq!(to_civil(0.0, 0).weekday, 4);
        for d in [-1_000_000i64, -1, 0, 1, 19_999, 2_000_000] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
    }

    #[test]
    fn moment_formats() {
        let c = to_civil(parse_date_str("2024-10-05T15:04:09Z").unwrap(), 120);
        assert_eq!(format(&c, "LT"), "5:04 PM");
        assert_eq!(format(&c, "LL"), "October 5, 2024");
        assert_eq!(format(&c, "dddd"), "Saturday");
        assert_eq!(format(&c, "YYYY-MM-DD HH:mm:ss Z"), "2024-10-05 17:04:09 +02:00");
        assert_eq!(format(&c, "Do [of] MMM"), "5th of Oct");
    }

    #[test]
    fn humanize_thresholds() {
        assert_eq!(humanize(10_000.0), "a few seconds");
        assert_eq!(humanize(60_000.0), "a minute");
        assert_eq!(humanize(5.0 * 60_000.0), "5 minutes");
        assert_eq!(humanize(60.0 * 60_000.0), "an hour");
        assert_eq!(humanize(3.0 * 3_600_000.0), "3 hours");
        assert_eq!(humanize(26.0 * 3_600_000.0), "a day");
        assert_eq!(humanize(3.0 * 86_400_000.0), "3 days");
        assert_eq!(humanize(400.0 * 86_400_000.0), "a year");
    }

    #[test]
    fn utc_offsets() {
        assert_eq!(parse_utc_offset("UTC+2"), Some(120));
        assert_eq!(parse_utc_offset("utc-5:30"), Some(-330));
        assert_eq!(parse_utc_offset("UTC"), Some(0));
        assert_eq!(parse_utc_offset("Mars+1"), None);
    }
}
