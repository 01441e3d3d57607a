//! A small YAML subset reader for Oobabooga (text-generation-webui) character files.
//!
//! Those files are a flat mapping of string keys to string scalars:
//!
//! ```yaml
//! name: Olga
//! greeting: "Welcome!"
//! context: |
//!   Olga is a librarian.
//!   She catalogues everything.
//! ```
//!
//! Supported: `key: value` lines at column 0, plain scalars, `"double"` (with
//! `\n \t \" \\ \uXXXX` escapes) and `'single'` (`''` escape) quoted scalars, block
//! scalars `|` / `>` (with `-`/`+` chomping), `#` comments, and multi-line plain or
//! quoted scalars continued on indented lines. Anything else (nested mappings,
//! lists, anchors) is rejected as `bad_json` — the YAML counterpart of a parse error —
//! which keeps this reader ~150 lines instead of a 28 KB YAML crate.
//!
//! Mapping to V3: `name` (or `char_name`/`bot`) → `name`,
//! `context` → `description`, `greeting` → `first_mes`, `example_dialogue` →
//! `mes_example`; all other keys are kept in `extensions.oobabooga`.

use serde_json::{Map, Value};

use crate::card::model::Card;
use crate::card::warning::Warnings;
use crate::error::{Error, ErrorCode};

fn bad(line: usize, msg: &str) -> Error {
    Error::new(ErrorCode::BadJson, format!("YAML line {}: {msg}", line + 1))
}

/// Parses the flat mapping. Keys keep file order.
pub fn parse_flat_mapping(text: &str) -> Result<Vec<(String, String)>, Error> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') || t == "---" || t == "..." {
            i += 1;
            continue;
        }
        if line.starts_with([' ', '\t']) {
            return Err(bad(i, "unexpected indentation (only a flat mapping is supported)"));
        }
        let colon = find_key_colon(line).ok_or_else(|| bad(i, "expected `key: value`"))?;
        let key = unquote_key(line[..colon].trim());
        let rest = line[colon + 1..].trim_start();
        i += 1;
        // Continuation lines: indented or blank.
        let cont_end = {
            let mut j = i;
            while j < lines.len() && (lines[j].trim().is_empty() || lines[j].starts_with([' ', '\t'])) {
                j += 1;
            }
            // Trailing blank lines belong to nobody (except `|+`, handled below).
            j
        };
        let cont = &lines[i..cont_end];
        let value = if rest.starts_with('|') || rest.starts_with('>') {
            block_scalar(rest, cont)
        } else if rest.starts_with('"') {
            let mut all = rest.to_string();
            for c in cont {
                all.push('\n');
                all.push_str(c);
            }
            double_quoted(&all).ok_or_else(|| bad(i - 1, "unterminated double-quoted string"))?
        } else if rest.starts_with('\'') {
            let mut all = rest.to_string();
            for c in cont {
                all.push('\n');
                all.push_str(c);
            }
            single_quoted(&all).ok_or_else(|| bad(i - 1, "unterminated single-quoted string"))?
        } else {
            if rest.starts_with(['[', '{', '&', '*', '!'])
                || (rest.is_empty() && cont.iter().any(|c| c.trim_start().starts_with("- ")))
            {
                return Err(bad(i - 1, "nested YAML structures are not supported"));
            }
            let mut parts: Vec<&str> = vec![strip_comment(rest)];
            parts.extend(cont.iter().map(|c| c.trim()));
            fold_plain(&parts)
        };
        out.push((key, value));
        i = cont_end;
    }
    Ok(out)
}

fn find_key_colon(line: &str) -> Option<usize> {
    let b = line.as_bytes();
    if b.first() == Some(&b'"') || b.first() == Some(&b'\'') {
        let q = b[0];
        let end = b[1..].iter().position(|&c| c == q)? + 1;
        return (b.get(end + 1) == Some(&b':')).then_some(end + 1);
    }
    (0..b.len()).find(|&k| b[k] == b':' && (k + 1 == b.len() || b[k + 1] == b' ' || b[k + 1] == b'\t'))
}

fn unquote_key(k: &str) -> String {
    if k.len() >= 2 && (k.starts_with('"') && k.ends_with('"') || k.starts_with('\'') && k.ends_with('\'')) {
        k[1..k.len() - 1].to_string()
    } else {
        k.to_string()
    }
}

fn strip_comment(s: &str) -> &str {
    match s.find(" #") {
        Some(i) => s[..i].trim_end(),
        None if s.starts_with('#') => "",
        None => s.trim_end(),
    }
}

/// Plain multi-line scalars fold: lines join with a space, blank lines become `\n`.
fn fold_plain(parts: &[&str]) -> String {
    let mut s = String::new();
    let mut pending_space = false;
    for p in parts {
        if p.is_empty() {
            s.push('\n');
            pending_space = false;
            continue;
        }
        if pending_space {
            s.push(' ');
        }
        s.push_str(p);
        pending_space = true;
    }
    s.trim_end_matches('\n').to_string()
}

fn block_scalar(header: &str, cont: &[&str]) -> String {
    let literal = header.starts_with('|');
    let chomp = if header.contains('-') {
        '-'
    } else if header.contains('+') {
        '+'
    } else {
        ' '
    };
    // Indentation is spaces/tabs only (ASCII), so `indent` is a char boundary of every
    // line that has at least that much of it.
    let ws = |l: &&&str| l.len() - l.trim_start_matches([' ', '\t']).len();
    let indent = cont.iter().filter(|l| !l.trim().is_empty()).map(|l| ws(&l)).min().unwrap_or(0);
    let body: Vec<&str> =
        cont.iter().map(|l| l.get(indent..).unwrap_or_else(|| l.trim_start_matches([' ', '\t']))).collect();
    let mut s = String::new();
    if literal {
        for l in &body {
            s.push_str(l);
            s.push('\n');
        }
    } else {
        let mut prev_blank = true;
        for l in &body {
            if l.trim().is_empty() {
                s.push('\n');
                prev_blank = true;
            } else {
                if !prev_blank {
                    s.push(' ');
                }
                s.push_str(l);
                prev_blank = false;
            }
        }
        s.push('\n');
    }
    let trimmed = s.trim_end_matches('\n');
    match chomp {
        '-' => trimmed.to_string(),
        '+' => s,
        _ => {
            if trimmed.is_empty() {
                String::new()
            } else {
                format!("{trimmed}\n")
            }
        }
    }
}

fn double_quoted(s: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = s[1..].chars();
    let mut pending_ws = String::new();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(out),
            '\\' => {
                out.push_str(&pending_ws);
                pending_ws.clear();
                match chars.next()? {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    '0' => out.push('\0'),
                    '"' => out.push('"'),
                    '\\' => out.push('\\'),
                    '/' => out.push('/'),
                    ' ' => out.push(' '),
                    '\n' => {}
                    'u' => {
                        let h: String = chars.by_ref().take(4).collect();
                        out.push(char::from_u32(u32::from_str_radix(&h, 16).ok()?).unwrap_or('\u{FFFD}'));
                    }
                    'x' => {
                        let h: String = chars.by_ref().take(2).collect();
                        out.push(char::from_u32(u32::from_str_radix(&h, 16).ok()?).unwrap_or('\u{FFFD}'));
                    }
                    other => {
                        out.push('\\');
                        out.push(other);
                    }
                }
            }
            '\n' => {
                // Line folding inside quotes: trailing spaces dropped, newline → space
                // (an empty line → newline), leading indentation dropped.
                let mut newlines = 0;
                let mut rest = chars.clone();
                loop {
                    match rest.clone().next() {
                        Some(' ') | Some('\t') => {
                            rest.next();
                        }
                        Some('\n') => {
                            newlines += 1;
                            rest.next();
                        }
                        _ => break,
                    }
                }
                chars = rest;
                pending_ws.clear();
                if newlines == 0 {
                    out.push(' ');
                } else {
                    out.extend(std::iter::repeat_n('\n', newlines));
                }
            }
            ' ' | '\t' => pending_ws.push(c),
            _ => {
                out.push_str(&pending_ws);
                pending_ws.clear();
                out.push(c);
            }
        }
    }
    None
}

fn single_quoted(s: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = s[1..].chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            if chars.peek() == Some(&'\'') {
                chars.next();
                out.push('\'');
            } else {
                return Some(out);
            }
        } else if c == '\n' {
            while matches!(chars.peek(), Some(' ') | Some('\t')) {
                chars.next();
            }
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    None
}

/// Reads an Oobabooga character YAML into a card. `not_a_card` when the mapping has
/// none of the character keys.
pub fn read_oobabooga(text: &str, w: &mut Warnings) -> Result<Card, Error> {
    let pairs = parse_flat_mapping(text)?;
    let mut card = Card::default();
    let mut rest = Map::new();
    let mut known = 0;
    for (k, v) in pairs {
        match k.as_str() {
            "name" | "char_name" | "bot" if card.name.is_empty() => {
                card.name = v;
                known += 1;
            }
            "context" => {
                card.description = v;
                known += 1;
            }
            "greeting" | "char_greeting" => {
                card.first_mes = v;
                known += 1;
            }
            "example_dialogue" => card.mes_example = v,
            _ => {
                rest.insert(k, Value::String(v));
            }
        }
    }
    if known == 0 || card.name.is_empty() && card.first_mes.is_empty() && card.description.is_empty() {
        return Err(Error::new(ErrorCode::NotACard, "the text has no character fields (name/context/greeting)"));
    }
    if !rest.is_empty() {
        card.extensions.insert("oobabooga".into(), Value::Object(rest));
    }
    if card.name.trim().is_empty() {
        w.push("empty_name", "the YAML character has no name");
    }
    Ok(card)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_yaml() {
        let y = "# comment\nname: Olga\ngreeting: \"Hi\\nthere \\\"you\\\"\"\ncontext: |\n  line one\n  line two\n\nyour_name: 'It''s me'\nexample_dialogue: >-\n  folded\n  text\nplain: a\n  b\n";
        let m = parse_flat_mapping(y).unwrap();
        let get = |k: &str| m.iter().find(|(a, _)| a == k).map(|(_, b)| b.as_str());
        assert_eq!(get("name"), Some("Olga"));
        assert_eq!(get("greeting"), Some("Hi\nthere \"you\""));
        assert_eq!(get("context"), Some("line one\nline two\n"));
        assert_eq!(get("your_name"), Some("It's me"));
        assert_eq!(get("example_dialogue"), Some("folded text"));
        assert_eq!(get("plain"), Some("a b"));
    }

    #[test]
    fn odd_whitespace_does_not_panic() {
        let _ = parse_flat_mapping("a: |\n  x\n\u{3000}y\n");
        let _ = parse_flat_mapping("a: >\n \u{3000}\n  z\n");
    }

    #[test]
    fn nested_yaml_rejected() {
        assert!(parse_flat_mapping("a:\n  - x\n").is_err());
        assert!(parse_flat_mapping("  indented: x\n").is_err());
    }
}
