/* tslint:disable */
/* eslint-disable */

/**
 * Every error this package throws or rejects with.
 * Branch on `code` (stable), show `message` (human-readable, may change).
 */
export interface TavernError extends Error {
    name: "TavernError";
    code: ErrorCode;
    message: string;
}



/** A chat message (SillyTavern's message object, reduced). */
export interface ChatMessage { name?: string; isUser?: boolean; isSystem?: boolean; mes: string;
sendDate?: number | string; swipeId?: number; swipes?: string[]; forceAvatar?: string; }
/** Everything macros can read. Unset fields are empty. */
export interface MacroContext { char?: string; user?: string; description?: string; personality?: string;
scenario?: string; persona?: string; mesExample?: string; firstMes?: string; creatorNotes?: string;
depthPrompt?: string; charVersion?: string; systemPrompt?: string; postHistoryInstructions?: string;
globalSystemPrompt?: string; mesExamples?: string; exampleSeparator?: string; chat?: ChatMessage[];
input?: string; groupMembers?: string[]; groupMuted?: string[]; model?: string; maxContext?: number;
maxResponse?: number; isMobile?: boolean; extensions?: string[]; outlets?: Record<string, string[]>;
lastGenerationType?: string; firstIncludedMessageId?: number; localVariables?: Record<string, unknown>;
globalVariables?: Record<string, unknown>; now?: number; utcOffsetMinutes?: number; seed?: number; chatId?: string; }
export interface RenderOutput { output: string; localVariables: Record<string, unknown>;
globalVariables: Record<string, unknown>; banned: string[]; }
/** World Info settings. SillyTavern's `world_info_settings` names are accepted too; unknown names are an `invalid_argument` error. */
export interface WorldInfoSettings {
    /** Messages scanned (2). */ depth?: number; world_info_depth?: number;
    /** Budget in % of the max prompt tokens (25). */ budget?: number; world_info_budget?: number;
    /** Absolute token cap, 0 = none. */ budgetCap?: number; world_info_budget_cap?: number;
    /** Widen the depth until this many entries are active, 0 = off. */ minActivations?: number; world_info_min_activations?: number;
    /** Limit of that widening, 0 = the chat length. */ minActivationsDepthMax?: number; world_info_min_activations_depth_max?: number;
    /** Recursive scanning (true). */ recursive?: boolean; world_info_recursive?: boolean;
    /** Cap on scan passes, 0 = unlimited. */ maxRecursionSteps?: number; world_info_max_recursion_steps?: number;
    /** Case-sensitive keys (false). */ caseSensitive?: boolean; world_info_case_sensitive?: boolean;
    /** Whole-word keys (true). */ matchWholeWords?: boolean; world_info_match_whole_words?: boolean;
    /** Inclusion-group scoring (false). */ useGroupScoring?: boolean; world_info_use_group_scoring?: boolean;
    /** Scan "Name: message" (true). */ includeNames?: boolean; world_info_include_names?: boolean;
    /** 0 evenly, 1 character first (default), 2 global first. */ characterStrategy?: number; world_info_character_strategy?: number;
    /** SillyTavern's overflow toast: accepted, not used (overflow is in the result). */ overflowAlert?: boolean; world_info_overflow_alert?: boolean;
    /** SillyTavern's selection of global books: accepted, not used (pass the books in `lorebooks`). */ selected?: unknown; world_info?: unknown; }
    export interface TimedRecord { hash: number; start: number; end: number; protected: boolean; }
    /** Timed-effect state of a chat (sticky, cooldown): store the `state` / `lorebookState` a call returns and pass it back
     * on the next turn of the same chat — without it, sticky and cooldown effects end after one generation. */
    export interface TimedState { sticky: Record<string, TimedRecord>; cooldown: Record<string, TimedRecord>; matched?: string[]; }
    export type BookSource = "chat" | "persona" | "global" | "character";
    /** A lorebook: SillyTavern World Info JSON, a V2/V3 character_book, or a bare entry array. */
    export type LorebookJson = unknown;
    /**
     * A lorebook taking part in a scan or build: its JSON (`book`, compiled once and cached by content, a few books
     * at a time) or a `LorebookMatcher` compiled earlier (`matcher`: no conversion at all, the fastest for big books;
     * it must have been compiled with the same `caseSensitive` / `matchWholeWords`). Unknown fields are an error.
     */
    export type LorebookInput =
    | { name: string; source?: BookSource; book: LorebookJson; matcher?: never }
    | { name?: string; source?: BookSource; matcher: LorebookMatcher; book?: never };
    export interface ScanRequest { lorebooks?: LorebookInput[];
    /** The chat, **oldest first** (system messages are skipped). */
    chat: ChatMessage[]; settings?: WorldInfoSettings;
    /** Max prompt tokens for the budget (8192). */
    maxContext?: number; globalScanData?: { personaDescription?: string; characterDescription?: string;
    characterPersonality?: string; characterDepthPrompt?: string; scenario?: string; creatorNotes?: string };
    /** Generation type: normal (default), continue, impersonate, swipe, regenerate, quiet. */
    trigger?: string;
    /** The current character (filters); its name is `{{char}}` in keys and content unless `macros.char` is set. */
    character?: { name?: string; avatar?: string; tags?: string[] };
    /** The persona; its name is `{{user}}` unless `macros.user` is set, its description the `persona` match text. */
    persona?: { name?: string; description?: string };
    macros?: MacroContext;
    /** The `state` of the previous turn's result (pass it back every turn). */
    state?: TimedState; seed?: number; dryRun?: boolean; externalActivations?: string[]; injections?: string[]; }
    export interface ActivatedEntry { world: string; uid: number; comment: string; content: string; position: number;
    depth: number; role: number; order: number; outletName: string; pass: number; passKind: string;
    recursionLevel: number; tokens: number; reason: { kind: string; key?: string; source?: string;
    messageIndex?: number; secondaryKeys?: string[] }; }
    export interface WorldInfoResult { activated: ActivatedEntry[]; worldInfoBefore: string; worldInfoAfter: string;
    depthEntries: { depth: number; role: number; entries: string[] }[];
    exampleEntries: { position: number; content: string }[]; anTop: string[]; anBottom: string[];
    outlets: Record<string, string[]>; scanPasses: number; budgetTokens: number; budgetOverflowed: boolean;
    dropped: { world: string; uid: number; reason: string; group?: string }[]; warnings: string[]; state: TimedState; }
    /** One item of the prompt order. */
    export interface PromptOrderItem { identifier: string; enabled: boolean; }
    /** A custom prompt of the preset (relative: placed by the order; absolute: injected at a depth). */
    export interface CustomPrompt { identifier?: string; role?: "system" | "user" | "assistant"; content?: string;
    /** 0 relative, 1 absolute. */ injectionPosition?: number; injection_position?: number;
    injectionDepth?: number; injection_depth?: number; /** 100 */ injectionOrder?: number; injection_order?: number; }
    /**
     * Chat-completion preset and prompt settings; defaults are SillyTavern's Default preset. SillyTavern's own names
     * (`openai_max_context`, `openai_max_tokens`, `names_behavior`, `wi_format`, …: the snake_case of each field) are
     * accepted too. Unknown names are an `invalid_argument` error.
     */
    export interface PromptSettings {
        /** Main prompt (`Write {{char}}'s next reply…`). */ mainPrompt?: string; main_prompt?: string;
        /** Auxiliary ("NSFW") prompt. */ nsfwPrompt?: string; nsfw_prompt?: string;
        /** Post-history instructions ("jailbreak"). */ jailbreakPrompt?: string; jailbreak_prompt?: string;
        enhanceDefinitionsPrompt?: string; enhance_definitions_prompt?: string;
        /** The order and enabled set (identifiers `main`, `worldInfoBefore`, `personaDescription`, `charDescription`,
         * `charPersonality`, `scenario`, `enhanceDefinitions`, `nsfw`, `worldInfoAfter`, `dialogueExamples`,
         * `chatHistory`, `jailbreak`, or a custom prompt's). */
        promptOrder?: PromptOrderItem[]; prompt_order?: PromptOrderItem[];
        customPrompts?: CustomPrompt[]; custom_prompts?: CustomPrompt[];
        newChatPrompt?: string; new_chat_prompt?: string; newGroupChatPrompt?: string; new_group_chat_prompt?: string;
        newExampleChatPrompt?: string; new_example_chat_prompt?: string; continueNudgePrompt?: string; continue_nudge_prompt?: string;
        impersonationPrompt?: string; impersonation_prompt?: string; groupNudgePrompt?: string; group_nudge_prompt?: string;
        quietPrompt?: string; quiet_prompt?: string;
        /** World Info wrapper, `{0}` = the text. */ wiFormat?: string; wi_format?: string;
        scenarioFormat?: string; scenario_format?: string; personalityFormat?: string; personality_format?: string;
        /** -1 none, 0 default, 1 completion (`name` field), 2 content (`Name: ` prefix). */ namesBehavior?: number; names_behavior?: number;
        /** Use the card's system prompt (true). */ preferCharacterPrompt?: boolean; prefer_character_prompt?: boolean;
        /** Use the card's post-history instructions (true). */ preferCharacterJailbreak?: boolean; prefer_character_jailbreak?: boolean;
        /** Context size in tokens (4095). */ maxContext?: number; openai_max_context?: number; max_context?: number;
        /** Reply reserve in tokens (300); the budget is maxContext − maxTokens. */ maxTokens?: number; openai_max_tokens?: number; max_tokens?: number;
        /** Examples before history (false). */ pinExamples?: boolean; pin_examples?: boolean;
        /** User message used when the user sent nothing. */ sendIfEmpty?: string; send_if_empty?: string;
        /** Tokens added to each chat message's count for its framing; **default 5** (as SillyTavern counts). */
        tokensPerMessage?: number; tokens_per_message?: number;
        /** `{{model}}`. */ model?: string; }
        /** A character: a card as `importCard` returns it (`{ spec, data }`), or a flat V1-style object. Extra card fields pass through. */
        export type CharacterInput = Record<string, unknown>;
        /**
         * A prompt build request. Unknown fields are an `invalid_argument` error naming the field path
         * (`settings.dept`); snake_case names are accepted too. Card data and lorebook entries keep their extension fields.
         */
        export interface PromptRequest { mode?: "chat" | "text"; character: CharacterInput;
        group?: { members: CharacterInput[]; muted?: string[]; joinCards?: boolean };
        persona?: { name?: string; description?: string; position?: number };
        /** The chat, **oldest first**. Extra fields of SillyTavern's message objects are ignored. */
        chat: ChatMessage[];
        settings?: PromptSettings; text?: {
            /** Instruct template: ours (`chatml`, `llama3`, `mistral`, `mistral-v2-v3`, `alpaca`, `vicuna`, `gemma`, `command-r`), SillyTavern's preset name, or `none` (plain `Name: message` lines). */
            instruct?: string; exampleSeparator?: string; chatStart?: string;
            /** Context template story string (Handlebars-style `{{#if}}`; default: SillyTavern's Default). */
            storyString?: string; namesAsStopStrings?: boolean; separatorsAsStopStrings?: boolean;
        };
        worldInfo?: WorldInfoSettings; lorebooks?: LorebookInput[];
        /** The `lorebookState` of the previous turn's output (pass it back every turn). */
        lorebookState?: TimedState;
        /** Author's note (SillyTavern's `note_prompt`, `note_interval`, `note_depth`, `note_position`, `note_role` accepted). */
        authorsNote?: { text?: string; interval?: number; depth?: number; position?: number; role?: number;
        note_prompt?: string; note_interval?: number; note_depth?: number; note_position?: number; note_role?: number };
        generationType?: string; input?: string; seed?: number; now?: number; utcOffsetMinutes?: number; chatId?: string;
        localVariables?: Record<string, unknown>; globalVariables?: Record<string, unknown>; }
        export interface PromptMessage { role: "system" | "user" | "assistant"; content: string; name?: string; }
        export interface PromptOutput { messages: PromptMessage[]; text?: string; stop: string[];
        report: { blocks: { identifier: string; messages: number; tokens: number }[]; totalTokens: number; budget: number;
        historyIncluded: number; historyDropped: number; examplesIncluded: number; examplesDropped: number;
        worldInfo: WorldInfoResult };
        lorebookState: TimedState; localVariables: Record<string, unknown>; globalVariables: Record<string, unknown>; }
        export interface CompileStats { entries: number; plainPatterns: number; regexKeys: number; automatonBytes: number; compileMicros: number; }



        /** A fix-up applied while reading (or a lossy step while writing). Never fatal. */
        export interface CardWarning {
            /** Stable snake_case code, e.g. `"tags_coerced"`, `"lossy_utf8"`, `"empty_name"`. */
            code: string;
            /** Human-readable explanation. */
            message: string;
        }

        /** Safety limits (bytes unless noted). Every field is optional; defaults in parentheses. */
        export interface CardLimits {
            /** Largest input file (256 MiB). */
            maxInputBytes?: number;
            /** Total inflated bytes per import: zTXt/iTXt chunks and zip members (512 MiB). */
            maxDecompressedBytes?: number;
            /** Largest single card/lorebook JSON text (64 MiB). */
            maxJsonBytes?: number;
            /** Most zip entries (10,000). */
            maxZipEntries?: number;
            /** Deepest JSON nesting (128). */
            maxJsonDepth?: number;
            /** Most lorebook entries (100,000). */
            maxLorebookEntries?: number;
        }

        export interface ImportCardOptions {
            /** Only used as the card name when the card has none. */
            fileName?: string;
            limits?: CardLimits;
        }

        /** Progress of `importCardAsync`. */
        export interface ImportProgress {
            phase: "read" | "convert" | "done";
            /** 0..1 */
            fraction: number;
        }

        export interface ImportCardAsyncOptions extends ImportCardOptions {
            onProgress?: (p: ImportProgress) => void;
            signal?: AbortSignal;
        }

        /** A V3 asset descriptor. */
        export interface CardAsset {
            type: string;
            uri: string;
            name: string;
            ext: string;
            [key: string]: unknown;
        }

        /** A V2/V3 lorebook entry (standard field names; SillyTavern settings in `extensions`). */
        export interface CharacterBookEntry {
            keys: string[];
            content: string;
            extensions: Record<string, unknown>;
            enabled: boolean;
            insertion_order: number;
            case_sensitive?: boolean;
            name?: string;
            priority?: number;
            id?: number | string;
            comment?: string;
            selective?: boolean;
            secondary_keys?: string[];
            constant?: boolean;
            position?: "before_char" | "after_char";
            use_regex?: boolean;
            [key: string]: unknown;
        }

        /** A V2/V3 `character_book`. */
        export interface CharacterBook {
            name?: string;
            description?: string;
            scan_depth?: number;
            token_budget?: number;
            recursive_scanning?: boolean;
            extensions: Record<string, unknown>;
            entries: CharacterBookEntry[];
            [key: string]: unknown;
        }

        /** `data` of a Character Card V3. Unknown keys are preserved. */
        export interface CardDataV3 {
            name: string;
            description: string;
            personality: string;
            scenario: string;
            first_mes: string;
            mes_example: string;
            creator_notes: string;
            system_prompt: string;
            post_history_instructions: string;
            alternate_greetings: string[];
            character_book?: CharacterBook;
            tags: string[];
            creator: string;
            character_version: string;
            extensions: Record<string, unknown>;
            group_only_greetings: string[];
            assets?: CardAsset[];
            nickname?: string;
            creator_notes_multilingual?: Record<string, string>;
            source?: string[];
            creation_date?: number;
            modification_date?: number;
            [key: string]: unknown;
        }

        /** A Character Card V3 object. */
        export interface CardV3 {
            spec: "chara_card_v3";
            spec_version: "3.0";
            data: CardDataV3;
            [key: string]: unknown;
        }

        /** A file that came with the card: a CharX/BYAF zip entry (`embeded://<path>`) or a PNG `__asset:N` chunk. */
        export interface CardAssetFile {
            path: string;
            bytes: Uint8Array;
        }

        export interface ImportedCard {
            /** Container: `"png" | "json" | "yaml" | "charx" | "charx_jpeg" | "byaf" | "webp"`. */
            format: "png" | "json" | "yaml" | "charx" | "charx_jpeg" | "byaf" | "webp";
            /** Flavour: `"chara_card_v1" | "chara_card_v2" | "chara_card_v3" | "pygmalion" | "oobabooga" | "agnai" | "byaf" | "backyard_legacy"`. */
            sourceSpec: "chara_card_v1" | "chara_card_v2" | "chara_card_v3" | "pygmalion" | "oobabooga" | "agnai" | "byaf" | "backyard_legacy";
            /** The card as a V3 object in the standard field names. */
            card: CardV3;
            /** Files that came with it. Pass them back to `exportCard` to keep them. */
            assets: CardAssetFile[];
            warnings: CardWarning[];
        }

        export interface ExportCardOptions {
            /** `"json"` is V3; `"json_v2"` is a V2 file for old tools. */
            format: "png" | "json" | "json_v2" | "charx";
            /** PNG avatar (PNG export: the image carrying the card; CharX: the main icon). Default: a generated placeholder. */
            avatar?: Uint8Array;
            /** Files from `importCard(...).assets`, needed for `embeded://` / `__asset:` references. */
            assets?: CardAssetFile[];
            /** Set `modification_date` to now (default true). */
            touchModificationDate?: boolean;
        }

        export interface ImportedLorebook {
            /** The book in V3 `character_book` shape (SillyTavern settings in each entry's `extensions`). */
            lorebook: CharacterBook;
            /** `"worldinfo_json" | "lorebook_v3" | "character_book" | "card" | "agnai_memory" | "novelai" | "risu"`. */
            sourceFormat: string;
            warnings: CardWarning[];
        }

        export interface ExportLorebookOptions {
            /** `"sillytavern"`: World Info JSON (`{entries: {uid: …}}`); `"v3"`: `{spec: "lorebook_v3", data}`. */
            format: "sillytavern" | "v3";
        }

        /** Reads a character card from file bytes (PNG, JSON, YAML, CharX, JPEG+CharX, BYAF, legacy WebP), detected by content. Throws `TavernError` (`not_a_card`, `truncated`, `bad_json`, `too_large`, `unsupported_format`). */
        export function importCard(bytes: Uint8Array, options?: ImportCardOptions): ImportedCard;
        /** Like `importCard`, but yields to the event loop between phases and reports progress; honours `signal`. */
        export function importCardAsync(bytes: Uint8Array, options?: ImportCardAsyncOptions): Promise<ImportedCard>;
        /** Writes a card as PNG (`chara` V2 backfill + `ccv3`), V3/V2 JSON, or CharX. Accepts V1/V2/V3 card objects. */
        export function exportCard(card: CardV3 | Record<string, unknown>, options: ExportCardOptions): Uint8Array;
        /** Reads a lorebook: SillyTavern World Info, lorebook_v3, character_book, a card's book, Agnai, NovelAI (JSON or naidata PNG), RisuAI. */
        export function importLorebook(input: Uint8Array | string, options?: { limits?: CardLimits }): ImportedLorebook;
        /** Writes a lorebook file (UTF-8 JSON bytes). */
        export function exportLorebook(lorebook: CharacterBook | Record<string, unknown>, options: ExportLorebookOptions): Uint8Array;



        /** Connection settings of a SillyTavern server. */
        export interface SillyTavernClientOptions {
            /** e.g. "http://127.0.0.1:8000". The page must use the same host name (see README). */
            baseUrl: string;
            /** Per-request timeout in ms (default 30000; 0 = none). */
            timeoutMs?: number;
            /** Token bucket per server (default: burst 10, 5 requests/s). */
            rateLimit?: { capacity: number; refillPerSec: number };
            /** Retries of transient failures (default: 3 retries, 500 ms base, 30 s cap). */
            retry?: { maxRetries: number; baseDelayMs: number; maxDelayMs: number };
            /** HTTP Basic credentials, for a server with `basicAuthMode` (sent on every request). */
            basicAuth?: { username: string; password: string };
        }
        /** Per-call options. */
        export interface CallOptions {
            /** Aborts the call; the promise rejects with code "aborted". */
            signal?: AbortSignal;
        }
        /** A character as SillyTavern returns it (V1 top-level fields, `data`, server extras). */
        export type StCharacter = { name: string; avatar: string; data?: Record<string, unknown> } & Record<string, unknown>;
        /** One line of a SillyTavern chat file (the header first, then messages). */
        export type StChatLine = Record<string, unknown>;
        /** Links a local chat to a SillyTavern chat file. Keep the `link` returned by sync calls. */
        export interface ChatLink {
            /** The character's avatar file name ("Alice.png"); "" for group chats. */
            avatar: string;
            /** Chat file name without ".jsonl", or the group chat id. */
            file: string;
            isGroup?: boolean;
            /** The integrity id last seen on the server (any new id for a new chat). */
            integrity: string;
            chatMetadata?: Record<string, unknown>;
        }
        /** A message in the local store's shape (see TavernStore). */
        export interface BridgeMessage {
            name: string; isUser?: boolean; isSystem?: boolean; mes: string; sendDate?: number;
            swipes?: string[]; swipeId?: number; swipeInfo?: unknown[]; extra?: Record<string, unknown>;
            fields?: Record<string, unknown>;
        }
        export interface ChatSyncResult {
            /** The chat as it now is on the server. */
            messages: BridgeMessage[];
            /** True when the local chat must be replaced by `messages`. */
            localChanged: boolean;
            /** Integrity conflicts resolved by merging. */
            conflicts: number;
            link: ChatLink;
        }
        /** A SillyTavern World Info file. */
        export type StWorldInfo = { entries: Record<string, Record<string, unknown>> } & Record<string, unknown>;
        /** A value read through the client's cache. */
        export interface CachedValue<T> {
            value: T;
            /** True when it came from a cache (memory, or the store given to `useCache`) without a request. */
            fromCache: boolean;
            /** True when that cached copy is older than `maxAgeMs`: a refresh is on its way (`onUpdate`). */
            stale: boolean;
            /** When this copy was fetched from the server (epoch ms). */
            fetchedAt: number;
        }



        /** Sync metadata carried by every record. */
        export interface SyncMeta { id: string; rev: number; createdAt: number; updatedAt: number; deleted: boolean; }
        export interface Character extends SyncMeta {
            name: string; card: Record<string, unknown>; tags: string[]; favorite: boolean;
            lastUsedAt: number | null; avatarAssetId: string | null;
        }
        export interface CharacterInput {
            card: Record<string, unknown>; tags?: string[]; favorite?: boolean;
            /** Avatar image bytes, stored as a Blob in the asset store. */
            avatar?: Uint8Array; avatarMime?: string;
        }
        export interface CharacterPatch { card?: Record<string, unknown>; name?: string; tags?: string[]; favorite?: boolean; lastUsedAt?: number | null; }
        export interface CharacterQuery {
            query?: string; match?: "substring" | "prefix"; tag?: string; favoritesOnly?: boolean;
            sort?: "name" | "recentlyUsed" | "created"; reverse?: boolean; offset?: number; limit?: number;
        }
        export interface Page<T> { items: T[]; total: number; offset: number; }
        export interface Chat extends SyncMeta {
            characterId: string | null; groupId: string | null; title: string; messageCount: number; nextSeq: number;
            lastMessagePreview: string | null; lastMessageAt: number | null; metadata: Record<string, unknown>;
        }
        export interface ChatInput { characterId?: string; groupId?: string; title?: string; metadata?: Record<string, unknown>; }
        export interface Message extends SyncMeta {
            chatId: string; seq: number; name: string; isUser: boolean; isSystem: boolean; mes: string; sendDate: number | null;
            swipes: string[]; swipeId: number; swipeInfo: unknown[]; extra: Record<string, unknown>; fields: Record<string, unknown>;
        }
        export interface MessageInput {
            name?: string; isUser?: boolean; isSystem?: boolean; mes?: string; sendDate?: number;
            swipes?: string[]; swipeId?: number; swipeInfo?: unknown[]; extra?: Record<string, unknown>; fields?: Record<string, unknown>;
        }
        export interface MessageEdit { mes?: string; addSwipe?: string; deleteSwipe?: number; swipeId?: number; extra?: Record<string, unknown>; isSystem?: boolean; }
        export interface GetMessagesOptions { chatId: string; before?: number; limit?: number; }
        export interface ProgressOptions { onProgress?: (p: { done: number; total: number }) => void; signal?: AbortSignal; }
        export interface ImportReport { written: number; skipped: number; }
        /** Progress of `importBackup`: first a `check` pass (when checking first), then `import`. */
        export interface BackupImportProgress {
            phase: "check" | "import";
            /** Items checked (check) or written/skipped (import) so far. */
            done: number;
            /** Items in the backup, once the check pass has counted them; else `null`. */
            total: number | null;
            /** Bytes read in this phase. */
            bytesRead: number;
            /** Size of the backup when known (Blob, bytes, string); `null` for a stream. */
            totalBytes: number | null;
        }
        export interface BackupImportOptions {
            onProgress?: (p: BackupImportProgress) => void;
            /** Cancels with code `aborted` (batches already committed are kept; see `importBackup`). */
            signal?: AbortSignal;
            /** Items per transaction (default 200). */
            batchSize?: number;
            /** Read and check the whole backup before writing anything (default `true`; a
             *  `ReadableStream` can be read only once, so it is imported as it arrives — `true` with
             *  a stream is an `invalid_argument` error). */
            checkFirst?: boolean;
        }
        /** Metadata of a stored file; its bytes: `getAssetBlob(id)`. */
        export interface Asset extends SyncMeta {
            mime: string; size: number; role: string; fileName: string | null; ownerId: string | null;
            /** For a thumbnail: the asset it was made from. */
            thumbnailOf: string | null; width: number | null; height: number | null;
        }
        export interface ThumbnailOptions {
            /** Longest side in pixels, 1–1024 (default 256). */
            maxSide?: number;
            /** Sources with more pixels are refused with `too_large` (default 50 000 000). */
            maxPixels?: number;
        }
        export interface Thumbnail {
            /** The thumbnail asset (`role: "thumbnail"`, PNG) — or the source itself when `original`. */
            asset: Asset;
            /** True when no thumbnail could be made here (not a PNG and no image decoder, e.g. a JPEG
             *  in Node): `asset` is the full-size original, show it scaled down. */
            original: boolean;
        }
        export interface BackupOptions { /** Include stored API keys and passwords (default false). */ includeSecrets?: boolean; }
        export interface StoreInfo { backend: "indexeddb" | "memory"; persistent: boolean; name: string; schemaVersion: number; fallbackReason: string | null; }
        export interface StoreChange { store: string; ids: string[]; op: "put" | "delete" | "import"; remote: boolean; }
        /** A card to import: the card JSON (object or text/bytes), or `{ card, avatar?, avatarMime? }`. */
        export type CardFile = Record<string, unknown> | string | Uint8Array | CharacterInput;
        /** Generation parameters; unset ones are `null` when read (and `null` removes one in a patch). */
        export interface Generation { temperature?: number | null; topP?: number | null; maxTokens?: number | null; contextSize?: number | null; stream?: boolean | null; }
        export interface Settings {
            connection: { url: string; authMode: "none" | "basic" | "account"; username: string };
            backend: { kind: "sillyTavern" | "openAi" | "host"; baseUrl: string; model: string; apiKeyName: string };
            generation: Generation;
            characterOverrides: Record<string, Generation>;
            chatOverrides: Record<string, Generation>;
            voice: { enabled: boolean; voice: string; rate: number; pitch: number };
            theme: { mode: "system" | "light" | "dark"; accent: string; fontScale: number };
        }
        /** A partial settings update (JSON merge patch: objects merge, `null` removes). */
        export type SettingsPatch = { [K in keyof Settings]?: Partial<Settings[K]> | null };
        export interface FieldError { path: string; message: string; }
        /** One entry of the analytics event log. */
        export interface StoreEvent { seq: number; at: number; kind: string; data: Record<string, unknown>; }



        /** True when `value` is an error thrown by this package (narrows it to `TavernError`). */
        export function isTavernError(value: unknown): value is TavernError;



        /** What the loaded module reports about itself. */
        export interface BuildInfo {
            /** Package version (same as `version()`). */
            version: string;
            /** Package name, `"nextchat-tavern"`. */
            name: string;
            /** `"wasm32"` in browsers and Node. */
            targetArch: string;
            /** True for a debug build. */
            debug: boolean;
        }



        /** Where a generation goes. Backends are tried in the order given. */
        export type GenerationBackend =
        | { kind: "sillyTavernChat"; source: string; customUrl?: string; model?: string }
        | { kind: "sillyTavernText"; apiType: string; apiServer: string; model?: string }
        | { kind: "openAi"; baseUrl: string; apiKey?: string; model?: string }
        | { kind: "host"; name?: string };
        /** The host app's own LLM (e.g. NextChat's `llm.chat`): resolve to the whole text, or yield chunks. */
        export type HostLlmCallback = (request: GenerateRequest, options: { signal?: AbortSignal }) =>
        Promise<string> | AsyncIterable<string>;
        export interface GeneratorOptions {
            backends: GenerationBackend[];
            /** Required when a backend has kind "host". */
            host?: HostLlmCallback;
            /** End a stream after this many ms without data; the partial text is kept (default 20000). */
            idleTimeoutMs?: number;
            /** Timeout of a non-streamed request (default 120000). */
            requestTimeoutMs?: number;
            retry?: { maxRetries: number; baseDelayMs: number; maxDelayMs: number };
            /** After `failureThreshold` failures a backend is skipped for `cooldownMs` (default 3 / 30000). */
            breaker?: { failureThreshold: number; cooldownMs: number };
        }
        export interface GenerateRequest {
            messages?: { role: "system" | "user" | "assistant"; content: string; name?: string }[];
            prompt?: string;
            model?: string;
            temperature?: number;
            maxTokens?: number;
            stop?: string[];
            /** Default true. */
            stream?: boolean;
            /** Extra body fields passed through (e.g. top_p, seed). */
            extra?: Record<string, unknown>;
        }
        export interface GenerationFallback { backend: string; code: string; message: string }
        export interface GenerateResult {
            text: string;
            reasoning?: string;
            /** True when cut short (dropped connection, idle timeout, abort): `text` is what arrived. */
            incomplete: boolean;
            stopReason: "done" | "dropped" | "idleTimeout" | "aborted";
            finishReason?: string;
            /** The backend that answered. */
            backend: string;
            /** Backends that failed or were skipped first. */
            fallbacks: GenerationFallback[];
            firstTokenMs?: number;
            totalMs: number;
        }
        export interface GenerateCallOptions {
            signal?: AbortSignal;
            onToken?: (text: string) => void;
            onFallback?: (fallback: GenerationFallback) => void;
        }


        export type ErrorCode =
        | "invalid_argument"
        | "not_a_card"
        | "truncated"
        | "bad_json"
        | "too_large"
        | "unsupported_format"
        | "aborted"
        | "timeout"
        | "network"
        | "cors_blocked"
        | "unauthorized"
        | "forbidden"
        | "not_found"
        | "integrity_conflict"
        | "rate_limited"
        | "server_error"
        | "storage"
        | "quota_exceeded"
        | "blocked"
        | "validation"
        | "internal";


        /**
         * Generation with streaming, abort, idle timeout, retries and fallback between backends.
         */
        export class Generator {
            free(): void;
            [Symbol.dispose](): void;
            /**
             * Generates a reply. Streams text through `onToken`; resolves with the whole text (partial
             * and `incomplete: true` when the stream was cut); rejects with a TavernError when no
             * backend produced anything (code "aborted" when aborted before any text).
             */
            generate(request: GenerateRequest, options?: GenerateCallOptions): Promise<GenerateResult>;
            /**
             * Records every generation's usage and latency (backend, times, length, fallbacks,
             * outcome) in `store`'s event log as `generation` events.
             */
            logTo(store: TavernStore): void;
            /**
             * A generator without a SillyTavern server (direct OpenAI-compatible and host backends).
             * For SillyTavern backends use `sillyTavernClient.generator(options)`.
             */
            constructor(options: GeneratorOptions);
        }

        /**
         * A lorebook compiled once (Aho-Corasick over plain keys, regex keys compiled) and
         * reused by `scan`, or passed to `buildPrompt`/`scanLorebooks` as `{ matcher }`, until it
         * is freed.
         */
        export class LorebookMatcher {
            free(): void;
            [Symbol.dispose](): void;
            /**
             * Compiles `book` (any lorebook JSON) named `name`, for the given World Info settings.
             */
            constructor(name: string, book: LorebookJson, settings: WorldInfoSettings | undefined, source: BookSource | undefined);
            /**
             * Scans and returns only the number of activated entries (for benchmarks:
             * avoids converting the whole result to JS).
             */
            scanCount(request: ScanRequest): number;
            /**
             * Scans with this compiled book (`request.lorebooks` is ignored).
             */
            scan(request: ScanRequest, countTokens?: (text: string) => number): WorldInfoResult;
            /**
             * Entries, patterns, regex keys, automaton bytes and compile time.
             */
            stats(): CompileStats;
            /**
             * The id by which requests find this matcher (`lorebooks: [{ matcher }]`).
             */
            readonly handle: number;
        }

        /**
         * A connection to one SillyTavern server: CSRF handled, rate limited, retried, typed errors.
         */
        export class SillyTavernClient {
            free(): void;
            [Symbol.dispose](): void;
            /**
             * All characters through the cache, with where they came from: `characters()` with
             * `maxAgeMs` (default 30000) that resolves to `{ value, fromCache, stale, fetchedAt }`.
             * After `useCache(store)`, a new client (e.g. after a page reload) resolves from the store
             * at once — `fromCache: true`, `stale` when older than `maxAgeMs` (then `onUpdate` gets
             * the fresh list).
             */
            cachedCharacters(opts?: CallOptions & { maxAgeMs?: number; onUpdate?: (list: StCharacter[]) => void }): Promise<CachedValue<StCharacter[]>>;
            /**
             * The chat files of a character.
             */
            characterChats(avatar: string, opts?: CallOptions): Promise<Record<string, unknown>[]>;
            /**
             * Full details of several characters, loaded lazily in batches of `batchSize` parallel
             * requests (default 6; identical requests in flight are shared). Resolves in the order
             * given; a character that failed to load is a `TavernError` in its slot.
             */
            characterDetails(avatars: string[], opts?: CallOptions & { batchSize?: number }): Promise<(StCharacter | TavernError)[]>;
            /**
             * One character by avatar file name.
             */
            character(avatar: string, opts?: CallOptions): Promise<StCharacter>;
            /**
             * All characters. With `maxAgeMs`, served from the client's cache when younger; an older
             * cached list is returned at once (stale-while-revalidate) and `onUpdate` receives the fresh
             * list when it arrives. Any write through this client drops the cache. Cached lists share
             * their character objects between calls: treat them as read-only.
             */
            characters(opts?: CallOptions & { maxAgeMs?: number; onUpdate?: (list: StCharacter[]) => void }): Promise<StCharacter[]>;
            /**
             * A solo chat's lines (header first); `[]` when it does not exist.
             */
            chat(avatar: string, fileName: string, opts?: CallOptions): Promise<StChatLine[]>;
            /**
             * Drops every cached read of this client, and this server's entries in the store given to
             * `useCache`.
             */
            clearCache(): Promise<void>;
            /**
             * Fetches (once) and returns the CSRF token; a quick "is it reachable" check.
             */
            connect(opts?: CallOptions): Promise<void>;
            /**
             * Creates a character from a V2/V3 card object (and optional PNG avatar); resolves to its avatar file name.
             */
            createCharacter(card: Record<string, unknown>, avatar: Uint8Array | number[] | null | undefined, opts?: CallOptions): Promise<string>;
            /**
             * Creates a group from a partial group; resolves to the full group.
             */
            createGroup(group: Record<string, unknown>, opts?: CallOptions): Promise<Record<string, unknown>>;
            /**
             * Deletes a character (`{ deleteChats: true }` also removes its chats).
             */
            deleteCharacter(avatar: string, opts?: CallOptions & { deleteChats?: boolean }): Promise<void>;
            /**
             * Deletes a solo chat.
             */
            deleteChat(avatar: string, fileName: string, opts?: CallOptions): Promise<void>;
            /**
             * Deletes a group chat.
             */
            deleteGroupChat(chatId: string, opts?: CallOptions): Promise<void>;
            /**
             * Deletes a group and its chats.
             */
            deleteGroup(id: string, opts?: CallOptions): Promise<void>;
            /**
             * Deletes a lorebook.
             */
            deleteWorldInfo(name: string, opts?: CallOptions): Promise<void>;
            /**
             * Duplicates a character; resolves to the copy's avatar file name.
             */
            duplicateCharacter(avatar: string, opts?: CallOptions): Promise<string>;
            /**
             * Replaces a character's card (full edit), keeping its avatar file name; an optional new PNG
             * replaces the image.
             */
            editCharacter(avatar: string, card: Record<string, unknown>, image: Uint8Array | number[] | null | undefined, opts?: CallOptions): Promise<void>;
            /**
             * Replaces a group with the complete object given.
             */
            editGroup(group: Record<string, unknown>, opts?: CallOptions): Promise<void>;
            /**
             * Exports a character as "png" or "json" bytes.
             */
            exportCharacter(avatar: string, format: string, opts?: CallOptions): Promise<Uint8Array>;
            /**
             * Exports a chat file: `format` "jsonl" (the raw file) or "txt" (a transcript).
             */
            exportChat(avatar: string, fileName: string, opts?: CallOptions & { format?: "jsonl" | "txt"; isGroup?: boolean }): Promise<string>;
            /**
             * A `Generator` whose SillyTavern backends go through this server (its session and limiter).
             */
            generator(options: GeneratorOptions): Generator;
            /**
             * A group chat's lines.
             */
            groupChat(chatId: string, opts?: CallOptions): Promise<StChatLine[]>;
            /**
             * All groups.
             */
            groups(opts?: CallOptions): Promise<Record<string, unknown>[]>;
            /**
             * Imports a card file (`fileType`: png, json, yaml, charx, byaf); resolves to the avatar file name.
             */
            importCharacter(bytes: Uint8Array | number[], fileType: string, fileName: string, opts?: CallOptions): Promise<string>;
            /**
             * Imports a chat file for a character (`fileType` "jsonl" or "json"); resolves to the new file names.
             */
            importChat(avatar: string, characterName: string, userName: string, bytes: Uint8Array | number[], fileType: string, opts?: CallOptions): Promise<string[]>;
            /**
             * Imports a character or lorebook from a URL the server supports (Chub, JanitorAI,
             * RisuRealm, … or a direct PNG on a host in its `whitelistImportDomains`).
             */
            importFromUrl(url: string, opts?: CallOptions): Promise<{ kind: "character" | "lorebook"; name: string }>;
            /**
             * Imports a group chat file (JSONL); resolves to the new chat id.
             */
            importGroupChat(bytes: Uint8Array | number[], opts?: CallOptions): Promise<string>;
            /**
             * Imports a lorebook file; its name (without extension) names the book. Resolves to the name.
             */
            importWorldInfo(bytes: Uint8Array | number[], fileName: string, opts?: CallOptions): Promise<string>;
            /**
             * Logs in (servers with user accounts). Rejects with "unauthorized" on wrong credentials.
             */
            login(handle: string, password: string, opts?: CallOptions): Promise<void>;
            /**
             * Logs out.
             */
            logout(opts?: CallOptions): Promise<void>;
            /**
             * The logged-in user: `{ handle, name, admin, … }`.
             */
            me(opts?: CallOptions): Promise<Record<string, unknown>>;
            /**
             * Deep-merges a partial card into a stored character.
             */
            mergeCharacter(avatar: string, partial: Record<string, unknown>, opts?: CallOptions): Promise<void>;
            /**
             * Creates a client. Nothing is sent until the first call.
             */
            constructor(options: SillyTavernClientOptions);
            /**
             * Renames a character; resolves to the new avatar file name.
             */
            renameCharacter(avatar: string, newName: string, opts?: CallOptions): Promise<string>;
            /**
             * Renames a chat file; resolves to the sanitised new name.
             */
            renameChat(avatar: string, from: string, to: string, opts?: CallOptions & { isGroup?: boolean }): Promise<string>;
            /**
             * Saves a solo chat; rejects with "integrity_conflict" when it changed elsewhere (unless `force`).
             */
            saveChat(avatar: string, fileName: string, lines: StChatLine[], opts?: CallOptions & { force?: boolean }): Promise<void>;
            /**
             * Saves a group chat (integrity rules as for solo chats).
             */
            saveGroupChat(chatId: string, lines: StChatLine[], opts?: CallOptions & { force?: boolean }): Promise<void>;
            /**
             * Saves a lorebook.
             */
            saveWorldInfo(name: string, data: StWorldInfo, opts?: CallOptions): Promise<void>;
            /**
             * The user's SillyTavern settings, parsed.
             */
            settings(opts?: CallOptions): Promise<Record<string, unknown>>;
            /**
             * Syncs a local chat (`messages` in the local store's shape) with its linked SillyTavern
             * chat: loads the server copy, merges — no message of either side is lost — and saves the
             * merge (retrying through integrity conflicts); `force: true` overwrites the server copy
             * instead (only when the user asked). When `localChanged`, replace the local messages with
             * `messages`, and keep the returned `link`.
             */
            syncChat(link: ChatLink, messages: BridgeMessage[], opts?: CallOptions & { force?: boolean }): Promise<ChatSyncResult>;
            /**
             * A thumbnail as an object URL for `<img src>` (revoke it with `URL.revokeObjectURL`).
             */
            thumbnailUrl(kind: string, file: string, opts?: CallOptions & { maxAgeMs?: number }): Promise<string>;
            /**
             * An avatar/background/persona thumbnail as image bytes (fetched with credentials: a plain
             * `<img src>` is blocked by SillyTavern's Cross-Origin-Resource-Policy). Cached (in the
             * `useCache` store too); a copy older than `maxAgeMs` (default 5 minutes) is returned and
             * refreshed in the background.
             */
            thumbnail(kind: string, file: string, opts?: CallOptions & { maxAgeMs?: number }): Promise<Uint8Array>;
            /**
             * Keeps this client's cached reads (the character list, thumbnails) in `store` as well
             * (its IndexedDB `cache`: size-capped, never in backups), so a new client on the same
             * server and store — after a page reload, in another tab — is served them at once, then
             * revalidates them by `maxAgeMs`. Every write through a client drops the server's entries.
             * On a server with user accounts, entries are kept per user once `login()` or `me()` told
             * the client who is logged in. A store in memory (`info().persistent === false`) adds
             * nothing to the client's own memory cache.
             */
            useCache(store: TavernStore): void;
            /**
             * Lorebook names.
             */
            worldInfoList(opts?: CallOptions): Promise<{ file_id: string; name: string }[]>;
            /**
             * A lorebook file (`{ entries: {} }` when missing).
             */
            worldInfo(name: string, opts?: CallOptions): Promise<StWorldInfo>;
            /**
             * The server's base URL.
             */
            readonly baseUrl: string;
        }

        /**
         * A store of characters, chats, assets and settings: IndexedDB when a name is given and
         * IndexedDB works, else in memory (see `info().persistent` / `fallbackReason`).
         */
        export class TavernStore {
            private constructor();
            free(): void;
            [Symbol.dispose](): void;
            /**
             * Which API keys are stored (names → set), never the values.
             */
            apiKeyNames(): Promise<Record<string, boolean>>;
            /**
             * Appends a message (constant time, whatever the chat length).
             */
            appendMessage(chatId: string, message: MessageInput): Promise<Message>;
            /**
             * Creates a character from a card (and an optional avatar).
             */
            createCharacter(input: CharacterInput): Promise<Character>;
            /**
             * Creates a chat with a character or a group.
             */
            createChat(input: ChatInput): Promise<Chat>;
            /**
             * Deletes a character (tombstone; `restoreCharacter` undoes it).
             */
            deleteCharacter(id: string): Promise<Character>;
            /**
             * Deletes a chat and its messages (tombstones, kept for sync).
             */
            deleteChat(chatId: string): Promise<Chat>;
            /**
             * Deletes a message (tombstone).
             */
            deleteMessage(chatId: string, seq: number): Promise<void>;
            /**
             * Edits a message or its swipes.
             */
            editMessage(chatId: string, seq: number, edit: MessageEdit): Promise<Message>;
            /**
             * Reads the event log in order, after `after` (a `seq`), at most `limit` (default 100).
             */
            events(options?: { after?: number; limit?: number }): Promise<StoreEvent[]>;
            /**
             * A full backup as a Blob of JSON lines (assets included; API keys only with
             * `includeSecrets: true`).
             */
            exportBackup(options?: BackupOptions): Promise<Blob>;
            /**
             * One chat as SillyTavern JSONL.
             */
            exportChatJsonl(chatId: string, userName?: string | null): Promise<string>;
            /**
             * The bytes of an asset (e.g. an avatar) as a Blob, or `null`.
             */
            getAssetBlob(id: string): Promise<Blob | null>;
            /**
             * A live character, or `null`.
             */
            getCharacter(id: string): Promise<Character | null>;
            /**
             * A live chat, or `null`.
             */
            getChat(id: string): Promise<Chat | null>;
            /**
             * The last `limit` (default 50) live messages before `before`, oldest first.
             */
            getMessages(options: GetMessagesOptions): Promise<Message[]>;
            /**
             * The current settings (defaults when never saved).
             */
            getSettings(): Promise<Settings>;
            /**
             * Imports a backup from a `Blob`/`File`, a `ReadableStream<Uint8Array>` (e.g. a fetch
             * body), a `Uint8Array` or a string, read chunk by chunk and written in batches of
             * `batchSize` items (one transaction each), so memory stays bounded; last writer wins per
             * record. The header is checked first (a newer backup: `unsupported_format`, nothing
             * written). A Blob, bytes or string is read twice: once to check every line (a bad line:
             * its number in the message; a truncated file: `truncated`; nothing written), then to
             * write. A stream is imported as it arrives: an error or cancel keeps the batches already
             * committed and the message says how many items; importing again completes it.
             */
            importBackup(backup: Blob | ReadableStream<Uint8Array> | Uint8Array | string, options?: BackupImportOptions): Promise<ImportReport>;
            /**
             * Imports many cards in one transaction: all or nothing. `onProgress` is called after each
             * card; aborting `signal` cancels and keeps nothing (code `aborted`).
             */
            importCards(files: CardFile[], options?: ProgressOptions): Promise<Character[]>;
            /**
             * What this store is (backend, persistence, fallback reason).
             */
            info(): StoreInfo;
            /**
             * One page of characters, filtered and sorted through indexes.
             */
            listCharacters(query?: CharacterQuery): Promise<Page<Character>>;
            /**
             * Live chats, most recently active first; `characterId` / `groupId` narrow the list.
             */
            listChats(filter?: { characterId?: string; groupId?: string }): Promise<Chat[]>;
            /**
             * Appends an event to the analytics log (size-capped, oldest dropped first).
             */
            logEvent(kind: string, data: Record<string, unknown>): Promise<StoreEvent>;
            /**
             * Opens the store `name` in IndexedDB (default `"nextchat-tavern"`); with `null`, or where
             * IndexedDB is unavailable, an in-memory store (`info().persistent === false`). A schema
             * upgrade blocked by another tab rejects with code `blocked`.
             */
            static open(name?: string | null): Promise<TavernStore>;
            /**
             * Undoes `deleteCharacter`.
             */
            restoreCharacter(id: string): Promise<Character>;
            /**
             * Stores (or with `null` removes) an API key; it never appears in backups unless asked.
             */
            setApiKey(name: string, key?: string | null): Promise<void>;
            /**
             * Applies a partial update; rejects with code `validation` listing every bad field.
             */
            setSettings(patch: SettingsPatch): Promise<Settings>;
            /**
             * Calls `listener` with the new settings whenever they change (in any tab).
             */
            subscribeSettings(listener: (settings: Settings) => void): () => void;
            /**
             * Calls `listener` on every change (this tab's and, for IndexedDB, other tabs');
             * returns a function that unsubscribes.
             */
            subscribe(listener: (change: StoreChange) => void): () => void;
            /**
             * A `blob:` URL of the thumbnail (or of the original, see `thumbnail`), or `null` for a
             * missing asset. Revoke it with `URL.revokeObjectURL` when it is no longer shown.
             */
            thumbnailUrl(assetId: string, options?: ThumbnailOptions): Promise<string | null>;
            /**
             * The thumbnail of an image asset (default longest side 256 px), made on first use and
             * kept as an asset of its own (`role: "thumbnail"`, `thumbnailOf`), so later calls read it
             * back. PNG is decoded in Rust; other formats by the browser (`createImageBitmap`); where
             * neither works (e.g. a JPEG in Node) the original comes back with `original: true`.
             * `null` for a missing asset. Too many pixels: `too_large`.
             */
            thumbnail(assetId: string, options?: ThumbnailOptions): Promise<Thumbnail | null>;
            /**
             * Updates fields of a character (rev + 1).
             */
            updateCharacter(id: string, patch: CharacterPatch): Promise<Character>;
            /**
             * Every problem a partial update would have, without saving (`[]` when valid).
             */
            validateSettings(patch: SettingsPatch): Promise<FieldError[]>;
        }

        /**
         * Version and build details of the loaded module.
         */
        export function buildInfo(): BuildInfo;

        /**
         * Builds a prompt. `countTokens(text)` is optional (default: `ceil(utf8 bytes / 3.35)`).
         */
        export function buildPrompt(request: PromptRequest, countTokens?: (text: string) => number): PromptOutput;

        /**
         * Every error code this version can produce.
         */
        export function errorCodes(): ErrorCode[];

        /**
         * Finds the SillyTavern character a local card corresponds to: the same avatar file name
         * (`avatarHint`) first, else the same name and description. Resolves to its avatar or `null`.
         */
        export function matchCharacter(card: Record<string, unknown>, avatarHint: string | null | undefined, stCharacters: StCharacter[]): string | undefined;

        /**
         * Renders macros in `text` (variables are returned, not stored).
         */
        export function renderMacros(text: string, context: MacroContext): RenderOutput;

        /**
         * Scans lorebooks against a chat (the editor's "test this entry"). Books are compiled once
         * and cached by content; `{ matcher }` uses a `LorebookMatcher`.
         */
        export function scanLorebooks(request: ScanRequest, countTokens?: (text: string) => number): WorldInfoResult;

        /**
         * Runs once when the module is instantiated (`init()` / `initSync()`):
         * routes Rust panics to `console.error` with a readable message.
         */
        export function start(): void;

        /**
         * The package version, e.g. `"0.1.0"`.
         */
        export function version(): string;

        export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;

        export interface InitOutput {
            readonly memory: WebAssembly.Memory;
            readonly __wbg_generator_free: (a: number, b: number) => void;
            readonly __wbg_lorebookmatcher_free: (a: number, b: number) => void;
            readonly __wbg_sillytavernclient_free: (a: number, b: number) => void;
            readonly __wbg_tavernstore_free: (a: number, b: number) => void;
            readonly buildInfo: () => [number, number, number];
            readonly buildPrompt: (a: any, b: any) => [number, number, number];
            readonly errorCodes: () => [number, number];
            readonly exportCard: (a: any, b: any) => [number, number, number];
            readonly exportLorebook: (a: any, b: any) => [number, number, number];
            readonly generator_generate: (a: number, b: any, c: any) => any;
            readonly generator_logTo: (a: number, b: number) => void;
            readonly generator_new: (a: any) => [number, number, number];
            readonly importCard: (a: number, b: number, c: any) => [number, number, number];
            readonly importCardAsync: (a: number, b: number, c: any) => any;
            readonly importLorebook: (a: any, b: any) => [number, number, number];
            readonly isTavernError: (a: any) => number;
            readonly lorebookmatcher_handle: (a: number) => number;
            readonly lorebookmatcher_new: (a: number, b: number, c: any, d: any, e: any) => [number, number, number];
            readonly lorebookmatcher_scan: (a: number, b: any, c: any) => [number, number, number];
            readonly lorebookmatcher_scanCount: (a: number, b: any) => [number, number, number];
            readonly lorebookmatcher_stats: (a: number) => [number, number, number];
            readonly matchCharacter: (a: any, b: number, c: number, d: any) => [number, number, number, number];
            readonly renderMacros: (a: number, b: number, c: any) => [number, number, number];
            readonly scanLorebooks: (a: any, b: any) => [number, number, number];
            readonly sillytavernclient_baseUrl: (a: number) => [number, number];
            readonly sillytavernclient_cachedCharacters: (a: number, b: any) => any;
            readonly sillytavernclient_character: (a: number, b: number, c: number, d: any) => any;
            readonly sillytavernclient_characterChats: (a: number, b: number, c: number, d: any) => any;
            readonly sillytavernclient_characterDetails: (a: number, b: number, c: number, d: any) => any;
            readonly sillytavernclient_characters: (a: number, b: any) => any;
            readonly sillytavernclient_chat: (a: number, b: number, c: number, d: number, e: number, f: any) => any;
            readonly sillytavernclient_clearCache: (a: number) => any;
            readonly sillytavernclient_connect: (a: number, b: any) => any;
            readonly sillytavernclient_createCharacter: (a: number, b: any, c: number, d: number, e: any) => any;
            readonly sillytavernclient_createGroup: (a: number, b: any, c: any) => any;
            readonly sillytavernclient_deleteCharacter: (a: number, b: number, c: number, d: any) => any;
            readonly sillytavernclient_deleteChat: (a: number, b: number, c: number, d: number, e: number, f: any) => any;
            readonly sillytavernclient_deleteGroup: (a: number, b: number, c: number, d: any) => any;
            readonly sillytavernclient_deleteGroupChat: (a: number, b: number, c: number, d: any) => any;
            readonly sillytavernclient_deleteWorldInfo: (a: number, b: number, c: number, d: any) => any;
            readonly sillytavernclient_duplicateCharacter: (a: number, b: number, c: number, d: any) => any;
            readonly sillytavernclient_editCharacter: (a: number, b: number, c: number, d: any, e: number, f: number, g: any) => any;
            readonly sillytavernclient_editGroup: (a: number, b: any, c: any) => any;
            readonly sillytavernclient_exportCharacter: (a: number, b: number, c: number, d: number, e: number, f: any) => any;
            readonly sillytavernclient_exportChat: (a: number, b: number, c: number, d: number, e: number, f: any) => any;
            readonly sillytavernclient_generator: (a: number, b: any) => [number, number, number];
            readonly sillytavernclient_groupChat: (a: number, b: number, c: number, d: any) => any;
            readonly sillytavernclient_groups: (a: number, b: any) => any;
            readonly sillytavernclient_importCharacter: (a: number, b: number, c: number, d: number, e: number, f: number, g: number, h: any) => any;
            readonly sillytavernclient_importChat: (a: number, b: number, c: number, d: number, e: number, f: number, g: number, h: number, i: number, j: number, k: number, l: any) => any;
            readonly sillytavernclient_importFromUrl: (a: number, b: number, c: number, d: any) => any;
            readonly sillytavernclient_importGroupChat: (a: number, b: number, c: number, d: any) => any;
            readonly sillytavernclient_importWorldInfo: (a: number, b: number, c: number, d: number, e: number, f: any) => any;
            readonly sillytavernclient_login: (a: number, b: number, c: number, d: number, e: number, f: any) => any;
            readonly sillytavernclient_logout: (a: number, b: any) => any;
            readonly sillytavernclient_me: (a: number, b: any) => any;
            readonly sillytavernclient_mergeCharacter: (a: number, b: number, c: number, d: any, e: any) => any;
            readonly sillytavernclient_new: (a: any) => [number, number, number];
            readonly sillytavernclient_renameCharacter: (a: number, b: number, c: number, d: number, e: number, f: any) => any;
            readonly sillytavernclient_renameChat: (a: number, b: number, c: number, d: number, e: number, f: number, g: number, h: any) => any;
            readonly sillytavernclient_saveChat: (a: number, b: number, c: number, d: number, e: number, f: any, g: any) => any;
            readonly sillytavernclient_saveGroupChat: (a: number, b: number, c: number, d: any, e: any) => any;
            readonly sillytavernclient_saveWorldInfo: (a: number, b: number, c: number, d: any, e: any) => any;
            readonly sillytavernclient_settings: (a: number, b: any) => any;
            readonly sillytavernclient_syncChat: (a: number, b: any, c: any, d: any) => any;
            readonly sillytavernclient_thumbnail: (a: number, b: number, c: number, d: number, e: number, f: any) => any;
            readonly sillytavernclient_thumbnailUrl: (a: number, b: number, c: number, d: number, e: number, f: any) => any;
            readonly sillytavernclient_useCache: (a: number, b: number) => void;
            readonly sillytavernclient_worldInfo: (a: number, b: number, c: number, d: any) => any;
            readonly sillytavernclient_worldInfoList: (a: number, b: any) => any;
            readonly start: () => void;
            readonly tavernstore_apiKeyNames: (a: number) => any;
            readonly tavernstore_appendMessage: (a: number, b: number, c: number, d: any) => any;
            readonly tavernstore_createCharacter: (a: number, b: any) => any;
            readonly tavernstore_createChat: (a: number, b: any) => any;
            readonly tavernstore_deleteCharacter: (a: number, b: number, c: number) => any;
            readonly tavernstore_deleteChat: (a: number, b: number, c: number) => any;
            readonly tavernstore_deleteMessage: (a: number, b: number, c: number, d: number) => any;
            readonly tavernstore_editMessage: (a: number, b: number, c: number, d: number, e: any) => any;
            readonly tavernstore_events: (a: number, b: any) => any;
            readonly tavernstore_exportBackup: (a: number, b: any) => any;
            readonly tavernstore_exportChatJsonl: (a: number, b: number, c: number, d: number, e: number) => any;
            readonly tavernstore_getAssetBlob: (a: number, b: number, c: number) => any;
            readonly tavernstore_getCharacter: (a: number, b: number, c: number) => any;
            readonly tavernstore_getChat: (a: number, b: number, c: number) => any;
            readonly tavernstore_getMessages: (a: number, b: any) => any;
            readonly tavernstore_getSettings: (a: number) => any;
            readonly tavernstore_importBackup: (a: number, b: any, c: any) => any;
            readonly tavernstore_importCards: (a: number, b: any, c: any) => any;
            readonly tavernstore_info: (a: number) => [number, number, number];
            readonly tavernstore_listCharacters: (a: number, b: any) => any;
            readonly tavernstore_listChats: (a: number, b: any) => any;
            readonly tavernstore_logEvent: (a: number, b: number, c: number, d: any) => any;
            readonly tavernstore_open: (a: any) => any;
            readonly tavernstore_restoreCharacter: (a: number, b: number, c: number) => any;
            readonly tavernstore_setApiKey: (a: number, b: number, c: number, d: number, e: number) => any;
            readonly tavernstore_setSettings: (a: number, b: any) => any;
            readonly tavernstore_subscribe: (a: number, b: any) => any;
            readonly tavernstore_subscribeSettings: (a: number, b: any) => any;
            readonly tavernstore_thumbnail: (a: number, b: number, c: number, d: any) => any;
            readonly tavernstore_thumbnailUrl: (a: number, b: number, c: number, d: any) => any;
            readonly tavernstore_updateCharacter: (a: number, b: number, c: number, d: any) => any;
            readonly tavernstore_validateSettings: (a: number, b: any) => any;
            readonly version: () => [number, number];
            readonly wasm_bindgen__convert__closures_____invoke__h60702a48838d1764: (a: number, b: number, c: any) => [number, number];
            readonly wasm_bindgen__convert__closures_____invoke__hb98d63cc49481475: (a: number, b: number, c: any, d: any) => void;
            readonly wasm_bindgen__convert__closures_____invoke__ha10def6d16796eb4: (a: number, b: number, c: any) => void;
            readonly wasm_bindgen__convert__closures_____invoke__ha10def6d16796eb4_104: (a: number, b: number, c: any) => void;
            readonly wasm_bindgen__convert__closures_____invoke__hf43f743aeefbfe21: (a: number, b: number, c: any) => void;
            readonly wasm_bindgen__convert__closures_____invoke__hcb3deb73a4ee986c: (a: number, b: number) => void;
            readonly __wbindgen_malloc: (a: number, b: number) => number;
            readonly __wbindgen_realloc: (a: number, b: number, c: number, d: number) => number;
            readonly __wbindgen_free: (a: number, b: number, c: number) => void;
            readonly __wbindgen_exn_store: (a: number) => void;
            readonly __externref_table_alloc: () => number;
            readonly __wbindgen_externrefs: WebAssembly.Table;
            readonly __wbindgen_destroy_closure: (a: number, b: number) => void;
            readonly __externref_table_dealloc: (a: number) => void;
            readonly __externref_drop_slice: (a: number, b: number) => void;
            readonly __wbindgen_start: () => void;
        }

        export type SyncInitInput = BufferSource | WebAssembly.Module;

        /**
         * Instantiates the given `module`, which can either be bytes or
         * a precompiled `WebAssembly.Module`.
         *
         * @param {{ module: SyncInitInput }} module - Passing `SyncInitInput` directly is deprecated.
         *
         * @returns {InitOutput}
         */
        export function initSync(module: { module: SyncInitInput } | SyncInitInput): InitOutput;

        /**
         * If `module_or_path` is {RequestInfo} or {URL}, makes a request and
         * for everything else, calls `WebAssembly.instantiate` directly.
         *
         * @param {{ module_or_path: InitInput | Promise<InitInput> }} module_or_path - Passing `InitInput` directly is deprecated.
         *
         * @returns {Promise<InitOutput>}
         */
        export default function __wbg_init (module_or_path?: { module_or_path: InitInput | Promise<InitInput> } | InitInput | Promise<InitInput>): Promise<InitOutput>;
