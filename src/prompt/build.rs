//! Chat-completion assembly (SillyTavern's `prepareOpenAIMessages`, re-implemented
//! from the behaviour description) and the shared parts of text completion.

use super::instruct;
use super::*;
use crate::error::Error;
use crate::macros::{split_examples, MacroContext, MacroEngine};
use crate::worldinfo::{scan, BookRef, CompiledLorebook, GlobalScanData, ScanCharacter, ScanInput};

/// A message before budgeting, with its token cost.
#[derive(Clone)]
struct Msg {
    m: PromptMessage,
    tokens: usize,
    /// Text completion: the chat message's speaker (injections have none) and whether
    /// instruct mode's "force" names it.
    speaker: Option<(String, bool)>,
}

fn role_name(r: i64) -> &'static str {
    match r {
        1 => "user",
        2 => "assistant",
        _ => "system",
    }
}

fn role_num(s: &str) -> i64 {
    match s.trim().to_ascii_lowercase().as_str() {
        "user" | "1" => 1,
        "assistant" | "2" => 2,
        _ => 0,
    }
}

/// One depth injection (author's note, character depth prompt, WI @depth, absolute prompts).
struct Injection {
    depth: usize,
    role: i64,
    order: i64,
    key: String,
    text: String,
}

struct Ctx<'a> {
    counter: &'a mut dyn TokenCounter,
    per_msg: usize,
}

impl Ctx<'_> {
    fn msg(&mut self, role: &str, content: String, name: Option<String>) -> Msg {
        let tokens = self.counter.count(&content) + self.per_msg + usize::from(name.is_some());
        Msg { m: PromptMessage { role: role.into(), content, name }, tokens, speaker: None }
    }
}

/// Who sent `m`: its own name, else the persona (user messages) or the speaking character.
fn sender_name(m: &ChatMessage, user: &str, speaker: &str) -> String {
    match (m.name.is_empty(), m.is_user) {
        (false, _) => m.name.clone(),
        (true, true) => user.to_string(),
        (true, false) => speaker.to_string(),
    }
}

fn macro_context(req: &PromptRequest, ch: &CharacterInput) -> MacroContext {
    let s = &req.settings;
    MacroContext {
        char_name: ch.name.clone(),
        user: req.persona.name.clone(),
        description: ch.description.clone(),
        personality: ch.personality.clone(),
        scenario: ch.scenario.clone(),
        persona: req.persona.description.clone(),
        mes_example: ch.mes_example.clone(),
        first_mes: ch.first_mes.clone(),
        creator_notes: ch.creator_notes.clone(),
        depth_prompt: ch.depth_prompt.as_ref().map(|d| d.prompt.clone()).unwrap_or_default(),
        char_version: ch.character_version.clone(),
        system_prompt: ch.system_prompt.clone(),
        post_history_instructions: ch.post_history_instructions.clone(),
        global_system_prompt: s.main_prompt.clone(),
        example_separator: Some(req.text.example_separator.clone()),
        chat: req.chat.clone(),
        input: req.input.clone(),
        group_members: req
            .group
            .as_ref()
            .map(|g| g.members.iter().map(|m| m.name.clone()).collect())
            .unwrap_or_default(),
        group_muted: req.group.as_ref().map(|g| g.muted.clone()).unwrap_or_default(),
        model: s.model.clone(),
        max_context: s.max_context as u64,
        max_response: s.max_tokens as u64,
        last_generation_type: req.generation_type.clone(),
        local_variables: req.local_variables.clone(),
        global_variables: req.global_variables.clone(),
        now: req.now,
        utc_offset_minutes: req.utc_offset_minutes,
        seed: Some(req.seed),
        chat_id: req.chat_id.clone(),
        ..Default::default()
    }
}

/// Parses one example block into (is_user, text) messages: a `{{user}}:` / `{{char}}:`
/// line starts a turn; lines by the same speaker and unprefixed lines continue it.
pub(crate) fn parse_example_block(block: &str, user: &str, char_name: &str) -> Vec<(bool, String)> {
    let up = format!("{user}:");
    let cp = format!("{char_name}:");
    let mut out: Vec<(bool, String)> = Vec::new();
    for line in block.lines() {
        let speaker = if line.starts_with(&up) {
            Some((true, line[up.len()..].trim_start()))
        } else if line.starts_with(&cp) {
            Some((false, line[cp.len()..].trim_start()))
        } else {
            None
        };
        match (speaker, out.last_mut()) {
            (Some((u, text)), Some(last)) if last.0 != u => out.push((u, text.to_string())),
            (Some((u, text)), None) => out.push((u, text.to_string())),
            (Some(_), Some(last)) | (None, Some(last)) => {
                last.1.push('\n');
                last.1.push_str(line);
            }
            (None, None) => {
                if !line.trim().is_empty() {
                    out.push((false, line.to_string()));
                }
            }
        }
    }
    out
}

/// Builds the prompt, compiling the request's lorebooks.
pub fn build_prompt(req: &PromptRequest, counter: &mut dyn TokenCounter) -> Result<PromptOutput, Error> {
    let compiled: Vec<CompiledLorebook> =
        req.lorebooks.iter().map(|l| CompiledLorebook::new(l.book.clone(), req.world_info.compile_options())).collect();
    let refs: Vec<BookRef> = req
        .lorebooks
        .iter()
        .zip(&compiled)
        .map(|(l, c)| BookRef { name: &l.name, source: l.source, book: c })
        .collect();
    build_prompt_with_books(req, refs, counter)
}

/// Builds the prompt with already compiled lorebooks (the API layer caches them).
pub fn build_prompt_with_books(
    req: &PromptRequest,
    books: Vec<BookRef<'_>>,
    counter: &mut dyn TokenCounter,
) -> Result<PromptOutput, Error> {
    let s = &req.settings;
    if s.max_tokens >= s.max_context {
        return Err(Error::invalid_argument(format!(
            "maxTokens ({}) must be smaller than maxContext ({})",
            s.max_tokens, s.max_context
        )));
    }
    let budget = s.max_context - s.max_tokens;
    let gen = if req.generation_type.is_empty() { "normal" } else { req.generation_type.as_str() };
    let text_mode = req.mode == "text";
    let is_group = req.group.as_ref().is_some_and(|g| !g.members.is_empty());

    // Card fields (joined over members in a joined group).
    let mut speaker = req.character.clone();
    if let Some(g) = req.group.as_ref().filter(|g| g.join_cards && !g.members.is_empty()) {
        let join = |f: &dyn Fn(&CharacterInput) -> &String| -> String {
            g.members
                .iter()
                .map(|m| {
                    let ctx = macro_context(req, m);
                    MacroEngine::new(&ctx).render(f(m))
                })
                .filter(|t| !t.trim().is_empty())
                .collect::<Vec<_>>()
                .join("\n")
        };
        speaker.description = join(&|m| &m.description);
        speaker.personality = join(&|m| &m.personality);
        speaker.scenario = join(&|m| &m.scenario);
    }
    let mut mctx = macro_context(req, &speaker);

    // World Info.
    let wi_chat: &[crate::macros::ChatMessage] =
        if gen == "swipe" && !req.chat.is_empty() { &req.chat[..req.chat.len() - 1] } else { &req.chat };
    let global = GlobalScanData {
        persona_description: req.persona.description.clone(),
        character_description: speaker.description.clone(),
        character_personality: speaker.personality.clone(),
        character_depth_prompt: speaker.depth_prompt.as_ref().map(|d| d.prompt.clone()).unwrap_or_default(),
        scenario: speaker.scenario.clone(),
        creator_notes: speaker.creator_notes.clone(),
    };
    let character =
        ScanCharacter { name: speaker.name.clone(), avatar: speaker.avatar.clone(), tags: speaker.tags.clone() };
    let wi_input = ScanInput {
        books,
        chat: wi_chat,
        settings: &req.world_info,
        max_context: budget,
        global: &global,
        trigger: gen,
        character: &character,
        macros: Some(&mctx),
        state: &req.lorebook_state,
        seed: req.seed,
        dry_run: false,
        external_activations: &[],
        injections: &[],
        greeting_index: None,
    };
    let wi = scan(&wi_input, counter);
    mctx.outlets = wi.outlets.clone();

    let mut eng = MacroEngine::new(&mctx);
    let mut cx = Ctx { counter, per_msg: if text_mode { 0 } else { s.tokens_per_message } };
    let mut report = PromptReport { budget, ..Default::default() };

    // Fixed prompts.
    let main_rendered = eng.render(&s.main_prompt);
    let main = if s.prefer_character_prompt && !speaker.system_prompt.trim().is_empty() {
        eng.render_with_original(&speaker.system_prompt, &main_rendered)
    } else {
        main_rendered
    };
    let jb_rendered = eng.render(&s.jailbreak_prompt);
    let jailbreak = if s.prefer_character_jailbreak && !speaker.post_history_instructions.trim().is_empty() {
        eng.render_with_original(&speaker.post_history_instructions, &jb_rendered)
    } else {
        jb_rendered
    };
    let wrap_wi = |t: &str| if t.is_empty() { String::new() } else { s.wi_format.replace("{0}", t) };
    let persona_text = if req.persona.position == 0 { eng.render(&req.persona.description) } else { String::new() };

    // Author's note text (wrapped by WI AN top/bottom).
    let user_msgs = req.chat.iter().filter(|m| m.is_user && !m.is_system).count() as i64;
    let mut injections: Vec<Injection> = Vec::new();
    let mut an_before_main = String::new();
    let mut an_after_main = String::new();
    if let Some(an) = &req.authors_note {
        let text = eng.render(&an.text);
        let mut parts: Vec<String> = wi.an_top.clone();
        if !text.is_empty() {
            parts.push(text);
        }
        parts.extend(wi.an_bottom.iter().cloned());
        let full = parts.join("\n");
        let due = an.interval > 0 && user_msgs % an.interval == 0;
        if due && !full.trim().is_empty() {
            match an.position {
                0 => an_after_main = full,
                2 => an_before_main = full,
                _ => injections.push(Injection {
                    depth: an.depth.max(0) as usize,
                    role: an.role,
                    order: 100,
                    key: "2_floating_prompt".into(),
                    text: full,
                }),
            }
        }
    }
    if let Some(dp) = &speaker.depth_prompt {
        let t = eng.render(&dp.prompt);
        if !t.trim().is_empty() {
            injections.push(Injection {
                depth: dp.depth.max(0) as usize,
                role: role_num(&dp.role),
                order: 100,
                key: "DEPTH_PROMPT".into(),
                text: t,
            });
        }
    }
    for d in &wi.depth_entries {
        injections.push(Injection {
            depth: d.depth.max(0) as usize,
            role: d.role,
            order: 100,
            key: format!("customDepthWI_{}_{}", d.depth, d.role),
            text: d.entries.join("\n"),
        });
    }
    for cp in &s.custom_prompts {
        if cp.injection_position == 1 && s.prompt_order.iter().any(|o| o.identifier == cp.identifier && o.enabled) {
            let t = eng.render(&cp.content);
            if !t.trim().is_empty() {
                injections.push(Injection {
                    depth: cp.injection_depth.max(0) as usize,
                    role: role_num(&cp.role),
                    order: cp.injection_order,
                    key: cp.identifier.clone(),
                    text: t,
                });
            }
        }
    }

    // The relative blocks in order; `chatHistory` and `dialogueExamples` are markers.
    let mut before_hist: Vec<(String, Vec<Msg>)> = Vec::new();
    let mut after_hist: Vec<(String, Vec<Msg>)> = Vec::new();
    let mut seen_history = false;
    let mut examples_slot: Option<(bool, usize)> = None; // (after history?, index)
    for item in s.prompt_order.iter().filter(|o| o.enabled) {
        let id = item.identifier.as_str();
        let text: Option<(String, String)> = match id {
            "main" => Some(("system".into(), main.clone())),
            "worldInfoBefore" => Some(("system".into(), wrap_wi(&wi.world_info_before))),
            "personaDescription" => Some(("system".into(), persona_text.clone())),
            "charDescription" => Some(("system".into(), eng.render(&speaker.description))),
            "charPersonality" => Some((
                "system".into(),
                if speaker.personality.trim().is_empty() { String::new() } else { eng.render(&s.personality_format) },
            )),
            "scenario" => Some((
                "system".into(),
                if speaker.scenario.trim().is_empty() { String::new() } else { eng.render(&s.scenario_format) },
            )),
            "enhanceDefinitions" => Some(("system".into(), eng.render(&s.enhance_definitions_prompt))),
            "nsfw" => Some(("system".into(), eng.render(&s.nsfw_prompt))),
            "worldInfoAfter" => Some(("system".into(), wrap_wi(&wi.world_info_after))),
            "jailbreak" => Some(("system".into(), jailbreak.clone())),
            "chatHistory" => {
                seen_history = true;
                None
            }
            "dialogueExamples" => {
                examples_slot = Some((seen_history, if seen_history { after_hist.len() } else { before_hist.len() }));
                None
            }
            other => s
                .custom_prompts
                .iter()
                .find(|c| c.identifier == other && c.injection_position != 1)
                .map(|c| (if c.role.is_empty() { "system".into() } else { c.role.clone() }, eng.render(&c.content))),
        };
        let Some((role, content)) = text else { continue };
        let mut msgs = Vec::new();
        if id == "main" && !an_before_main.is_empty() {
            msgs.push(cx.msg("system", an_before_main.clone(), None));
        }
        if !content.trim().is_empty() {
            msgs.push(cx.msg(&role, content, None));
        }
        if id == "main" && !an_after_main.is_empty() {
            msgs.push(cx.msg("system", an_after_main.clone(), None));
        }
        if seen_history {
            after_hist.push((id.to_string(), msgs));
        } else {
            before_hist.push((id.to_string(), msgs));
        }
    }

    // History messages (chronological), with depth injections.
    let speaker_name = speaker.name.clone();
    let mut hist: Vec<Msg> = Vec::new();
    let mut visible: Vec<&crate::macros::ChatMessage> = req.chat.iter().filter(|m| !m.is_system).collect();
    // Text completion continues the last message in the reply position: it is not part of the
    // history (nor counted for injection depths).
    let continued = if text_mode && gen == "continue" { visible.pop() } else { None };
    let n = visible.len();
    let mut by_depth: std::collections::BTreeMap<usize, Vec<&Injection>> = Default::default();
    for inj in &injections {
        by_depth.entry(inj.depth.min(n)).or_default().push(inj);
    }
    let inj_block = |d: usize, cx: &mut Ctx| -> Vec<Msg> {
        let Some(list) = by_depth.get(&d) else { return Vec::new() };
        let mut orders: Vec<i64> = list.iter().map(|i| i.order).collect();
        orders.sort_unstable();
        orders.dedup();
        let mut out = Vec::new();
        for o in orders {
            for role in [2, 1, 0] {
                let mut items: Vec<&&Injection> = list.iter().filter(|i| i.order == o && i.role == role).collect();
                crate::sort::by(&mut items, |a, b| a.key.cmp(&b.key));
                if items.is_empty() {
                    continue;
                }
                let text = items.iter().map(|i| i.text.as_str()).collect::<Vec<_>>().join("\n");
                out.push(cx.msg(role_name(role), text, None));
            }
        }
        out
    };
    for (i, m) in visible.iter().enumerate() {
        let depth_here = n - i; // messages after this point, including this one
        hist.extend(inj_block(depth_here, &mut cx));
        let name = sender_name(m, &req.persona.name, &speaker_name);
        let prefixed = match s.names_behavior {
            2 => true,
            0 => !m.is_user && (is_group || m.force_avatar.is_some() && name != req.persona.name),
            _ => false,
        };
        let content = if text_mode {
            m.mes.clone()
        } else if prefixed {
            format!("{name}: {}", m.mes)
        } else {
            m.mes.clone()
        };
        let name_field = (s.names_behavior == 1 && !text_mode).then(|| name.clone());
        let forced = if m.is_user { m.force_avatar.is_some() && name != req.persona.name } else { is_group };
        let mut msg = cx.msg(if m.is_user { "user" } else { "assistant" }, content, name_field);
        msg.speaker = Some((name, forced));
        hist.push(msg);
    }
    hist.extend(inj_block(0, &mut cx));
    if gen != "continue" && gen != "impersonate" && !req.input.trim().is_empty() {
        // The send box text is the newest user message.
        hist.push(cx.msg("user", req.input.clone(), None));
    } else if gen == "normal" && !s.send_if_empty.trim().is_empty() && visible.last().is_some_and(|m| !m.is_user) {
        let t = eng.render(&s.send_if_empty);
        hist.push(cx.msg("user", t, None));
    }
    if text_mode && !jailbreak.trim().is_empty() {
        // Text completion: the post-history instructions are the last user message.
        hist.push(cx.msg("user", jailbreak.clone(), None));
    }

    // Control prompts.
    let new_chat = eng.render(if is_group { &s.new_group_chat_prompt } else { &s.new_chat_prompt });
    let new_chat_msg = (!new_chat.trim().is_empty()).then(|| cx.msg("system", new_chat, None));
    let group_nudge = if is_group && gen != "impersonate" {
        let t = eng.render(&s.group_nudge_prompt);
        (!t.trim().is_empty()).then(|| cx.msg("system", t, None))
    } else {
        None
    };
    let tail: Option<Msg> = match gen {
        "continue" => {
            let t = eng.render(&s.continue_nudge_prompt);
            (!t.trim().is_empty()).then(|| cx.msg("system", t, None))
        }
        "impersonate" => {
            let t = eng.render(&s.impersonation_prompt);
            (!t.trim().is_empty()).then(|| cx.msg("system", t, None))
        }
        "quiet" => {
            let t = eng.render(&s.quiet_prompt);
            (!t.trim().is_empty()).then(|| cx.msg("user", t, None))
        }
        _ => None,
    };

    // Example blocks (chat-completion form), WI EM entries around the card's.
    let ex_text = eng.render(&speaker.mes_example);
    let mut blocks: Vec<String> = Vec::new();
    for e in wi.example_entries.iter().filter(|e| e.position == 0) {
        blocks.push(e.content.clone());
    }
    blocks.extend(split_examples(&ex_text));
    for e in wi.example_entries.iter().filter(|e| e.position == 1) {
        blocks.push(e.content.clone());
    }
    let ex_header = eng.render(&s.new_example_chat_prompt);
    let mut ex_msgs: Vec<Vec<Msg>> = Vec::new();
    let mut ex_raw: Vec<String> = Vec::new();
    for b in &blocks {
        let turns = parse_example_block(b, &req.persona.name, &speaker_name);
        if turns.is_empty() {
            continue;
        }
        let mut v = vec![cx.msg("system", ex_header.clone(), None)];
        for (u, t) in turns {
            let name = if u { "example_user" } else { "example_assistant" };
            v.push(cx.msg("system", t, Some(name.into())));
        }
        if text_mode {
            // Text completion counts the block as written.
            let t = cx.counter.count(b);
            v = vec![Msg {
                m: PromptMessage { role: "system".into(), content: b.clone(), name: None },
                tokens: t,
                speaker: None,
            }];
        }
        ex_msgs.push(v);
        ex_raw.push(b.clone());
    }

    // Budget: fixed prompts and reservations first.
    let fixed: usize = before_hist.iter().chain(&after_hist).flat_map(|(_, v)| v).map(|m| m.tokens).sum();
    let reserved = new_chat_msg.as_ref().map_or(0, |m| m.tokens)
        + group_nudge.as_ref().map_or(0, |m| m.tokens)
        + tail.as_ref().map_or(0, |m| m.tokens)
        + if text_mode { 0 } else { 3 };
    let mut used = fixed + reserved;
    let mut examples_kept: Vec<usize> = Vec::new();
    let fill_examples = |used: &mut usize, kept: &mut Vec<usize>, dropped: &mut usize| {
        for (k, b) in ex_msgs.iter().enumerate() {
            let t: usize = b.iter().map(|m| m.tokens).sum();
            if *used + t <= budget && *dropped == 0 {
                *used += t;
                kept.push(k);
            } else {
                *dropped += 1;
            }
        }
    };
    let mut ex_dropped = 0;
    let has_examples_slot = examples_slot.is_some();
    if s.pin_examples && has_examples_slot {
        fill_examples(&mut used, &mut examples_kept, &mut ex_dropped);
    }
    let mut kept_rev: Vec<Msg> = Vec::new();
    let mut hist_dropped_msgs = 0;
    for m in hist.iter().rev() {
        if used + m.tokens <= budget && hist_dropped_msgs == 0 {
            used += m.tokens;
            kept_rev.push(m.clone());
        } else {
            hist_dropped_msgs += 1;
        }
    }
    kept_rev.reverse();
    let history_kept = kept_rev;
    if !s.pin_examples && has_examples_slot {
        fill_examples(&mut used, &mut examples_kept, &mut ex_dropped);
    }
    report.examples_included = examples_kept.len();
    report.examples_dropped = ex_dropped;
    let chat_kept = history_kept.len();
    report.history_included = chat_kept;
    report.history_dropped = hist_dropped_msgs;

    // Assemble.
    let mut out: Vec<Msg> = Vec::new();
    let push_block = |id: &str, msgs: Vec<Msg>, out: &mut Vec<Msg>, report: &mut PromptReport| {
        if msgs.is_empty() {
            return;
        }
        report.blocks.push(ReportBlock {
            identifier: id.to_string(),
            messages: msgs.len(),
            tokens: msgs.iter().map(|m| m.tokens).sum(),
        });
        out.extend(msgs);
    };
    let ex_flat: Vec<Msg> = examples_kept.iter().flat_map(|&k| ex_msgs[k].iter().cloned()).collect();
    let text_msg = |m: &Msg| instruct::TextMsg {
        role: match m.m.role.as_str() {
            "user" => instruct::Role::User,
            "assistant" => instruct::Role::Assistant,
            _ => instruct::Role::System,
        },
        content: m.m.content.clone(),
        name: m.speaker.as_ref().map(|(n, _)| n.clone()),
        forced_name: m.speaker.as_ref().is_some_and(|(_, f)| *f),
    };
    // Text completion has no continue nudge or impersonation prompt.
    let text_history: Vec<instruct::TextMsg> = history_kept
        .iter()
        .chain(group_nudge.iter())
        .chain(tail.iter().filter(|_| gen == "quiet"))
        .map(text_msg)
        .collect();
    let mut ex_flat = Some(ex_flat);
    for (k, (id, msgs)) in before_hist.into_iter().enumerate() {
        if examples_slot == Some((false, k)) {
            push_block("dialogueExamples", ex_flat.take().unwrap_or_default(), &mut out, &mut report);
        }
        push_block(&id, msgs, &mut out, &mut report);
    }
    if let Some((false, _)) = examples_slot {
        push_block("dialogueExamples", ex_flat.take().unwrap_or_default(), &mut out, &mut report);
    }
    let mut hist_block: Vec<Msg> = Vec::new();
    if seen_history {
        hist_block.extend(new_chat_msg);
        hist_block.extend(history_kept);
        hist_block.extend(group_nudge);
        push_block("chatHistory", hist_block, &mut out, &mut report);
    }
    for (k, (id, msgs)) in after_hist.into_iter().enumerate() {
        if examples_slot == Some((true, k)) {
            push_block("dialogueExamples", ex_flat.take().unwrap_or_default(), &mut out, &mut report);
        }
        push_block(&id, msgs, &mut out, &mut report);
    }
    if ex_flat.is_some() && has_examples_slot {
        push_block("dialogueExamples", ex_flat.take().unwrap_or_default(), &mut out, &mut report);
    }
    if let Some(t) = tail {
        push_block(gen, vec![t], &mut out, &mut report);
    }
    report.total_tokens = out.iter().map(|m| m.tokens).sum();

    let messages: Vec<PromptMessage> = out.into_iter().map(|m| m.m).collect();
    let (text, stop) = if text_mode {
        let story = instruct::StoryFields {
            anchor_before: an_before_main.clone(),
            system: main.clone(),
            wi_before: wrap_wi(&wi.world_info_before),
            description: eng.render(&speaker.description),
            personality: eng.render(&speaker.personality),
            scenario: eng.render(&speaker.scenario),
            wi_after: wrap_wi(&wi.world_info_after),
            persona: persona_text.clone(),
            anchor_after: an_after_main.clone(),
            mes_examples: String::new(),
            mes_examples_raw: ex_text.clone(),
        };
        let continued = continued.map(|m| {
            let name = sender_name(m, &req.persona.name, &speaker_name);
            let forced = if m.is_user { m.force_avatar.is_some() && name != req.persona.name } else { is_group };
            instruct::TextMsg {
                role: if m.is_user { instruct::Role::User } else { instruct::Role::Assistant },
                content: m.mes.clone(),
                name: Some(name),
                forced_name: forced,
            }
        });
        let parts = instruct::TextParts {
            story,
            examples: examples_kept.iter().map(|&k| ex_raw[k].clone()).collect(),
            history: &text_history,
            continued,
            user: &req.persona.name,
            char_name: &speaker_name,
            generation_type: gen,
        };
        let (t, st) = instruct::render(req, &parts, &mut eng);
        (Some(t), st)
    } else {
        (None, Vec::new())
    };
    let (local_variables, global_variables, _) = eng.finish();
    report.world_info = wi.clone();
    Ok(PromptOutput {
        messages,
        text,
        stop,
        lorebook_state: wi.state.clone(),
        report,
        local_variables,
        global_variables,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_blocks_merge_same_speaker_lines() {
        let t = parse_example_block("Wren: Is it safe?\nBex: Mostly.\nBex: Stay close.\nand more", "Wren", "Bex");
        assert_eq!(t, vec![(true, "Is it safe?".into()), (false, "Mostly.\nBex: Stay close.\nand more".into())]);
    }
}
