//! The macro evaluator.

use serde_json::Value;

use super::parse::{self, ArgStyle, IfBlock, Macro, Node};
use super::rng::{fnv1a64, Rng};
use super::{time, value, MacroContext, VarMap};

/// Nesting limit for card fields that contain macros that insert card fields.
const MAX_FIELD_DEPTH: usize = 4;
/// Total characters the engine may produce from field expansions in one render
/// (guards against exponential self-referencing cards).
const MAX_EXPANSION: usize = 8 << 20;
/// Dice limits for `{{roll}}`.
const MAX_DICE: u64 = 1000;

/// Output with `{{trim}}` marker positions (byte offsets into `s`).
#[derive(Default)]
struct Out {
    s: String,
    trims: Vec<usize>,
}

impl Out {
    fn finish(mut self) -> String {
        if self.trims.is_empty() {
            return self.s;
        }
        // Right to left so earlier offsets stay valid.
        self.trims.sort_unstable();
        self.trims.dedup();
        let mut s = self.s;
        for &p in self.trims.iter().rev() {
            let p = p.min(s.len());
            let bytes = s.as_bytes();
            let mut a = p;
            loop {
                if a >= 1 && bytes[a - 1] == b'\n' {
                    a -= 1;
                    if a >= 1 && bytes[a - 1] == b'\r' {
                        a -= 1;
                    }
                } else {
                    break;
                }
            }
            let mut b = p;
            loop {
                if bytes.get(b) == Some(&b'\n') {
                    b += 1;
                } else if bytes.get(b) == Some(&b'\r') && bytes.get(b + 1) == Some(&b'\n') {
                    b += 2;
                } else {
                    break;
                }
            }
            s.replace_range(a..b, "");
        }
        s
    }
}

enum Outcome {
    Text(String),
    Trim,
}

/// A macro evaluator holding variables and random state across several renders
/// (a prompt build renders many fields with one engine).
pub struct MacroEngine<'c> {
    ctx: &'c MacroContext,
    local: VarMap,
    global: VarMap,
    rng: Rng,
    banned: Vec<String>,
    original: Option<String>,
    original_used: bool,
    field_depth: usize,
    expanded: usize,
    now_ms: f64,
}

impl<'c> MacroEngine<'c> {
    /// A new engine; variables start from the context's maps, the RNG from its seed.
    pub fn new(ctx: &'c MacroContext) -> Self {
        MacroEngine {
            ctx,
            local: ctx.local_variables.clone(),
            global: ctx.global_variables.clone(),
            rng: Rng::new(ctx.seed.unwrap_or(0)),
            banned: Vec::new(),
            original: None,
            original_used: false,
            field_depth: 0,
            expanded: 0,
            now_ms: ctx.now.unwrap_or_else(time::system_now_ms),
        }
    }

    /// Uses an external random generator state (e.g. shared with World Info).
    pub fn with_rng(mut self, rng: Rng) -> Self {
        self.rng = rng;
        self
    }

    /// The engine's random generator (to continue the sequence elsewhere).
    pub fn rng_mut(&mut self) -> &mut Rng {
        &mut self.rng
    }

    /// Renders one text.
    pub fn render(&mut self, text: &str) -> String {
        if !text.contains("{{") && !text.contains('<') {
            return text.to_string();
        }
        let text = replace_legacy(text);
        if !text.contains("{{") {
            return text;
        }
        let nodes = parse::parse(&text);
        let mut out = Out::default();
        self.eval_nodes(&nodes, &mut out);
        out.finish()
    }

    /// Renders a prompt that overrides `original` (`{{original}}` inserts it once).
    pub fn render_with_original(&mut self, text: &str, original: &str) -> String {
        let prev = self.original.replace(original.to_string());
        let prev_used = std::mem::replace(&mut self.original_used, false);
        let r = self.render(text);
        self.original = prev;
        self.original_used = prev_used;
        r
    }

    /// Current chat variables.
    pub fn local_variables(&self) -> &VarMap {
        &self.local
    }

    /// Current global variables.
    pub fn global_variables(&self) -> &VarMap {
        &self.global
    }

    /// Consumes the engine: (local variables, global variables, banned strings).
    pub fn finish(self) -> (VarMap, VarMap, Vec<String>) {
        (self.local, self.global, self.banned)
    }

    fn eval_nodes(&mut self, nodes: &[Node], out: &mut Out) {
        for n in nodes {
            match n {
                Node::Text(t) => out.s.push_str(t),
                Node::Macro(m) => self.eval_macro(m, out),
                Node::If(b) => self.eval_if(b, out),
            }
        }
    }

    fn eval_to_string(&mut self, nodes: &[Node]) -> String {
        let mut o = Out::default();
        self.eval_nodes(nodes, &mut o);
        o.finish()
    }

    fn write_as_is(&self, m: &Macro, raw_args: &[String], out: &mut Out) {
        out.s.push_str(&m.head);
        out.s.push_str(&raw_args.join("::"));
        out.s.push_str("}}");
    }

    fn eval_macro(&mut self, m: &Macro, out: &mut Out) {
        if m.style == ArgStyle::Comment {
            return;
        }
        let raw: Vec<String> = m.args.iter().map(|a| self.eval_to_string(a)).collect();
        let result = if m.style == ArgStyle::Shorthand {
            let expr = raw.first().map(String::as_str).unwrap_or("");
            self.shorthand(&m.name, expr).map(Outcome::Text)
        } else {
            let args: Vec<&str> = raw.iter().map(|s| s.trim()).collect();
            self.call(m, &args)
        };
        match result {
            Some(Outcome::Text(t)) => out.s.push_str(&t),
            Some(Outcome::Trim) => out.trims.push(out.s.len()),
            None => self.write_as_is(m, &raw, out),
        }
    }

    fn eval_if(&mut self, b: &IfBlock, out: &mut Out) {
        let cond_raw = b.open.args.first().map(|a| self.eval_to_string(a)).unwrap_or_default();
        let truthy = self.condition(cond_raw.trim());
        if truthy {
            self.eval_nodes(&b.then_branch, out);
        } else if let Some((_, e)) = &b.else_branch {
            self.eval_nodes(e, out);
        }
    }

    /// Evaluates an `{{if}}` condition to a boolean.
    fn condition(&mut self, cond: &str) -> bool {
        let (neg, c) = match cond.strip_prefix('!') {
            Some(rest) => (true, rest.trim()),
            None => (false, cond),
        };
        let val: String = if let Some(name) = c.strip_prefix('.') {
            self.local.get(name.trim()).map(value::to_js_string).unwrap_or_default()
        } else if let Some(name) = c.strip_prefix('$') {
            self.global.get(name.trim()).map(value::to_js_string).unwrap_or_default()
        } else if !c.is_empty() && c.bytes().all(|x| x.is_ascii_alphanumeric() || x == b'_' || x == b'-') {
            // A bare macro name is resolved; anything else is literal text.
            let probe = Macro {
                offset: 0,
                name: c.to_string(),
                key: c.to_ascii_lowercase(),
                style: ArgStyle::None,
                head: String::new(),
                args: Vec::new(),
                height: 1,
            };
            match self.call(&probe, &[]) {
                Some(Outcome::Text(t)) => t,
                Some(Outcome::Trim) => String::new(),
                None => c.to_string(),
            }
        } else {
            c.to_string()
        };
        let v = val.trim().to_ascii_lowercase();
        let truthy = !(v.is_empty() || v == "false" || v == "off" || v == "0");
        truthy != neg
    }

    /// Renders a card field that may itself contain macros.
    fn field(&mut self, text: &str) -> String {
        if self.field_depth >= MAX_FIELD_DEPTH || self.expanded > MAX_EXPANSION {
            return text.to_string();
        }
        self.field_depth += 1;
        let r = self.render(text);
        self.field_depth -= 1;
        self.expanded = self.expanded.saturating_add(r.len());
        r
    }

    fn is_group(&self) -> bool {
        !self.ctx.group_members.is_empty()
    }

    fn last_where(&self, f: impl Fn(&super::ChatMessage) -> bool) -> Option<usize> {
        self.ctx.chat.iter().rposition(f)
    }

    fn mes_examples(&mut self) -> String {
        if let Some(pre) = &self.ctx.mes_examples {
            return self.field(&pre.clone());
        }
        let raw = self.field(&self.ctx.mes_example.clone());
        let sep = self.ctx.example_separator.clone().unwrap_or_else(|| "***".to_string());
        super::format_examples(&raw, &sep)
    }

    fn now_local(&self, offset: i32) -> time::Civil {
        time::to_civil(self.now_ms, offset)
    }

    fn pick_index(&self, m: &Macro, n: usize) -> usize {
        let mut key = Vec::new();
        key.extend_from_slice(self.ctx.chat_id.as_bytes());
        key.push(0);
        key.extend_from_slice(&(m.offset as u64).to_le_bytes());
        key.extend_from_slice(m.name.as_bytes());
        (fnv1a64(&key) % n.max(1) as u64) as usize
    }

    /// Dispatches a named macro. `None` = unknown or wrong arity (left as written).
    fn call(&mut self, m: &Macro, args: &[&str]) -> Option<Outcome> {
        use Outcome::Text as T;
        let ctx = self.ctx;
        let n = args.len();
        let key = m.key.as_str();
        // Zero-argument macros.
        if n == 0 {
            let s: String = match key {
                "user" => ctx.user.clone(),
                "char" => ctx.char_name.clone(),
                "charifnotgroup" => ctx.char_name.clone(),
                "group" => {
                    if self.is_group() {
                        ctx.group_members.join(", ")
                    } else {
                        ctx.char_name.clone()
                    }
                }
                "groupnotmuted" => {
                    if self.is_group() {
                        ctx.group_members
                            .iter()
                            .filter(|x| !ctx.group_muted.contains(x))
                            .cloned()
                            .collect::<Vec<_>>()
                            .join(", ")
                    } else {
                        ctx.char_name.clone()
                    }
                }
                "notchar" => {
                    if self.is_group() {
                        let mut v: Vec<String> =
                            ctx.group_members.iter().filter(|x| **x != ctx.char_name).cloned().collect();
                        v.push(ctx.user.clone());
                        v.join(", ")
                    } else {
                        ctx.user.clone()
                    }
                }
                "description" | "chardescription" => self.field(&ctx.description),
                "personality" | "charpersonality" => self.field(&ctx.personality),
                "scenario" | "charscenario" => self.field(&ctx.scenario),
                "persona" => self.field(&ctx.persona),
                "charprompt" => self.field(&ctx.system_prompt),
                "charinstruction" | "charjailbreak" => self.field(&ctx.post_history_instructions),
                "chardepthprompt" => self.field(&ctx.depth_prompt),
                "creatornotes" | "charcreatornotes" => self.field(&ctx.creator_notes),
                "charversion" | "char_version" | "version" => ctx.char_version.clone(),
                "greeting" | "charfirstmessage" => self.field(&ctx.first_mes),
                "mesexamplesraw" => self.field(&ctx.mes_example),
                "mesexamples" => self.mes_examples(),
                "systemprompt" => self.field(&ctx.global_system_prompt),
                "original" => {
                    let o = self.original.clone()?;
                    if self.original_used {
                        String::new()
                    } else {
                        self.original_used = true;
                        o
                    }
                }
                "input" => ctx.input.clone(),
                "lastmessage" => ctx.chat.last().map(|x| x.mes.clone()).unwrap_or_default(),
                "lastusermessage" => {
                    self.last_where(|x| x.is_user && !x.is_system).map(|i| ctx.chat[i].mes.clone()).unwrap_or_default()
                }
                "lastcharmessage" => {
                    self.last_where(|x| !x.is_user && !x.is_system).map(|i| ctx.chat[i].mes.clone()).unwrap_or_default()
                }
                "lastmessageid" => {
                    if ctx.chat.is_empty() {
                        String::new()
                    } else {
                        (ctx.chat.len() - 1).to_string()
                    }
                }
                "firstincludedmessageid" => ctx.first_included_message_id.map(|x| x.to_string()).unwrap_or_default(),
                "currentswipeid" => match ctx.chat.last() {
                    Some(msg) => (msg.swipe_id.unwrap_or(0) + 1).to_string(),
                    None => String::new(),
                },
                "lastswipeid" => match ctx.chat.last() {
                    Some(msg) => msg.swipes.as_ref().map(|s| s.len().max(1)).unwrap_or(1).to_string(),
                    None => String::new(),
                },
                "lastgenerationtype" => {
                    if ctx.last_generation_type.is_empty() {
                        "normal".to_string()
                    } else {
                        ctx.last_generation_type.clone()
                    }
                }
                "model" => ctx.model.clone(),
                "maxprompt" => ctx.max_context.saturating_sub(ctx.max_response).to_string(),
                "maxcontext" => ctx.max_context.to_string(),
                "maxresponse" => ctx.max_response.to_string(),
                "ismobile" => ctx.is_mobile.to_string(),
                "time" => time::format(&self.now_local(ctx.utc_offset_minutes), "LT"),
                "date" => time::format(&self.now_local(ctx.utc_offset_minutes), "LL"),
                "weekday" => time::format(&self.now_local(ctx.utc_offset_minutes), "dddd"),
                "isotime" => time::format(&self.now_local(ctx.utc_offset_minutes), "HH:mm"),
                "isodate" => time::format(&self.now_local(ctx.utc_offset_minutes), "YYYY-MM-DD"),
                "idleduration" | "idle_duration" => {
                    let last = self
                        .last_where(|x| x.is_user && !x.is_system)
                        .and_then(|i| ctx.chat[i].send_date.as_ref())
                        .and_then(time::parse_timestamp);
                    match last {
                        Some(t) => time::humanize(self.now_ms - t),
                        None => "just now".to_string(),
                    }
                }
                "newline" => "\n".to_string(),
                "space" => " ".to_string(),
                "noop" => String::new(),
                "trim" => return Some(Outcome::Trim),
                _ => return None,
            };
            return Some(T(s));
        }
        let s: String = match (key, n) {
            ("time", 1) => {
                let off = time::parse_utc_offset(args[0])?;
                time::format(&self.now_local(off), "LT")
            }
            ("datetimeformat", 1) => time::format(&self.now_local(ctx.utc_offset_minutes), args[0]),
            ("timediff", 2) => {
                let a = time::parse_date_str(args[0])?;
                let b = time::parse_date_str(args[1])?;
                let d = a - b;
                let h = time::humanize(d);
                if d >= 0.0 {
                    format!("in {h}")
                } else {
                    format!("{h} ago")
                }
            }
            ("hasextension", 1) => ctx.extensions.iter().any(|e| e.eq_ignore_ascii_case(args[0])).to_string(),
            ("random", _) => {
                let items = list_items(m, args);
                if items.is_empty() {
                    String::new()
                } else {
                    let k = self.rng.below(items.len() as u64) as usize;
                    items[k].clone()
                }
            }
            ("pick", _) => {
                let items = list_items(m, args);
                if items.is_empty() {
                    String::new()
                } else {
                    items[self.pick_index(m, items.len())].clone()
                }
            }
            ("roll", 1) => roll(args[0], &mut self.rng).map(|x| x.to_string()).unwrap_or_default(),
            ("reverse", 1) => args[0].chars().rev().collect(),
            ("newline", 1) | ("space", 1) => {
                let count = args[0].parse::<usize>().ok()?.min(1000);
                (if key == "newline" { "\n" } else { " " }).repeat(count)
            }
            ("banned", 1) => {
                let w = args[0].trim_matches('"').to_string();
                if !w.is_empty() {
                    self.banned.push(w);
                }
                String::new()
            }
            ("outlet", 1) => ctx.outlets.get(args[0]).map(|v| v.join("\n")).unwrap_or_default(),
            _ => return self.var_macro(key, args).map(T),
        };
        Some(T(s))
    }

    /// `getvar`/`setvar`/… and their `…globalvar…` twins.
    fn var_macro(&mut self, key: &str, args: &[&str]) -> Option<String> {
        let (global, op) = if let Some(op) = key.strip_suffix("globalvar") {
            (true, op)
        } else if let Some(op) = key.strip_suffix("globalvarkey") {
            (
                true,
                match op {
                    "get" => "getkey",
                    "set" => "setkey",
                    _ => return None,
                },
            )
        } else if let Some(op) = key.strip_suffix("varkey") {
            (
                false,
                match op {
                    "get" => "getkey",
                    "set" => "setkey",
                    _ => return None,
                },
            )
        } else if let Some(op) = key.strip_suffix("var") {
            (false, op)
        } else if key == "varexists" {
            (false, "has")
        } else if key == "globalvarexists" {
            (true, "has")
        } else {
            return None;
        };
        let map = if global { &mut self.global } else { &mut self.local };
        let n = args.len();
        match (op, n) {
            ("get", 1) => Some(map.get(args[0]).map(value::to_js_string).unwrap_or_default()),
            ("set", 2) => {
                map.insert(args[0].to_string(), Value::String(args[1].to_string()));
                Some(String::new())
            }
            ("add", 2) => {
                let v = value::add(map.get(args[0]), args[1]);
                map.insert(args[0].to_string(), v);
                Some(String::new())
            }
            ("inc", 1) | ("dec", 1) => {
                let v = value::add(map.get(args[0]), if op == "inc" { "1" } else { "-1" });
                let s = value::to_js_string(&v);
                map.insert(args[0].to_string(), v);
                Some(s)
            }
            ("has", 1) => Some(map.contains_key(args[0]).to_string()),
            ("delete", 1) | ("flush", 1) => {
                map.shift_remove(args[0]);
                Some(String::new())
            }
            ("getkey", 2) => {
                let obj = match map.get(args[0]) {
                    Some(Value::String(s)) => serde_json::from_str::<Value>(s).ok(),
                    Some(v) => Some(v.clone()),
                    None => None,
                };
                Some(
                    obj.and_then(|o| match o {
                        Value::Object(m) => m.get(args[1]).cloned(),
                        Value::Array(a) => args[1].parse::<usize>().ok().and_then(|i| a.get(i).cloned()),
                        _ => None,
                    })
                    .map(|v| value::to_js_string(&v))
                    .unwrap_or_default(),
                )
            }
            ("setkey", 3) => {
                let mut obj = match map.get(args[0]) {
                    Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
                        Ok(Value::Object(m)) => m,
                        _ => VarMap::new(),
                    },
                    Some(Value::Object(m)) => m.clone(),
                    _ => VarMap::new(),
                };
                obj.insert(args[1].to_string(), Value::String(args[2].to_string()));
                map.insert(args[0].to_string(), Value::String(Value::Object(obj).to_string()));
                Some(String::new())
            }
            _ => None,
        }
    }

    /// `{{.name op value}}` / `{{$name op value}}`.
    fn shorthand(&mut self, name: &str, expr: &str) -> Option<String> {
        let global = name.starts_with('$');
        let var = &name[1..];
        let expr = expr.trim();
        let map = if global { &mut self.global } else { &mut self.local };
        if expr.is_empty() {
            return Some(map.get(var).map(value::to_js_string).unwrap_or_default());
        }
        const OPS: [&str; 15] =
            ["??=", "||=", "+=", "-=", "==", "!=", ">=", "<=", "++", "--", "??", "||", "=", ">", "<"];
        let op = OPS.iter().find(|o| expr.starts_with(**o))?;
        let operand = expr[op.len()..].trim();
        let cur = map.get(var).cloned();
        let cur_s = cur.as_ref().map(value::to_js_string).unwrap_or_default();
        let r = match *op {
            "=" => {
                map.insert(var.to_string(), Value::String(operand.to_string()));
                String::new()
            }
            "+=" => {
                let v = value::add(cur.as_ref(), operand);
                map.insert(var.to_string(), v);
                String::new()
            }
            "-=" => {
                let a = cur.as_ref().map(value::to_number).unwrap_or(0.0);
                let b = value::str_to_number(operand);
                map.insert(var.to_string(), value::number_value(a - b));
                String::new()
            }
            "++" | "--" => {
                if !operand.is_empty() {
                    return None;
                }
                let v = value::add(cur.as_ref(), if *op == "++" { "1" } else { "-1" });
                let s = value::to_js_string(&v);
                map.insert(var.to_string(), v);
                s
            }
            "??=" => {
                if cur.is_none() || cur == Some(Value::Null) {
                    map.insert(var.to_string(), Value::String(operand.to_string()));
                }
                String::new()
            }
            "||=" => {
                if !cur.as_ref().is_some_and(value::js_truthy) {
                    map.insert(var.to_string(), Value::String(operand.to_string()));
                }
                String::new()
            }
            "??" => match &cur {
                Some(v) if !v.is_null() => cur_s,
                _ => operand.to_string(),
            },
            "||" => {
                if cur.as_ref().is_some_and(value::js_truthy) {
                    cur_s
                } else {
                    operand.to_string()
                }
            }
            "==" | "!=" | ">" | ">=" | "<" | "<=" => {
                let a = value::str_to_number(&cur_s);
                let b = value::str_to_number(operand);
                let numeric = !a.is_nan() && !b.is_nan() && !cur_s.trim().is_empty() && !operand.is_empty();
                let ord = if numeric { a.partial_cmp(&b) } else { Some(cur_s.as_str().cmp(operand)) };
                let res = match *op {
                    "==" => ord == Some(std::cmp::Ordering::Equal),
                    "!=" => ord != Some(std::cmp::Ordering::Equal),
                    ">" => ord == Some(std::cmp::Ordering::Greater),
                    ">=" => matches!(ord, Some(std::cmp::Ordering::Greater | std::cmp::Ordering::Equal)),
                    "<" => ord == Some(std::cmp::Ordering::Less),
                    _ => matches!(ord, Some(std::cmp::Ordering::Less | std::cmp::Ordering::Equal)),
                };
                res.to_string()
            }
            _ => return None,
        };
        Some(r)
    }
}

/// The list for `{{random}}`/`{{pick}}`: `::` arguments, or one argument split on
/// commas (legacy `{{random:a,b}}` / `{{random a,b}}`; `\,` escapes a comma).
fn list_items(m: &Macro, args: &[&str]) -> Vec<String> {
    if args.len() == 1 && m.style != ArgStyle::Colons || (args.len() == 1 && args[0].contains(',')) {
        let mut items = Vec::new();
        let mut cur = String::new();
        let mut chars = args[0].chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\\' && chars.peek() == Some(&',') {
                cur.push(',');
                chars.next();
            } else if c == ',' {
                items.push(cur.trim().to_string());
                cur.clear();
            } else {
                cur.push(c);
            }
        }
        items.push(cur.trim().to_string());
        return items;
    }
    args.iter().map(|s| s.to_string()).collect()
}

/// Dice: `NdM`, `dM`, `NdM+K`, `NdM-K`, or a bare `M` (= `1dM`). `None` if invalid.
pub fn roll(expr: &str, rng: &mut Rng) -> Option<i64> {
    let e: String = expr.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase();
    if e.is_empty() {
        return None;
    }
    let (dice, modifier) = match e.find(['+', '-']) {
        Some(i) if i > 0 => {
            let m: i64 = e[i + 1..].parse().ok()?;
            (&e[..i], if &e[i..i + 1] == "-" { -m } else { m })
        }
        _ => (e.as_str(), 0),
    };
    let (count, sides) = match dice.split_once('d') {
        Some((c, s)) => (if c.is_empty() { 1 } else { c.parse::<u64>().ok()? }, s.parse::<u64>().ok()?),
        None => (1, dice.parse::<u64>().ok()?),
    };
    if count == 0 || sides == 0 || count > MAX_DICE {
        return None;
    }
    let mut total: i64 = 0;
    for _ in 0..count {
        total = total.saturating_add(rng.below(sides) as i64 + 1);
    }
    Some(total.saturating_add(modifier))
}

/// Rewrites `<USER>`, `<BOT>`, `<CHAR>`, `<GROUP>`, `<CHARIFNOTGROUP>` (any case).
fn replace_legacy(text: &str) -> String {
    const TAGS: [(&str, &str); 5] = [
        ("<user>", "{{user}}"),
        ("<bot>", "{{char}}"),
        ("<char>", "{{char}}"),
        ("<group>", "{{group}}"),
        ("<charifnotgroup>", "{{charIfNotGroup}}"),
    ];
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(p) = rest.find('<') {
        out.push_str(&rest[..p]);
        let tail = &rest[p..];
        let hit = TAGS.iter().find(|(tag, _)| {
            tail.len() >= tag.len() && tail.is_char_boundary(tag.len()) && tail[..tag.len()].eq_ignore_ascii_case(tag)
        });
        match hit {
            Some((tag, rep)) => {
                out.push_str(rep);
                rest = &tail[tag.len()..];
            }
            None => {
                out.push('<');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::super::{render, ChatMessage, MacroContext};
    use super::*;
    use serde_json::json;

    fn ctx() -> MacroContext {
        MacroContext {
            char_name: "Aldric".into(),
            user: "Wren".into(),
            description: "{{char}} the smith".into(),
            chat: vec![
                ChatMessage { name: "Wren".into(), is_user: true, mes: "hi".into(), ..Default::default() },
                ChatMessage { name: "Aldric".into(), mes: "hello".into(), ..Default::default() },
            ],
            now: Some(time::parse_date_str("2024-10-05T15:04:09Z").unwrap()),
            seed: Some(1),
            ..Default::default()
        }
    }

    fn r(s: &str) -> String {
        render(s, &ctx()).output
    }

    #[test]
    fn names_and_fields() {
        assert_eq!(r("{{user}}/{{char}}/{{description}}"), "Wren/Aldric/Aldric the smith");
        assert_eq!(r("<BOT> & <user>"), "Aldric & Wren");
    }

    #[test]
    fn unknown_and_wrong_arity_stay() {
        assert_eq!(r("{{nope}} {{char::x}} {{nope::{{user}}}}"), "{{nope}} {{char::x}} {{nope::Wren}}");
    }

    #[test]
    fn time_macros_use_the_injected_clock() {
        assert_eq!(
            r("{{time}}|{{date}}|{{weekday}}|{{isotime}}|{{isodate}}"),
            "3:04 PM|October 5, 2024|Saturday|15:04|2024-10-05"
        );
        assert_eq!(r("{{time::UTC+2}}"), "5:04 PM");
        assert_eq!(r("{{datetimeformat::YYYY/MM}}"), "2024/10");
        let mut c = ctx();
        c.chat[0].send_date = Some(json!("2024-10-05T12:04:09Z"));
        assert_eq!(render("{{idle_duration}}", &c).output, "3 hours");
        assert_eq!(r("{{idleDuration}}"), "just now");
    }

    #[test]
    fn randomness_is_seeded_and_pick_is_stable() {
        let a = r("{{random::a::b::c::d}}{{random::a::b::c::d}}{{roll::3d6}}");
        assert_eq!(a, r("{{random::a::b::c::d}}{{random::a::b::c::d}}{{roll::3d6}}"));
        let mut c = ctx();
        c.chat_id = "chat-1".into();
        let p1 = render("{{pick::x::y::z}}", &c).output;
        c.seed = Some(999);
        assert_eq!(render("{{pick::x::y::z}}", &c).output, p1, "pick ignores the RNG seed");
        assert!(["x", "y", "z"].contains(&p1.as_str()));
        assert!(["a", "b"].contains(&r("{{random:a,b}}").as_str()));
    }

    #[test]
    fn dice_rolls() {
        let mut rng = Rng::new(3);
        for _ in 0..200 {
            let v = roll("2d6+1", &mut rng).unwrap();
            assert!((3..=13).contains(&v));
            let w = roll("d20", &mut rng).unwrap();
            assert!((1..=20).contains(&w));
            assert!((1..=6).contains(&roll("6", &mut rng).unwrap()));
        }
        assert_eq!(roll("0d6", &mut rng), None);
        assert_eq!(roll("abc", &mut rng), None);
        assert_eq!(roll("100000d6", &mut rng), None);
        assert_eq!(r("{{roll::x}}"), "");
    }

    #[test]
    fn original_only_inside_an_override_and_only_once() {
        let c = ctx();
        let mut e = MacroEngine::new(&c);
        assert_eq!(e.render_with_original("{{original}}+{{original}}", "G"), "G+");
        assert_eq!(e.render("{{original}}"), "{{original}}");
    }

    #[test]
    fn shorthand_operators() {
        assert_eq!(r("{{.a = 5}}{{.a == 5}} {{.a > 10}} {{.a <= 5}} {{.a != x}}"), "true false true true");
        assert_eq!(r("{{.b ??= 1}}{{.b ??= 2}}{{.b}} {{.c || no}}"), "1 no");
        assert_eq!(r("{{.d = 10}}{{.d -= 3}}{{.d}}"), "7");
    }

    #[test]
    fn group_macros() {
        let mut c = ctx();
        c.group_members = vec!["Aldric".into(), "Brina".into(), "Cole".into()];
        c.group_muted = vec!["Cole".into()];
        let o = render("{{group}}|{{groupNotMuted}}|{{notChar}}|{{charIfNotGroup}}", &c).output;
        assert_eq!(o, "Aldric, Brina, Cole|Aldric, Brina|Brina, Cole, Wren|Aldric");
    }

    #[test]
    fn self_referencing_fields_terminate() {
        let mut c = ctx();
        c.description = "{{description}}{{description}}".into();
        let o = render("{{description}}", &c).output;
        assert!(o.contains("{{description}}"));
    }

    #[test]
    fn outlets_and_banned_words() {
        let mut c = ctx();
        c.outlets.insert("scene".into(), vec!["a".into(), "b".into()]);
        let o = render("{{outlet::scene}}{{banned::\"bad\"}}", &c);
        assert_eq!(o.output, "a\nb");
        assert_eq!(o.banned, ["bad"]);
    }

    #[test]
    fn legacy_tags_only_whole_tags() {
        assert_eq!(replace_legacy("<user><USERS><b>é<bot>"), "{{user}}<USERS><b>é{{char}}");
    }
}
