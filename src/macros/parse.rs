//! Macro parser: text → a tree of text, macros and `{{if}}` blocks.
//!
//! Grammar (what the 1.19 engine accepts, reconstructed from recorded behaviour):
//!
//! ```text
//! macro    = "{{" ws* head "}}"
//! head     = name ws*                          (no arguments)
//!          | name ws* "::" arg ("::" arg)*      (argument list; args may contain macros)
//!          | name ":" arg                       (legacy single-colon form, one argument)
//!          | name ws+ arg                       (`{{if cond}}`, `{{roll 1d6}}`: one argument)
//!          | "//" anything                       (comment)
//!          | ("." | "$") var-name anything       (variable shorthand `{{.x += 1}}`)
//! name     = [A-Za-z_][A-Za-z0-9_-]*  |  "/" [A-Za-z_][A-Za-z0-9_-]*
//! ```
//!
//! Anything that does not fit (a single `}`, `{{ {{x}}`, a missing `}}`) is plain
//! text: the first `{` is emitted literally and parsing resumes one character later.
//!
//! Complexity: every start position is parsed at most once (results are memoised),
//! and a macro that runs into the end of the input makes every macro around it fail
//! at once, so hostile inputs such as `{{a {{a {{a …` stay linear. Nesting deeper
//! than [`MAX_DEPTH`] is treated as text.

use std::collections::HashMap;

/// Maximum macro nesting depth; deeper `{{` are plain text.
pub const MAX_DEPTH: usize = 48;

/// How the arguments were written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgStyle {
    /// `{{name}}`.
    None,
    /// `{{name::a::b}}`.
    Colons,
    /// `{{name:a}}` (legacy).
    Colon,
    /// `{{name a b}}` (one argument, everything after the first whitespace).
    Space,
    /// `{{// comment}}`.
    Comment,
    /// `{{.var op value}}` / `{{$var op value}}`.
    Shorthand,
}

/// A parsed node.
#[derive(Debug, Clone)]
pub enum Node {
    /// Literal text.
    Text(String),
    /// A macro call.
    Macro(Box<Macro>),
    /// `{{if cond}}then{{else}}else{{/if}}`.
    If(Box<IfBlock>),
}

/// One `{{…}}` call.
#[derive(Debug, Clone)]
pub struct Macro {
    /// Byte offset of the `{{` in the parsed text.
    pub offset: usize,
    /// The name as written (for shorthand: `.x` / `$x`; for comments `//`).
    pub name: String,
    /// The lower-cased name, for lookup.
    pub key: String,
    /// How arguments were written.
    pub style: ArgStyle,
    /// Raw text from `{{` up to the first argument (used to write the macro back).
    pub head: String,
    /// The arguments, untrimmed, each a node list (may contain macros and blocks).
    pub args: Vec<Vec<Node>>,
    /// Height of the macro tree under this node (1 = no nested macros).
    pub height: usize,
}

/// A scoped `{{if}}` block.
#[derive(Debug, Clone)]
pub struct IfBlock {
    /// The `{{if cond}}` macro.
    pub open: Macro,
    /// Nodes of the true branch.
    pub then_branch: Vec<Node>,
    /// `{{else}}` and the false branch, if present.
    pub else_branch: Option<(Macro, Vec<Node>)>,
    /// The `{{/if}}` macro.
    pub close: Macro,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fail {
    /// Not a macro here (e.g. `{{ {`, `{{char}`): the `{` is text.
    Invalid,
    /// Ran into the end of the input: every enclosing macro fails too.
    Eof,
    /// Nested too deeply: every enclosing macro fails too (not memoised).
    TooDeep,
}

struct Parser<'s> {
    s: &'s str,
    b: &'s [u8],
    memo: HashMap<usize, Result<(Macro, usize), Fail>>,
}

/// Parses `text` into nodes (with `{{if}}` blocks structured).
pub fn parse(text: &str) -> Vec<Node> {
    let mut p = Parser { s: text, b: text.as_bytes(), memo: HashMap::new() };
    let nodes = p.parse_top();
    structure_ifs(nodes)
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}
fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

impl<'s> Parser<'s> {
    fn parse_top(&mut self) -> Vec<Node> {
        let mut out = Vec::new();
        let mut text = String::new();
        let mut i = 0;
        while i < self.b.len() {
            if self.b[i] == b'{' && self.b.get(i + 1) == Some(&b'{') {
                match self.parse_macro(i, 0) {
                    Ok((m, end)) => {
                        flush(&mut text, &mut out);
                        out.push(Node::Macro(Box::new(m)));
                        i = end;
                        continue;
                    }
                    Err(_) => {
                        text.push('{');
                        i += 1;
                        continue;
                    }
                }
            }
            let ch_len = utf8_len(self.b[i]);
            text.push_str(&self.s[i..i + ch_len]);
            i += ch_len;
        }
        flush(&mut text, &mut out);
        out
    }

    fn skip_ws(&self, mut i: usize) -> usize {
        while i < self.b.len() {
            let c = self.b[i];
            if c == b' ' || c == b'\t' || c == b'\n' || c == b'\r' {
                i += 1;
            } else if c >= 0x80 {
                // Unicode whitespace (NBSP and friends).
                let ch = self.s[i..].chars().next().unwrap_or('x');
                if ch.is_whitespace() {
                    i += ch.len_utf8();
                } else {
                    break;
                }
            } else {
                break;
            }
        }
        i
    }

    fn parse_macro(&mut self, start: usize, depth: usize) -> Result<(Macro, usize), Fail> {
        if depth > MAX_DEPTH {
            return Err(Fail::TooDeep);
        }
        if let Some(r) = self.memo.get(&start) {
            match r {
                Ok((m, _)) if depth + m.height > MAX_DEPTH + 1 => return Err(Fail::TooDeep),
                _ => return r.clone(),
            }
        }
        let r = self.parse_macro_uncached(start, depth);
        if !matches!(r, Err(Fail::TooDeep)) {
            self.memo.insert(start, r.clone());
        }
        r
    }

    fn parse_macro_uncached(&mut self, start: usize, depth: usize) -> Result<(Macro, usize), Fail> {
        let b = self.b;
        let mut i = self.skip_ws(start + 2);
        let name_start = i;
        let style;
        let name_end;
        let args_start;
        if b[i..].starts_with(b"//") {
            name_end = i + 2;
            style = ArgStyle::Comment;
            args_start = name_end;
        } else if i < b.len()
            && (b[i] == b'.' || b[i] == b'$')
            && b.get(i + 1).is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'_')
        {
            i += 1;
            // Variable names: letters, digits and '_' ('-' would swallow `--`).
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            name_end = i;
            style = ArgStyle::Shorthand;
            args_start = name_end;
        } else {
            if i < b.len() && b[i] == b'/' {
                i += 1;
            }
            if i >= b.len() || !is_ident_start(b[i]) {
                return Err(if i >= b.len() { Fail::Eof } else { Fail::Invalid });
            }
            while i < b.len() && is_ident(b[i]) {
                i += 1;
            }
            name_end = i;
            let after_ws = self.skip_ws(i);
            if b[after_ws..].starts_with(b"}}") {
                let name = self.s[name_start..name_end].to_string();
                let m = Macro {
                    offset: start,
                    key: name.to_ascii_lowercase(),
                    name,
                    style: ArgStyle::None,
                    head: self.s[start..after_ws].to_string(),
                    args: Vec::new(),
                    height: 1,
                };
                return Ok((m, after_ws + 2));
            }
            if b[after_ws..].starts_with(b"::") {
                style = ArgStyle::Colons;
                args_start = after_ws + 2;
            } else if after_ws == i && b.get(i) == Some(&b':') {
                style = ArgStyle::Colon;
                args_start = i + 1;
            } else if after_ws > i && after_ws < b.len() {
                style = ArgStyle::Space;
                args_start = after_ws;
            } else if after_ws >= b.len() {
                return Err(Fail::Eof);
            } else {
                return Err(Fail::Invalid);
            }
        }

        // Scan the arguments up to the matching "}}".
        let split = style == ArgStyle::Colons;
        let mut args: Vec<Vec<Node>> = Vec::new();
        let mut cur: Vec<Node> = Vec::new();
        let mut text = String::new();
        let mut height = 1;
        let mut j = args_start;
        loop {
            if j >= b.len() {
                return Err(Fail::Eof);
            }
            let c = b[j];
            if c == b'}' && b.get(j + 1) == Some(&b'}') {
                flush(&mut text, &mut cur);
                args.push(cur);
                let name = self.s[name_start..name_end].to_string();
                let args = args.into_iter().map(structure_ifs).collect();
                let m = Macro {
                    offset: start,
                    key: name.to_ascii_lowercase(),
                    name,
                    style,
                    head: self.s[start..args_start].to_string(),
                    args,
                    height,
                };
                return Ok((m, j + 2));
            }
            if c == b'{' && b.get(j + 1) == Some(&b'{') {
                match self.parse_macro(j, depth + 1) {
                    Ok((m, end)) => {
                        flush(&mut text, &mut cur);
                        height = height.max(m.height + 1);
                        cur.push(Node::Macro(Box::new(m)));
                        j = end;
                        continue;
                    }
                    Err(Fail::Invalid) => {
                        text.push('{');
                        j += 1;
                        continue;
                    }
                    Err(f) => return Err(f),
                }
            }
            if split && c == b':' && b.get(j + 1) == Some(&b':') {
                flush(&mut text, &mut cur);
                args.push(std::mem::take(&mut cur));
                j += 2;
                continue;
            }
            let l = utf8_len(c);
            text.push_str(&self.s[j..j + l]);
            j += l;
        }
    }
}

fn utf8_len(first: u8) -> usize {
    match first {
        0x00..=0x7F => 1,
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        _ => 4,
    }
}

fn flush(text: &mut String, out: &mut Vec<Node>) {
    if !text.is_empty() {
        out.push(Node::Text(std::mem::take(text)));
    }
}

struct Frame {
    open: Macro,
    then_branch: Vec<Node>,
    else_branch: Option<(Macro, Vec<Node>)>,
}

impl Frame {
    fn target(&mut self) -> &mut Vec<Node> {
        match &mut self.else_branch {
            Some((_, e)) => e,
            None => &mut self.then_branch,
        }
    }
    fn flatten(self) -> Vec<Node> {
        let mut v = vec![Node::Macro(Box::new(self.open))];
        v.extend(self.then_branch);
        if let Some((m, e)) = self.else_branch {
            v.push(Node::Macro(Box::new(m)));
            v.extend(e);
        }
        v
    }
}

/// Turns `{{if}}`/`{{else}}`/`{{/if}}` macros of one node list into [`IfBlock`]s.
/// Unbalanced tags stay plain macros (and are written back as text).
fn structure_ifs(nodes: Vec<Node>) -> Vec<Node> {
    let mut out: Vec<Node> = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    for node in nodes {
        match node {
            Node::Macro(m) if m.key == "if" && !m.args.is_empty() && m.style != ArgStyle::Colon => {
                stack.push(Frame { open: *m, then_branch: Vec::new(), else_branch: None });
            }
            Node::Macro(m)
                if m.key == "else" && m.args.is_empty() && stack.last().is_some_and(|f| f.else_branch.is_none()) =>
            {
                if let Some(f) = stack.last_mut() {
                    f.else_branch = Some((*m, Vec::new()));
                }
            }
            Node::Macro(m) if m.key == "/if" && m.args.is_empty() && !stack.is_empty() => {
                if let Some(f) = stack.pop() {
                    let block = Node::If(Box::new(IfBlock {
                        open: f.open,
                        then_branch: f.then_branch,
                        else_branch: f.else_branch,
                        close: *m,
                    }));
                    match stack.last_mut() {
                        Some(top) => top.target().push(block),
                        None => out.push(block),
                    }
                }
            }
            other => match stack.last_mut() {
                Some(top) => top.target().push(other),
                None => out.push(other),
            },
        }
    }
    while let Some(f) = stack.pop() {
        let flat = f.flatten();
        match stack.last_mut() {
            Some(top) => top.target().extend(flat),
            None => out.extend(flat),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(nodes: &[Node]) -> Vec<String> {
        nodes
            .iter()
            .map(|n| match n {
                Node::Text(t) => format!("T({t})"),
                Node::Macro(m) => format!("M({}/{})", m.key, m.args.len()),
                Node::If(_) => "IF".to_string(),
            })
            .collect()
    }

    #[test]
    fn parses_plain_and_argument_forms() {
        assert_eq!(names(&parse("a{{char}}b")), ["T(a)", "M(char/0)", "T(b)"]);
        assert_eq!(names(&parse("{{ user }}")), ["M(user/0)"]);
        assert_eq!(names(&parse("{{setvar::a::b}}")), ["M(setvar/2)"]);
        assert_eq!(names(&parse("{{roll 1d6}}")), ["M(roll/1)"]);
        assert_eq!(names(&parse("{{roll:1d6}}")), ["M(roll/1)"]);
        assert_eq!(names(&parse("{{// hi {{x}} }}")), ["M(///1)"]);
        assert_eq!(names(&parse("{{.c++}}")), ["M(.c/1)"]);
    }

    #[test]
    fn malformed_braces_are_text() {
        assert_eq!(names(&parse("{{char} x")), ["T({{char} x)"]);
        assert_eq!(names(&parse("{{{char}}}")), ["T({)", "M(char/0)", "T(})"]);
        assert_eq!(names(&parse("{{ {{user}}")), ["T({{ )", "M(user/0)"]);
        assert_eq!(names(&parse("{{unclosed")), ["T({{unclosed)"]);
        assert_eq!(names(&parse("{{")), ["T({{)"]);
    }

    #[test]
    fn nested_arguments() {
        let n = parse("{{setvar::k_{{user}}::v}}");
        let Node::Macro(m) = &n[0] else { panic!() };
        assert_eq!(m.args.len(), 2);
        assert_eq!(names(&m.args[0]), ["T(k_)", "M(user/0)"]);
        assert_eq!(m.height, 2);
    }

    #[test]
    fn if_blocks_are_structured_and_unbalanced_ones_stay_flat() {
        assert_eq!(names(&parse("{{if .a}}x{{else}}y{{/if}}z")), ["IF", "T(z)"]);
        assert_eq!(names(&parse("{{if .a}}x")), ["M(if/1)", "T(x)"]);
        assert_eq!(names(&parse("x{{/if}}")), ["T(x)", "M(/if/0)"]);
        let n = parse("{{if .a}}{{if .b}}1{{/if}}{{/if}}");
        let Node::If(b) = &n[0] else { panic!() };
        assert!(matches!(b.then_branch[0], Node::If(_)));
    }

    #[test]
    fn hostile_inputs_stay_fast() {
        let s = "{{a ".repeat(20_000);
        let t = std::time::Instant::now();
        let n = parse(&s);
        assert!(matches!(&n[0], Node::Text(_)));
        let s2 = "{{a::".repeat(5_000) + &"}}".repeat(5_000);
        let _ = parse(&s2);
        let s3 = "{{{".repeat(20_000);
        let _ = parse(&s3);
        assert!(t.elapsed().as_secs() < 5, "took {:?}", t.elapsed());
    }
}
