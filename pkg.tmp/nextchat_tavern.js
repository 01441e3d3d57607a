/* @ts-self-types="./nextchat_tavern.d.ts" */

/**
 * Generation with streaming, abort, idle timeout, retries and fallback between backends.
 */
export class Generator {
    static __wrap(ptr) {
        const obj = Object.create(Generator.prototype);
        obj.__wbg_ptr = ptr;
        GeneratorFinalization.register(obj, obj.__wbg_ptr, obj);
        return obj;
    }
    __destroy_into_raw() {
        const ptr = this.__wbg_ptr;
        this.__wbg_ptr = 0;
        GeneratorFinalization.unregister(this);
        return ptr;
    }
    free() {
        const ptr = this.__destroy_into_raw();
        wasm.__wbg_generator_free(ptr, 0);
    }
    /**
     * Generates a reply. Streams text through `onToken`; resolves with the whole text (partial
     * and `incomplete: true` when the stream was cut); rejects with a TavernError when no
     * backend produced anything (code "aborted" when aborted before any text).
     * @param {GenerateRequest} request
     * @param {GenerateCallOptions} [options]
     * @returns {Promise<GenerateResult>}
     */
    generate(request, options) {
        const ret = wasm.generator_generate(this.__wbg_ptr, request, options);
        return ret;
    }
    /**
     * Records every generation's usage and latency (backend, times, length, fallbacks,
     * outcome) in `store`'s event log as `generation` events.
     * @param {TavernStore} store
     */
    logTo(store) {
        _assertClass(store, TavernStore);
        wasm.generator_logTo(this.__wbg_ptr, store.__wbg_ptr);
    }
    /**
     * A generator without a SillyTavern server (direct OpenAI-compatible and host backends).
     * For SillyTavern backends use `sillyTavernClient.generator(options)`.
     * @param {GeneratorOptions} options
     */
    constructor(options) {
        const ret = wasm.generator_new(options);
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        this.__wbg_ptr = ret[0];
        GeneratorFinalization.register(this, this.__wbg_ptr, this);
        return this;
    }
}
if (Symbol.dispose) Generator.prototype[Symbol.dispose] = Generator.prototype.free;

/**
 * A lorebook compiled once (Aho-Corasick over plain keys, regex keys compiled) and
 * reused by `scan`, or passed to `buildPrompt`/`scanLorebooks` as `{ matcher }`, until it
 * is freed.
 */
export class LorebookMatcher {
    __destroy_into_raw() {
        const ptr = this.__wbg_ptr;
        this.__wbg_ptr = 0;
        LorebookMatcherFinalization.unregister(this);
        return ptr;
    }
    free() {
        const ptr = this.__destroy_into_raw();
        wasm.__wbg_lorebookmatcher_free(ptr, 0);
    }
    /**
     * The id by which requests find this matcher (`lorebooks: [{ matcher }]`).
     * @returns {number}
     */
    get handle() {
        const ret = wasm.lorebookmatcher_handle(this.__wbg_ptr);
        return ret >>> 0;
    }
    /**
     * Compiles `book` (any lorebook JSON) named `name`, for the given World Info settings.
     * @param {string} name
     * @param {LorebookJson} book
     * @param {WorldInfoSettings | undefined} settings
     * @param {BookSource | undefined} source
     */
    constructor(name, book, settings, source) {
        const ptr0 = passStringToWasm0(name, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
        const len0 = WASM_VECTOR_LEN;
        const ret = wasm.lorebookmatcher_new(ptr0, len0, book, settings, source);
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        this.__wbg_ptr = ret[0];
        LorebookMatcherFinalization.register(this, this.__wbg_ptr, this);
        return this;
    }
    /**
     * Scans and returns only the number of activated entries (for benchmarks:
     * avoids converting the whole result to JS).
     * @param {ScanRequest} request
     * @returns {number}
     */
    scanCount(request) {
        const ret = wasm.lorebookmatcher_scanCount(this.__wbg_ptr, request);
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        return ret[0] >>> 0;
    }
    /**
     * Scans with this compiled book (`request.lorebooks` is ignored).
     * @param {ScanRequest} request
     * @param {(text: string) => number} [countTokens]
     * @returns {WorldInfoResult}
     */
    scan(request, countTokens) {
        const ret = wasm.lorebookmatcher_scan(this.__wbg_ptr, request, countTokens);
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        return takeFromExternrefTable0(ret[0]);
    }
    /**
     * Entries, patterns, regex keys, automaton bytes and compile time.
     * @returns {CompileStats}
     */
    stats() {
        const ret = wasm.lorebookmatcher_stats(this.__wbg_ptr);
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        return takeFromExternrefTable0(ret[0]);
    }
}
if (Symbol.dispose) LorebookMatcher.prototype[Symbol.dispose] = LorebookMatcher.prototype.free;

/**
 * A connection to one SillyTavern server: CSRF handled, rate limited, retried, typed errors.
 */
export class SillyTavernClient {
    __destroy_into_raw() {
        const ptr = this.__wbg_ptr;
        this.__wbg_ptr = 0;
        SillyTavernClientFinalization.unregister(this);
        return ptr;
    }
    free() {
        const ptr = this.__destroy_into_raw();
        wasm.__wbg_sillytavernclient_free(ptr, 0);
    }
    /**
     * The server's base URL.
     * @returns {string}
     */
    get baseUrl() {
        let deferred1_0;
        let deferred1_1;
        try {
            const ret = wasm.sillytavernclient_baseUrl(this.__wbg_ptr);
            deferred1_0 = ret[0];
            deferred1_1 = ret[1];
            return getStringFromWasm0(ret[0], ret[1]);
        } finally {
            wasm.__wbindgen_free(deferred1_0, deferred1_1, 1);
        }
    }
    /**
     * All characters through the cache, with where they came from: `characters()` with
     * `maxAgeMs` (default 30000) that resolves to `{ value, fromCache, stale, fetchedAt }`.
     * After `useCache(store)`, a new client (e.g. after a page reload) resolves from the store
     * at once — `fromCache: true`, `stale` when older than `maxAgeMs` (then `onUpdate` gets
     * the fresh list).
     * @param {CallOptions & { maxAgeMs?: number; onUpdate?: (list: StCharacter[]) => void }} [opts]
     * @returns {Promise<CachedValue<StCharacter[]>>}
     */
    cachedCharacters(opts) {
        const ret = wasm.sillytavernclient_cachedCharacters(this.__wbg_ptr, opts);
        return ret;
    }
    /**
     * The chat files of a character.
     * @param {string} avatar
     * @param {CallOptions} [opts]
     * @returns {Promise<Record<string, unknown>[]>}
     */
    characterChats(avatar, opts) {
        const ptr0 = passStringToWasm0(avatar, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
        const len0 = WASM_VECTOR_LEN;
        const ret = wasm.sillytavernclient_characterChats(this.__wbg_ptr, ptr0, len0, opts);
        return ret;
    }
    /**
     * Full details of several characters, loaded lazily in batches of `batchSize` parallel
     * requests (default 6; identical requests in flight are shared). Resolves in the order
     * given; a character that failed to load is a `TavernError` in its slot.
     * @param {string[]} avatars
     * @param {CallOptions & { batchSize?: number }} [opts]
     * @returns {Promise<(StCharacter | TavernError)[]>}
     */
    characterDetails(avatars, opts) {
        const ptr0 = passArrayJsValueToWasm0(avatars, wasm.__wbindgen_malloc);
        const len0 = WASM_VECTOR_LEN;
        const ret = wasm.sillytavernclient_characterDetails(this.__wbg_ptr, ptr0, len0, opts);
        return ret;
    }
    /**
     * One character by avatar file name.
     * @param {string} avatar
     * @param {CallOptions} [opts]
     * @returns {Promise<StCharacter>}
     */
    character(avatar, opts) {
        const ptr0 = passStringToWasm0(avatar, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
        const len0 = WASM_VECTOR_LEN;
        const ret = wasm.sillytavernclient_character(this.__wbg_ptr, ptr0, len0, opts);
        return ret;
    }
    /**
     * All characters. With `maxAgeMs`, served from the client's cache when younger; an older
     * cached list is returned at once (stale-while-revalidate) and `onUpdate` receives the fresh
     * list when it arrives. Any write through this client drops the cache. Cached lists share
     * their character objects between calls: treat them as read-only.
     * @param {CallOptions & { maxAgeMs?: number; onUpdate?: (list: StCharacter[]) => void }} [opts]
     * @returns {Promise<StCharacter[]>}
     */
    characters(opts) {
        const ret = wasm.sillytavernclient_characters(this.__wbg_ptr, opts);
        return ret;
    }
    /**
     * A solo chat's lines (header first); `[]` when it does not exist.
     * @param {string} avatar
     * @param {string} fileName
     * @param {CallOptions} [opts]
     * @returns {Promise<StChatLine[]>}
     */
    chat(avatar, fileName, opts) {
        let ptr0, len0, ptr1, len1;
        try {
            ptr0 = passStringToWasm0(avatar, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
            len0 = WASM_VECTOR_LEN;
            ptr1 = passStringToWasm0(fileName, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
            len1 = WASM_VECTOR_LEN;
        } catch (e) {
            if (ptr1) { wasm.__wbindgen_free(ptr1, len1 * 1, 1); }
            if (ptr0) { wasm.__wbindgen_free(ptr0, len0 * 1, 1); }
            throw e;
        }
        const ret = wasm.sillytavernclient_chat(this.__wbg_ptr, ptr0, len0, ptr1, len1, opts);
        return ret;
    }
    /**
     * Drops every cached read of this client, and this server's entries in the store given to
     * `useCache`.
     * @returns {Promise<void>}
     */
    clearCache() {
        const ret = wasm.sillytavernclient_clearCache(this.__wbg_ptr);
        return ret;
    }
    /**
     * Fetches (once) and returns the CSRF token; a quick "is it reachable" check.
     * @param {CallOptions} [opts]
     * @returns {Promise<void>}
     */
    connect(opts) {
        const ret = wasm.sillytavernclient_connect(this.__wbg_ptr, opts);
        return ret;
    }
    /**
     * Creates a character from a V2/V3 card object (and optional PNG avatar); resolves to its avatar file name.
     * @param {Record<string, unknown>} card
     * @param {Uint8Array | number[] | null | undefined} avatar
     * @param {CallOptions} [opts]
     * @returns {Promise<string>}
     */
    createCharacter(card, avatar, opts) {
        var ptr0 = isLikeNone(avatar) ? 0 : passArray8ToWasm0(avatar, wasm.__wbindgen_malloc);
        var len0 = WASM_VECTOR_LEN;
        const ret = wasm.sillytavernclient_createCharacter(this.__wbg_ptr, card, ptr0, len0, opts);
        return ret;
    }
    /**
     * Creates a group from a partial group; resolves to the full group.
     * @param {Record<string, unknown>} group
     * @param {CallOptions} [opts]
     * @returns {Promise<Record<string, unknown>>}
     */
    createGroup(group, opts) {
        const ret = wasm.sillytavernclient_createGroup(this.__wbg_ptr, group, opts);
        return ret;
    }
    /**
     * Deletes a character (`{ deleteChats: true }` also removes its chats).
     * @param {string} avatar
     * @param {CallOptions & { deleteChats?: boolean }} [opts]
     * @returns {Promise<void>}
     */
    deleteCharacter(avatar, opts) {
        const ptr0 = passStringToWasm0(avatar, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
        const len0 = WASM_VECTOR_LEN;
        const ret = wasm.sillytavernclient_deleteCharacter(this.__wbg_ptr, ptr0, len0, opts);
        return ret;
    }
    /**
     * Deletes a solo chat.
     * @param {string} avatar
     * @param {string} fileName
     * @param {CallOptions} [opts]
     * @returns {Promise<void>}
     */
    deleteChat(avatar, fileName, opts) {
        let ptr0, len0, ptr1, len1;
        try {
            ptr0 = passStringToWasm0(avatar, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
            len0 = WASM_VECTOR_LEN;
            ptr1 = passStringToWasm0(fileName, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
            len1 = WASM_VECTOR_LEN;
        } catch (e) {
            if (ptr1) { wasm.__wbindgen_free(ptr1, len1 * 1, 1); }
            if (ptr0) { wasm.__wbindgen_free(ptr0, len0 * 1, 1); }
            throw e;
        }
        const ret = wasm.sillytavernclient_deleteChat(this.__wbg_ptr, ptr0, len0, ptr1, len1, opts);
        return ret;
    }
    /**
     * Deletes a group chat.
     * @param {string} chatId
     * @param {CallOptions} [opts]
     * @returns {Promise<void>}
     */
    deleteGroupChat(chatId, opts) {
        const ptr0 = passStringToWasm0(chatId, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
        const len0 = WASM_VECTOR_LEN;
        const ret = wasm.sillytavernclient_deleteGroupChat(this.__wbg_ptr, ptr0, len0, opts);
        return ret;
    }
    /**
     * Deletes a group and its chats.
     * @param {string} id
     * @param {CallOptions} [opts]
     * @returns {Promise<void>}
     */
    deleteGroup(id, opts) {
        const ptr0 = passStringToWasm0(id, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
        const len0 = WASM_VECTOR_LEN;
        const ret = wasm.sillytavernclient_deleteGroup(this.__wbg_ptr, ptr0, len0, opts);
        return ret;
    }
    /**
     * Deletes a lorebook.
     * @param {string} name
     * @param {CallOptions} [opts]
     * @returns {Promise<void>}
     */
    deleteWorldInfo(name, opts) {
        const ptr0 = passStringToWasm0(name, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
        const len0 = WASM_VECTOR_LEN;
        const ret = wasm.sillytavernclient_deleteWorldInfo(this.__wbg_ptr, ptr0, len0, opts);
        return ret;
    }
    /**
     * Duplicates a character; resolves to the copy's avatar file name.
     * @param {string} avatar
     * @param {CallOptions} [opts]
     * @returns {Promise<string>}
     */
    duplicateCharacter(avatar, opts) {
        const ptr0 = passStringToWasm0(avatar, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
        const len0 = WASM_VECTOR_LEN;
        const ret = wasm.sillytavernclient_duplicateCharacter(this.__wbg_ptr, ptr0, len0, opts);
        return ret;
    }
    /**
     * Replaces a character's card (full edit), keeping its avatar file name; an optional new PNG
     * replaces the image.
     * @param {string} avatar
     * @param {Record<string, unknown>} card
     * @param {Uint8Array | number[] | null | undefined} image
     * @param {CallOptions} [opts]
     * @returns {Promise<void>}
     */
    editCharacter(avatar, card, image, opts) {
        let ptr0, len0, ptr1, len1;
        try {
            ptr0 = passStringToWasm0(avatar, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
            len0 = WASM_VECTOR_LEN;
            ptr1 = isLikeNone(image) ? 0 : passArray8ToWasm0(image, wasm.__wbindgen_malloc);
            len1 = WASM_VECTOR_LEN;
        } catch (e) {
            if (ptr1) { wasm.__wbindgen_free(ptr1, len1 * 1, 1); }
            if (ptr0) { wasm.__wbindgen_free(ptr0, len0 * 1, 1); }
            throw e;
        }
        const ret = wasm.sillytavernclient_editCharacter(this.__wbg_ptr, ptr0, len0, card, ptr1, len1, opts);
        return ret;
    }
    /**
     * Replaces a group with the complete object given.
     * @param {Record<string, unknown>} group
     * @param {CallOptions} [opts]
     * @returns {Promise<void>}
     */
    editGroup(group, opts) {
        const ret = wasm.sillytavernclient_editGroup(this.__wbg_ptr, group, opts);
        return ret;
    }
    /**
     * Exports a character as "png" or "json" bytes.
     * @param {string} avatar
     * @param {string} format
     * @param {CallOptions} [opts]
     * @returns {Promise<Uint8Array>}
     */
    exportCharacter(avatar, format, opts) {
        let ptr0, len0, ptr1, len1;
        try {
            ptr0 = passStringToWasm0(avatar, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
            len0 = WASM_VECTOR_LEN;
            ptr1 = passStringToWasm0(format, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
            len1 = WASM_VECTOR_LEN;
        } catch (e) {
            if (ptr1) { wasm.__wbindgen_free(ptr1, len1 * 1, 1); }
            if (ptr0) { wasm.__wbindgen_free(ptr0, len0 * 1, 1); }
            throw e;
        }
        const ret = wasm.sillytavernclient_exportCharacter(this.__wbg_ptr, ptr0, len0, ptr1, len1, opts);
        return ret;
    }
    /**
     * Exports a chat file: `format` "jsonl" (the raw file) or "txt" (a transcript).
     * @param {string} avatar
     * @param {string} fileName
     * @param {CallOptions & { format?: "jsonl" | "txt"; isGroup?: boolean }} [opts]
     * @returns {Promise<string>}
     */
    exportChat(avatar, fileName, opts) {
        let ptr0, len0, ptr1, len1;
        try {
            ptr0 = passStringToWasm0(avatar, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
            len0 = WASM_VECTOR_LEN;
            ptr1 = passStringToWasm0(fileName, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
            len1 = WASM_VECTOR_LEN;
        } catch (e) {
            if (ptr1) { wasm.__wbindgen_free(ptr1, len1 * 1, 1); }
            if (ptr0) { wasm.__wbindgen_free(ptr0, len0 * 1, 1); }
            throw e;
        }
        const ret = wasm.sillytavernclient_exportChat(this.__wbg_ptr, ptr0, len0, ptr1, len1, opts);
        return ret;
    }
    /**
     * A `Generator` whose SillyTavern backends go through this server (its session and limiter).
     * @param {GeneratorOptions} options
     * @returns {Generator}
     */
    generator(options) {
        const ret = wasm.sillytavernclient_generator(this.__wbg_ptr, options);
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        return Generator.__wrap(ret[0]);
    }
    /**
     * A group chat's lines.
     * @param {string} chatId
     * @param {CallOptions} [opts]
     * @returns {Promise<StChatLine[]>}
     */
    groupChat(chatId, opts) {
        const ptr0 = passStringToWasm0(chatId, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
        const len0 = WASM_VECTOR_LEN;
        const ret = wasm.sillytavernclient_groupChat(this.__wbg_ptr, ptr0, len0, opts);
        return ret;
    }
    /**
     * All groups.
     * @param {CallOptions} [opts]
     * @returns {Promise<Record<string, unknown>[]>}
     */
    groups(opts) {
        const ret = wasm.sillytavernclient_groups(this.__wbg_ptr, opts);
        return ret;
    }
    /**
     * Imports a card file (`fileType`: png, json, yaml, charx, byaf); resolves to the avatar file name.
     * @param {Uint8Array | number[]} bytes
     * @param {string} fileType
     * @param {string} fileName
     * @param {CallOptions} [opts]
     * @returns {Promise<string>}
     */
    importCharacter(bytes, fileType, fileName, opts) {
        let ptr0, len0, ptr1, len1, ptr2, len2;
        try {
            ptr0 = passArray8ToWasm0(bytes, wasm.__wbindgen_malloc);
            len0 = WASM_VECTOR_LEN;
            ptr1 = passStringToWasm0(fileType, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
            len1 = WASM_VECTOR_LEN;
            ptr2 = passStringToWasm0(fileName, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
            len2 = WASM_VECTOR_LEN;
        } catch (e) {
            if (ptr2) { wasm.__wbindgen_free(ptr2, len2 * 1, 1); }
            if (ptr1) { wasm.__wbindgen_free(ptr1, len1 * 1, 1); }
            if (ptr0) { wasm.__wbindgen_free(ptr0, len0 * 1, 1); }
            throw e;
        }
        const ret = wasm.sillytavernclient_importCharacter(this.__wbg_ptr, ptr0, len0, ptr1, len1, ptr2, len2, opts);
        return ret;
    }
    /**
     * Imports a chat file for a character (`fileType` "jsonl" or "json"); resolves to the new file names.
     * @param {string} avatar
     * @param {string} characterName
     * @param {string} userName
     * @param {Uint8Array | number[]} bytes
     * @param {string} fileType
     * @param {CallOptions} [opts]
     * @returns {Promise<string[]>}
     */
    importChat(avatar, characterName, userName, bytes, fileType, opts) {
        let ptr0, len0, ptr1, len1, ptr2, len2, ptr3, len3, ptr4, len4;
        try {
            ptr0 = passStringToWasm0(avatar, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
            len0 = WASM_VECTOR_LEN;
            ptr1 = passStringToWasm0(characterName, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
            len1 = WASM_VECTOR_LEN;
            ptr2 = passStringToWasm0(userName, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
            len2 = WASM_VECTOR_LEN;
            ptr3 = passArray8ToWasm0(bytes, wasm.__wbindgen_malloc);
            len3 = WASM_VECTOR_LEN;
            ptr4 = passStringToWasm0(fileType, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
            len4 = WASM_VECTOR_LEN;
        } catch (e) {
            if (ptr4) { wasm.__wbindgen_free(ptr4, len4 * 1, 1); }
            if (ptr3) { wasm.__wbindgen_free(ptr3, len3 * 1, 1); }
            if (ptr2) { wasm.__wbindgen_free(ptr2, len2 * 1, 1); }
            if (ptr1) { wasm.__wbindgen_free(ptr1, len1 * 1, 1); }
            if (ptr0) { wasm.__wbindgen_free(ptr0, len0 * 1, 1); }
            throw e;
        }
        const ret = wasm.sillytavernclient_importChat(this.__wbg_ptr, ptr0, len0, ptr1, len1, ptr2, len2, ptr3, len3, ptr4, len4, opts);
        return ret;
    }
    /**
     * Imports a character or lorebook from a URL the server supports (Chub, JanitorAI,
     * RisuRealm, … or a direct PNG on a host in its `whitelistImportDomains`).
     * @param {string} url
     * @param {CallOptions} [opts]
     * @returns {Promise<{ kind: "character" | "lorebook"; name: string }>}
     */
    importFromUrl(url, opts) {
        const ptr0 = passStringToWasm0(url, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
        const len0 = WASM_VECTOR_LEN;
        const ret = wasm.sillytavernclient_importFromUrl(this.__wbg_ptr, ptr0, len0, opts);
        return ret;
    }
    /**
     * Imports a group chat file (JSONL); resolves to the new chat id.
     * @param {Uint8Array | number[]} bytes
     * @param {CallOptions} [opts]
     * @returns {Promise<string>}
     */
    importGroupChat(bytes, opts) {
        const ptr0 = passArray8ToWasm0(bytes, wasm.__wbindgen_malloc);
        const len0 = WASM_VECTOR_LEN;
        const ret = wasm.sillytavernclient_importGroupChat(this.__wbg_ptr, ptr0, len0, opts);
        return ret;
    }
    /**
     * Imports a lorebook file; its name (without extension) names the book. Resolves to the name.
     * @param {Uint8Array | number[]} bytes
     * @param {string} fileName
     * @param {CallOptions} [opts]
     * @returns {Promise<string>}
     */
    importWorldInfo(bytes, fileName, opts) {
        let ptr0, len0, ptr1, len1;
        try {
            ptr0 = passArray8ToWasm0(bytes, wasm.__wbindgen_malloc);
            len0 = WASM_VECTOR_LEN;
            ptr1 = passStringToWasm0(fileName, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
            len1 = WASM_VECTOR_LEN;
        } catch (e) {
            if (ptr1) { wasm.__wbindgen_free(ptr1, len1 * 1, 1); }
            if (ptr0) { wasm.__wbindgen_free(ptr0, len0 * 1, 1); }
            throw e;
        }
        const ret = wasm.sillytavernclient_importWorldInfo(this.__wbg_ptr, ptr0, len0, ptr1, len1, opts);
        return ret;
    }
    /**
     * Logs in (servers with user accounts). Rejects with "unauthorized" on wrong credentials.
     * @param {string} handle
     * @param {string} password
     * @param {CallOptions} [opts]
     * @returns {Promise<void>}
     */
    login(handle, password, opts) {
        let ptr0, len0, ptr1, len1;
        try {
            ptr0 = passStringToWasm0(handle, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
            len0 = WASM_VECTOR_LEN;
            ptr1 = passStringToWasm0(password, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
            len1 = WASM_VECTOR_LEN;
        } catch (e) {
            if (ptr1) { wasm.__wbindgen_free(ptr1, len1 * 1, 1); }
            if (ptr0) { wasm.__wbindgen_free(ptr0, len0 * 1, 1); }
            throw e;
        }
        const ret = wasm.sillytavernclient_login(this.__wbg_ptr, ptr0, len0, ptr1, len1, opts);
        return ret;
    }
    /**
     * Logs out.
     * @param {CallOptions} [opts]
     * @returns {Promise<void>}
     */
    logout(opts) {
        const ret = wasm.sillytavernclient_logout(this.__wbg_ptr, opts);
        return ret;
    }
    /**
     * The logged-in user: `{ handle, name, admin, … }`.
     * @param {CallOptions} [opts]
     * @returns {Promise<Record<string, unknown>>}
     */
    me(opts) {
        const ret = wasm.sillytavernclient_me(this.__wbg_ptr, opts);
        return ret;
    }
    /**
     * Deep-merges a partial card into a stored character.
     * @param {string} avatar
     * @param {Record<string, unknown>} partial
     * @param {CallOptions} [opts]
     * @returns {Promise<void>}
     */
    mergeCharacter(avatar, partial, opts) {
        const ptr0 = passStringToWasm0(avatar, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
        const len0 = WASM_VECTOR_LEN;
        const ret = wasm.sillytavernclient_mergeCharacter(this.__wbg_ptr, ptr0, len0, partial, opts);
        return ret;
    }
    /**
     * Creates a client. Nothing is sent until the first call.
     * @param {SillyTavernClientOptions} options
     */
    constructor(options) {
        const ret = wasm.sillytavernclient_new(options);
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        this.__wbg_ptr = ret[0];
        SillyTavernClientFinalization.register(this, this.__wbg_ptr, this);
        return this;
    }
    /**
     * Renames a character; resolves to the new avatar file name.
     * @param {string} avatar
     * @param {string} newName
     * @param {CallOptions} [opts]
     * @returns {Promise<string>}
     */
    renameCharacter(avatar, newName, opts) {
        let ptr0, len0, ptr1, len1;
        try {
            ptr0 = passStringToWasm0(avatar, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
            len0 = WASM_VECTOR_LEN;
            ptr1 = passStringToWasm0(newName, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
            len1 = WASM_VECTOR_LEN;
        } catch (e) {
            if (ptr1) { wasm.__wbindgen_free(ptr1, len1 * 1, 1); }
            if (ptr0) { wasm.__wbindgen_free(ptr0, len0 * 1, 1); }
            throw e;
        }
        const ret = wasm.sillytavernclient_renameCharacter(this.__wbg_ptr, ptr0, len0, ptr1, len1, opts);
        return ret;
    }
    /**
     * Renames a chat file; resolves to the sanitised new name.
     * @param {string} avatar
     * @param {string} from
     * @param {string} to
     * @param {CallOptions & { isGroup?: boolean }} [opts]
     * @returns {Promise<string>}
     */
    renameChat(avatar, from, to, opts) {
        let ptr0, len0, ptr1, len1, ptr2, len2;
        try {
            ptr0 = passStringToWasm0(avatar, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
            len0 = WASM_VECTOR_LEN;
            ptr1 = passStringToWasm0(from, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
            len1 = WASM_VECTOR_LEN;
            ptr2 = passStringToWasm0(to, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
            len2 = WASM_VECTOR_LEN;
        } catch (e) {
            if (ptr2) { wasm.__wbindgen_free(ptr2, len2 * 1, 1); }
            if (ptr1) { wasm.__wbindgen_free(ptr1, len1 * 1, 1); }
            if (ptr0) { wasm.__wbindgen_free(ptr0, len0 * 1, 1); }
            throw e;
        }
        const ret = wasm.sillytavernclient_renameChat(this.__wbg_ptr, ptr0, len0, ptr1, len1, ptr2, len2, opts);
        return ret;
    }
    /**
     * Saves a solo chat; rejects with "integrity_conflict" when it changed elsewhere (unless `force`).
     * @param {string} avatar
     * @param {string} fileName
     * @param {StChatLine[]} lines
     * @param {CallOptions & { force?: boolean }} [opts]
     * @returns {Promise<void>}
     */
    saveChat(avatar, fileName, lines, opts) {
        let ptr0, len0, ptr1, len1;
        try {
            ptr0 = passStringToWasm0(avatar, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
            len0 = WASM_VECTOR_LEN;
            ptr1 = passStringToWasm0(fileName, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
            len1 = WASM_VECTOR_LEN;
        } catch (e) {
            if (ptr1) { wasm.__wbindgen_free(ptr1, len1 * 1, 1); }
            if (ptr0) { wasm.__wbindgen_free(ptr0, len0 * 1, 1); }
            throw e;
        }
        const ret = wasm.sillytavernclient_saveChat(this.__wbg_ptr, ptr0, len0, ptr1, len1, lines, opts);
        return ret;
    }
    /**
     * Saves a group chat (integrity rules as for solo chats).
     * @param {string} chatId
     * @param {StChatLine[]} lines
     * @param {CallOptions & { force?: boolean }} [opts]
     * @returns {Promise<void>}
     */
    saveGroupChat(chatId, lines, opts) {
        const ptr0 = passStringToWasm0(chatId, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
        const len0 = WASM_VECTOR_LEN;
        const ret = wasm.sillytavernclient_saveGroupChat(this.__wbg_ptr, ptr0, len0, lines, opts);
        return ret;
    }
    /**
     * Saves a lorebook.
     * @param {string} name
     * @param {StWorldInfo} data
     * @param {CallOptions} [opts]
     * @returns {Promise<void>}
     */
    saveWorldInfo(name, data, opts) {
        const ptr0 = passStringToWasm0(name, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
        const len0 = WASM_VECTOR_LEN;
        const ret = wasm.sillytavernclient_saveWorldInfo(this.__wbg_ptr, ptr0, len0, data, opts);
        return ret;
    }
    /**
     * The user's SillyTavern settings, parsed.
     * @param {CallOptions} [opts]
     * @returns {Promise<Record<string, unknown>>}
     */
    settings(opts) {
        const ret = wasm.sillytavernclient_settings(this.__wbg_ptr, opts);
        return ret;
    }
    /**
     * Syncs a local chat (`messages` in the local store's shape) with its linked SillyTavern
     * chat: loads the server copy, merges — no message of either side is lost — and saves the
     * merge (retrying through integrity conflicts); `force: true` overwrites the server copy
     * instead (only when the user asked). When `localChanged`, replace the local messages with
     * `messages`, and keep the returned `link`.
     * @param {ChatLink} link
     * @param {BridgeMessage[]} messages
     * @param {CallOptions & { force?: boolean }} [opts]
     * @returns {Promise<ChatSyncResult>}
     */
    syncChat(link, messages, opts) {
        const ret = wasm.sillytavernclient_syncChat(this.__wbg_ptr, link, messages, opts);
        return ret;
    }
    /**
     * A thumbnail as an object URL for `<img src>` (revoke it with `URL.revokeObjectURL`).
     * @param {string} kind
     * @param {string} file
     * @param {CallOptions & { maxAgeMs?: number }} [opts]
     * @returns {Promise<string>}
     */
    thumbnailUrl(kind, file, opts) {
        let ptr0, len0, ptr1, len1;
        try {
            ptr0 = passStringToWasm0(kind, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
            len0 = WASM_VECTOR_LEN;
            ptr1 = passStringToWasm0(file, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
            len1 = WASM_VECTOR_LEN;
        } catch (e) {
            if (ptr1) { wasm.__wbindgen_free(ptr1, len1 * 1, 1); }
            if (ptr0) { wasm.__wbindgen_free(ptr0, len0 * 1, 1); }
            throw e;
        }
        const ret = wasm.sillytavernclient_thumbnailUrl(this.__wbg_ptr, ptr0, len0, ptr1, len1, opts);
        return ret;
    }
    /**
     * An avatar/background/persona thumbnail as image bytes (fetched with credentials: a plain
     * `<img src>` is blocked by SillyTavern's Cross-Origin-Resource-Policy). Cached (in the
     * `useCache` store too); a copy older than `maxAgeMs` (default 5 minutes) is returned and
     * refreshed in the background.
     * @param {string} kind
     * @param {string} file
     * @param {CallOptions & { maxAgeMs?: number }} [opts]
     * @returns {Promise<Uint8Array>}
     */
    thumbnail(kind, file, opts) {
        let ptr0, len0, ptr1, len1;
        try {
            ptr0 = passStringToWasm0(kind, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
            len0 = WASM_VECTOR_LEN;
            ptr1 = passStringToWasm0(file, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
            len1 = WASM_VECTOR_LEN;
        } catch (e) {
            if (ptr1) { wasm.__wbindgen_free(ptr1, len1 * 1, 1); }
            if (ptr0) { wasm.__wbindgen_free(ptr0, len0 * 1, 1); }
            throw e;
        }
        const ret = wasm.sillytavernclient_thumbnail(this.__wbg_ptr, ptr0, len0, ptr1, len1, opts);
        return ret;
    }
    /**
     * Keeps this client's cached reads (the character list, thumbnails) in `store` as well
     * (its IndexedDB `cache`: size-capped, never in backups), so a new client on the same
     * server and store — after a page reload, in another tab — is served them at once, then
     * revalidates them by `maxAgeMs`. Every write through a client drops the server's entries.
     * On a server with user accounts, entries are kept per user once `login()` or `me()` told
     * the client who is logged in. A store in memory (`info().persistent === false`) adds
     * nothing to the client's own memory cache.
     * @param {TavernStore} store
     */
    useCache(store) {
        _assertClass(store, TavernStore);
        wasm.sillytavernclient_useCache(this.__wbg_ptr, store.__wbg_ptr);
    }
    /**
     * Lorebook names.
     * @param {CallOptions} [opts]
     * @returns {Promise<{ file_id: string; name: string }[]>}
     */
    worldInfoList(opts) {
        const ret = wasm.sillytavernclient_worldInfoList(this.__wbg_ptr, opts);
        return ret;
    }
    /**
     * A lorebook file (`{ entries: {} }` when missing).
     * @param {string} name
     * @param {CallOptions} [opts]
     * @returns {Promise<StWorldInfo>}
     */
    worldInfo(name, opts) {
        const ptr0 = passStringToWasm0(name, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
        const len0 = WASM_VECTOR_LEN;
        const ret = wasm.sillytavernclient_worldInfo(this.__wbg_ptr, ptr0, len0, opts);
        return ret;
    }
}
if (Symbol.dispose) SillyTavernClient.prototype[Symbol.dispose] = SillyTavernClient.prototype.free;

/**
 * A store of characters, chats, assets and settings: IndexedDB when a name is given and
 * IndexedDB works, else in memory (see `info().persistent` / `fallbackReason`).
 */
export class TavernStore {
    static __wrap(ptr) {
        const obj = Object.create(TavernStore.prototype);
        obj.__wbg_ptr = ptr;
        TavernStoreFinalization.register(obj, obj.__wbg_ptr, obj);
        return obj;
    }
    __destroy_into_raw() {
        const ptr = this.__wbg_ptr;
        this.__wbg_ptr = 0;
        TavernStoreFinalization.unregister(this);
        return ptr;
    }
    free() {
        const ptr = this.__destroy_into_raw();
        wasm.__wbg_tavernstore_free(ptr, 0);
    }
    /**
     * Which API keys are stored (names → set), never the values.
     * @returns {Promise<Record<string, boolean>>}
     */
    apiKeyNames() {
        const ret = wasm.tavernstore_apiKeyNames(this.__wbg_ptr);
        return ret;
    }
    /**
     * Appends a message (constant time, whatever the chat length).
     * @param {string} chatId
     * @param {MessageInput} message
     * @returns {Promise<Message>}
     */
    appendMessage(chatId, message) {
        const ptr0 = passStringToWasm0(chatId, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
        const len0 = WASM_VECTOR_LEN;
        const ret = wasm.tavernstore_appendMessage(this.__wbg_ptr, ptr0, len0, message);
        return ret;
    }
    /**
     * Creates a character from a card (and an optional avatar).
     * @param {CharacterInput} input
     * @returns {Promise<Character>}
     */
    createCharacter(input) {
        const ret = wasm.tavernstore_createCharacter(this.__wbg_ptr, input);
        return ret;
    }
    /**
     * Creates a chat with a character or a group.
     * @param {ChatInput} input
     * @returns {Promise<Chat>}
     */
    createChat(input) {
        const ret = wasm.tavernstore_createChat(this.__wbg_ptr, input);
        return ret;
    }
    /**
     * Deletes a character (tombstone; `restoreCharacter` undoes it).
     * @param {string} id
     * @returns {Promise<Character>}
     */
    deleteCharacter(id) {
        const ptr0 = passStringToWasm0(id, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
        const len0 = WASM_VECTOR_LEN;
        const ret = wasm.tavernstore_deleteCharacter(this.__wbg_ptr, ptr0, len0);
        return ret;
    }
    /**
     * Deletes a chat and its messages (tombstones, kept for sync).
     * @param {string} chatId
     * @returns {Promise<Chat>}
     */
    deleteChat(chatId) {
        const ptr0 = passStringToWasm0(chatId, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
        const len0 = WASM_VECTOR_LEN;
        const ret = wasm.tavernstore_deleteChat(this.__wbg_ptr, ptr0, len0);
        return ret;
    }
    /**
     * Deletes a message (tombstone).
     * @param {string} chatId
     * @param {number} seq
     * @returns {Promise<void>}
     */
    deleteMessage(chatId, seq) {
        const val2 = +seq;
        const ptr0 = passStringToWasm0(chatId, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
        const len0 = WASM_VECTOR_LEN;
        const ret = wasm.tavernstore_deleteMessage(this.__wbg_ptr, ptr0, len0, val2);
        return ret;
    }
    /**
     * Edits a message or its swipes.
     * @param {string} chatId
     * @param {number} seq
     * @param {MessageEdit} edit
     * @returns {Promise<Message>}
     */
    editMessage(chatId, seq, edit) {
        const val2 = +seq;
        const ptr0 = passStringToWasm0(chatId, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
        const len0 = WASM_VECTOR_LEN;
        const ret = wasm.tavernstore_editMessage(this.__wbg_ptr, ptr0, len0, val2, edit);
        return ret;
    }
    /**
     * Reads the event log in order, after `after` (a `seq`), at most `limit` (default 100).
     * @param {{ after?: number; limit?: number }} [options]
     * @returns {Promise<StoreEvent[]>}
     */
    events(options) {
        const ret = wasm.tavernstore_events(this.__wbg_ptr, options);
        return ret;
    }
    /**
     * A full backup as a Blob of JSON lines (assets included; API keys only with
     * `includeSecrets: true`).
     * @param {BackupOptions} [options]
     * @returns {Promise<Blob>}
     */
    exportBackup(options) {
        const ret = wasm.tavernstore_exportBackup(this.__wbg_ptr, options);
        return ret;
    }
    /**
     * One chat as SillyTavern JSONL.
     * @param {string} chatId
     * @param {string | null} [userName]
     * @returns {Promise<string>}
     */
    exportChatJsonl(chatId, userName) {
        let ptr0, len0, ptr1, len1;
        try {
            ptr0 = passStringToWasm0(chatId, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
            len0 = WASM_VECTOR_LEN;
            ptr1 = isLikeNone(userName) ? 0 : passStringToWasm0(userName, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
            len1 = WASM_VECTOR_LEN;
        } catch (e) {
            if (ptr1) { wasm.__wbindgen_free(ptr1, len1 * 1, 1); }
            if (ptr0) { wasm.__wbindgen_free(ptr0, len0 * 1, 1); }
            throw e;
        }
        const ret = wasm.tavernstore_exportChatJsonl(this.__wbg_ptr, ptr0, len0, ptr1, len1);
        return ret;
    }
    /**
     * The bytes of an asset (e.g. an avatar) as a Blob, or `null`.
     * @param {string} id
     * @returns {Promise<Blob | null>}
     */
    getAssetBlob(id) {
        const ptr0 = passStringToWasm0(id, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
        const len0 = WASM_VECTOR_LEN;
        const ret = wasm.tavernstore_getAssetBlob(this.__wbg_ptr, ptr0, len0);
        return ret;
    }
    /**
     * A live character, or `null`.
     * @param {string} id
     * @returns {Promise<Character | null>}
     */
    getCharacter(id) {
        const ptr0 = passStringToWasm0(id, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
        const len0 = WASM_VECTOR_LEN;
        const ret = wasm.tavernstore_getCharacter(this.__wbg_ptr, ptr0, len0);
        return ret;
    }
    /**
     * A live chat, or `null`.
     * @param {string} id
     * @returns {Promise<Chat | null>}
     */
    getChat(id) {
        const ptr0 = passStringToWasm0(id, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
        const len0 = WASM_VECTOR_LEN;
        const ret = wasm.tavernstore_getChat(this.__wbg_ptr, ptr0, len0);
        return ret;
    }
    /**
     * The last `limit` (default 50) live messages before `before`, oldest first.
     * @param {GetMessagesOptions} options
     * @returns {Promise<Message[]>}
     */
    getMessages(options) {
        const ret = wasm.tavernstore_getMessages(this.__wbg_ptr, options);
        return ret;
    }
    /**
     * The current settings (defaults when never saved).
     * @returns {Promise<Settings>}
     */
    getSettings() {
        const ret = wasm.tavernstore_getSettings(this.__wbg_ptr);
        return ret;
    }
    /**
     * Imports a backup from a `Blob`/`File`, a `ReadableStream<Uint8Array>` (e.g. a fetch
     * body), a `Uint8Array` or a string, read chunk by chunk and written in batches of
     * `batchSize` items (one transaction each), so memory stays bounded; last writer wins per
     * record. The header is checked first (a newer backup: `unsupported_format`, nothing
     * written). A Blob, bytes or string is read twice: once to check every line (a bad line:
     * its number in the message; a truncated file: `truncated`; nothing written), then to
     * write. A stream is imported as it arrives: an error or cancel keeps the batches already
     * committed and the message says how many items; importing again completes it.
     * @param {Blob | ReadableStream<Uint8Array> | Uint8Array | string} backup
     * @param {BackupImportOptions} [options]
     * @returns {Promise<ImportReport>}
     */
    importBackup(backup, options) {
        const ret = wasm.tavernstore_importBackup(this.__wbg_ptr, backup, options);
        return ret;
    }
    /**
     * Imports many cards in one transaction: all or nothing. `onProgress` is called after each
     * card; aborting `signal` cancels and keeps nothing (code `aborted`).
     * @param {CardFile[]} files
     * @param {ProgressOptions} [options]
     * @returns {Promise<Character[]>}
     */
    importCards(files, options) {
        const ret = wasm.tavernstore_importCards(this.__wbg_ptr, files, options);
        return ret;
    }
    /**
     * What this store is (backend, persistence, fallback reason).
     * @returns {StoreInfo}
     */
    info() {
        const ret = wasm.tavernstore_info(this.__wbg_ptr);
        if (ret[2]) {
            throw takeFromExternrefTable0(ret[1]);
        }
        return takeFromExternrefTable0(ret[0]);
    }
    /**
     * One page of characters, filtered and sorted through indexes.
     * @param {CharacterQuery} [query]
     * @returns {Promise<Page<Character>>}
     */
    listCharacters(query) {
        const ret = wasm.tavernstore_listCharacters(this.__wbg_ptr, query);
        return ret;
    }
    /**
     * Live chats, most recently active first; `characterId` / `groupId` narrow the list.
     * @param {{ characterId?: string; groupId?: string }} [filter]
     * @returns {Promise<Chat[]>}
     */
    listChats(filter) {
        const ret = wasm.tavernstore_listChats(this.__wbg_ptr, filter);
        return ret;
    }
    /**
     * Appends an event to the analytics log (size-capped, oldest dropped first).
     * @param {string} kind
     * @param {Record<string, unknown>} data
     * @returns {Promise<StoreEvent>}
     */
    logEvent(kind, data) {
        const ptr0 = passStringToWasm0(kind, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
        const len0 = WASM_VECTOR_LEN;
        const ret = wasm.tavernstore_logEvent(this.__wbg_ptr, ptr0, len0, data);
        return ret;
    }
    /**
     * Opens the store `name` in IndexedDB (default `"nextchat-tavern"`); with `null`, or where
     * IndexedDB is unavailable, an in-memory store (`info().persistent === false`). A schema
     * upgrade blocked by another tab rejects with code `blocked`.
     * @param {string | null} [name]
     * @returns {Promise<TavernStore>}
     */
    static open(name) {
        const ret = wasm.tavernstore_open(name);
        return ret;
    }
    /**
     * Undoes `deleteCharacter`.
     * @param {string} id
     * @returns {Promise<Character>}
     */
    restoreCharacter(id) {
        const ptr0 = passStringToWasm0(id, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
        const len0 = WASM_VECTOR_LEN;
        const ret = wasm.tavernstore_restoreCharacter(this.__wbg_ptr, ptr0, len0);
        return ret;
    }
    /**
     * Stores (or with `null` removes) an API key; it never appears in backups unless asked.
     * @param {string} name
     * @param {string | null} [key]
     * @returns {Promise<void>}
     */
    setApiKey(name, key) {
        let ptr0, len0, ptr1, len1;
        try {
            ptr0 = passStringToWasm0(name, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
            len0 = WASM_VECTOR_LEN;
            ptr1 = isLikeNone(key) ? 0 : passStringToWasm0(key, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
            len1 = WASM_VECTOR_LEN;
        } catch (e) {
            if (ptr1) { wasm.__wbindgen_free(ptr1, len1 * 1, 1); }
            if (ptr0) { wasm.__wbindgen_free(ptr0, len0 * 1, 1); }
            throw e;
        }
        const ret = wasm.tavernstore_setApiKey(this.__wbg_ptr, ptr0, len0, ptr1, len1);
        return ret;
    }
    /**
     * Applies a partial update; rejects with code `validation` listing every bad field.
     * @param {SettingsPatch} patch
     * @returns {Promise<Settings>}
     */
    setSettings(patch) {
        const ret = wasm.tavernstore_setSettings(this.__wbg_ptr, patch);
        return ret;
    }
    /**
     * Calls `listener` with the new settings whenever they change (in any tab).
     * @param {(settings: Settings) => void} listener
     * @returns {() => void}
     */
    subscribeSettings(listener) {
        const ret = wasm.tavernstore_subscribeSettings(this.__wbg_ptr, listener);
        return ret;
    }
    /**
     * Calls `listener` on every change (this tab's and, for IndexedDB, other tabs');
     * returns a function that unsubscribes.
     * @param {(change: StoreChange) => void} listener
     * @returns {() => void}
     */
    subscribe(listener) {
        const ret = wasm.tavernstore_subscribe(this.__wbg_ptr, listener);
        return ret;
    }
    /**
     * A `blob:` URL of the thumbnail (or of the original, see `thumbnail`), or `null` for a
     * missing asset. Revoke it with `URL.revokeObjectURL` when it is no longer shown.
     * @param {string} assetId
     * @param {ThumbnailOptions} [options]
     * @returns {Promise<string | null>}
     */
    thumbnailUrl(assetId, options) {
        const ptr0 = passStringToWasm0(assetId, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
        const len0 = WASM_VECTOR_LEN;
        const ret = wasm.tavernstore_thumbnailUrl(this.__wbg_ptr, ptr0, len0, options);
        return ret;
    }
    /**
     * The thumbnail of an image asset (default longest side 256 px), made on first use and
     * kept as an asset of its own (`role: "thumbnail"`, `thumbnailOf`), so later calls read it
     * back. PNG is decoded in Rust; other formats by the browser (`createImageBitmap`); where
     * neither works (e.g. a JPEG in Node) the original comes back with `original: true`.
     * `null` for a missing asset. Too many pixels: `too_large`.
     * @param {string} assetId
     * @param {ThumbnailOptions} [options]
     * @returns {Promise<Thumbnail | null>}
     */
    thumbnail(assetId, options) {
        const ptr0 = passStringToWasm0(assetId, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
        const len0 = WASM_VECTOR_LEN;
        const ret = wasm.tavernstore_thumbnail(this.__wbg_ptr, ptr0, len0, options);
        return ret;
    }
    /**
     * Updates fields of a character (rev + 1).
     * @param {string} id
     * @param {CharacterPatch} patch
     * @returns {Promise<Character>}
     */
    updateCharacter(id, patch) {
        const ptr0 = passStringToWasm0(id, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
        const len0 = WASM_VECTOR_LEN;
        const ret = wasm.tavernstore_updateCharacter(this.__wbg_ptr, ptr0, len0, patch);
        return ret;
    }
    /**
     * Every problem a partial update would have, without saving (`[]` when valid).
     * @param {SettingsPatch} patch
     * @returns {Promise<FieldError[]>}
     */
    validateSettings(patch) {
        const ret = wasm.tavernstore_validateSettings(this.__wbg_ptr, patch);
        return ret;
    }
}
if (Symbol.dispose) TavernStore.prototype[Symbol.dispose] = TavernStore.prototype.free;

/**
 * Version and build details of the loaded module.
 * @returns {BuildInfo}
 */
export function buildInfo() {
    const ret = wasm.buildInfo();
    if (ret[2]) {
        throw takeFromExternrefTable0(ret[1]);
    }
    return takeFromExternrefTable0(ret[0]);
}

/**
 * Builds a prompt. `countTokens(text)` is optional (default: `ceil(utf8 bytes / 3.35)`).
 * @param {PromptRequest} request
 * @param {(text: string) => number} [countTokens]
 * @returns {PromptOutput}
 */
export function buildPrompt(request, countTokens) {
    const ret = wasm.buildPrompt(request, countTokens);
    if (ret[2]) {
        throw takeFromExternrefTable0(ret[1]);
    }
    return takeFromExternrefTable0(ret[0]);
}

/**
 * Every error code this version can produce.
 * @returns {ErrorCode[]}
 */
export function errorCodes() {
    const ret = wasm.errorCodes();
    var v1 = getArrayJsValueFromWasm0(ret[0], ret[1]);
    wasm.__wbindgen_free(ret[0], ret[1] * 4, 4);
    return v1;
}

/**
 * See the TypeScript declaration.
 * @param {any} card_obj
 * @param {any} options
 * @returns {Uint8Array}
 */
export function exportCard(card_obj, options) {
    const ret = wasm.exportCard(card_obj, options);
    if (ret[2]) {
        throw takeFromExternrefTable0(ret[1]);
    }
    return takeFromExternrefTable0(ret[0]);
}

/**
 * See the TypeScript declaration.
 * @param {any} book
 * @param {any} options
 * @returns {Uint8Array}
 */
export function exportLorebook(book, options) {
    const ret = wasm.exportLorebook(book, options);
    if (ret[2]) {
        throw takeFromExternrefTable0(ret[1]);
    }
    return takeFromExternrefTable0(ret[0]);
}

/**
 * See the TypeScript declaration.
 * @param {Uint8Array | number[]} bytes
 * @param {any} options
 * @returns {any}
 */
export function importCard(bytes, options) {
    const ptr0 = passArray8ToWasm0(bytes, wasm.__wbindgen_malloc);
    const len0 = WASM_VECTOR_LEN;
    const ret = wasm.importCard(ptr0, len0, options);
    if (ret[2]) {
        throw takeFromExternrefTable0(ret[1]);
    }
    return takeFromExternrefTable0(ret[0]);
}

/**
 * See the TypeScript declaration.
 * @param {Uint8Array | number[]} bytes
 * @param {any} options
 * @returns {Promise<any>}
 */
export function importCardAsync(bytes, options) {
    const ptr0 = passArray8ToWasm0(bytes, wasm.__wbindgen_malloc);
    const len0 = WASM_VECTOR_LEN;
    const ret = wasm.importCardAsync(ptr0, len0, options);
    return ret;
}

/**
 * See the TypeScript declaration.
 * @param {any} input
 * @param {any} options
 * @returns {any}
 */
export function importLorebook(input, options) {
    const ret = wasm.importLorebook(input, options);
    if (ret[2]) {
        throw takeFromExternrefTable0(ret[1]);
    }
    return takeFromExternrefTable0(ret[0]);
}

/**
 * True when `value` is an error thrown by this package.
 * @param {any} value
 * @returns {boolean}
 */
export function isTavernError(value) {
    const ret = wasm.isTavernError(value);
    return ret !== 0;
}

/**
 * Finds the SillyTavern character a local card corresponds to: the same avatar file name
 * (`avatarHint`) first, else the same name and description. Resolves to its avatar or `null`.
 * @param {Record<string, unknown>} card
 * @param {string | null | undefined} avatarHint
 * @param {StCharacter[]} stCharacters
 * @returns {string | undefined}
 */
export function matchCharacter(card, avatarHint, stCharacters) {
    var ptr0 = isLikeNone(avatarHint) ? 0 : passStringToWasm0(avatarHint, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
    var len0 = WASM_VECTOR_LEN;
    const ret = wasm.matchCharacter(card, ptr0, len0, stCharacters);
    if (ret[3]) {
        throw takeFromExternrefTable0(ret[2]);
    }
    let v2;
    if (ret[0] !== 0) {
        v2 = getStringFromWasm0(ret[0], ret[1]);
        wasm.__wbindgen_free(ret[0], ret[1] * 1, 1);
    }
    return v2;
}

/**
 * Renders macros in `text` (variables are returned, not stored).
 * @param {string} text
 * @param {MacroContext} context
 * @returns {RenderOutput}
 */
export function renderMacros(text, context) {
    const ptr0 = passStringToWasm0(text, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
    const len0 = WASM_VECTOR_LEN;
    const ret = wasm.renderMacros(ptr0, len0, context);
    if (ret[2]) {
        throw takeFromExternrefTable0(ret[1]);
    }
    return takeFromExternrefTable0(ret[0]);
}

/**
 * Scans lorebooks against a chat (the editor's "test this entry"). Books are compiled once
 * and cached by content; `{ matcher }` uses a `LorebookMatcher`.
 * @param {ScanRequest} request
 * @param {(text: string) => number} [countTokens]
 * @returns {WorldInfoResult}
 */
export function scanLorebooks(request, countTokens) {
    const ret = wasm.scanLorebooks(request, countTokens);
    if (ret[2]) {
        throw takeFromExternrefTable0(ret[1]);
    }
    return takeFromExternrefTable0(ret[0]);
}

/**
 * Runs once when the module is instantiated (`init()` / `initSync()`):
 * routes Rust panics to `console.error` with a readable message.
 */
export function start() {
    wasm.start();
}

/**
 * The package version, e.g. `"0.1.0"`.
 * @returns {string}
 */
export function version() {
    let deferred1_0;
    let deferred1_1;
    try {
        const ret = wasm.version();
        deferred1_0 = ret[0];
        deferred1_1 = ret[1];
        return getStringFromWasm0(ret[0], ret[1]);
    } finally {
        wasm.__wbindgen_free(deferred1_0, deferred1_1, 1);
    }
}
function __wbg_get_imports() {
    const import0 = {
        __proto__: null,
        __wbg_Error_208446807d0d1e30: function(arg0, arg1) {
            const ret = Error(getStringFromWasm0(arg0, arg1));
            return ret;
        },
        __wbg_Number_ff192a72a0dcdf6d: function(arg0) {
            const ret = Number(arg0);
            return ret;
        },
        __wbg_String_8564e559799eccda: function(arg0, arg1) {
            const ret = String(arg1);
            const ptr1 = passStringToWasm0(ret, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
            const len1 = WASM_VECTOR_LEN;
            getDataViewMemory0().setInt32((arg0 >>> 0) + 4 * 1, len1, true);
            getDataViewMemory0().setInt32((arg0 >>> 0) + 4 * 0, ptr1, true);
        },
        __wbg___wbindgen_bigint_get_as_i64_11da4b52cd0aedef: function(arg0, arg1) {
            const v = arg1;
            const ret = typeof(v) === 'bigint' ? v : undefined;
            getDataViewMemory0().setBigInt64((arg0 >>> 0) + 8 * 1, isLikeNone(ret) ? BigInt(0) : ret, true);
            getDataViewMemory0().setInt32((arg0 >>> 0) + 4 * 0, !isLikeNone(ret), true);
        },
        __wbg___wbindgen_boolean_get_4f1baf9a00be3c74: function(arg0) {
            const v = arg0;
            const ret = typeof(v) === 'boolean' ? v : undefined;
            return isLikeNone(ret) ? 0xFFFFFF : ret ? 1 : 0;
        },
        __wbg___wbindgen_debug_string_f249a2a76caa9a55: function(arg0, arg1) {
            const ret = debugString(arg1);
            const ptr1 = passStringToWasm0(ret, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
            const len1 = WASM_VECTOR_LEN;
            getDataViewMemory0().setInt32((arg0 >>> 0) + 4 * 1, len1, true);
            getDataViewMemory0().setInt32((arg0 >>> 0) + 4 * 0, ptr1, true);
        },
        __wbg___wbindgen_in_3f58a9d3b3a7eed2: function(arg0, arg1) {
            const ret = arg0 in arg1;
            return ret;
        },
        __wbg___wbindgen_is_bigint_5fa10641e039d3ef: function(arg0) {
            const ret = typeof(arg0) === 'bigint';
            return ret;
        },
        __wbg___wbindgen_is_function_741ff2bb612836f5: function(arg0) {
            const ret = typeof(arg0) === 'function';
            return ret;
        },
        __wbg___wbindgen_is_null_c22311b1cc228e3a: function(arg0) {
            const ret = arg0 === null;
            return ret;
        },
        __wbg___wbindgen_is_object_8b968c3ab8e96595: function(arg0) {
            const val = arg0;
            const ret = typeof(val) === 'object' && val !== null;
            return ret;
        },
        __wbg___wbindgen_is_string_fc456fee5d3317de: function(arg0) {
            const ret = typeof(arg0) === 'string';
            return ret;
        },
        __wbg___wbindgen_is_undefined_be5b34249ff1fc15: function(arg0) {
            const ret = arg0 === undefined;
            return ret;
        },
        __wbg___wbindgen_jsval_eq_38d7bfbe4cc84039: function(arg0, arg1) {
            const ret = arg0 === arg1;
            return ret;
        },
        __wbg___wbindgen_jsval_loose_eq_b2f214e2e4b30e36: function(arg0, arg1) {
            const ret = arg0 == arg1;
            return ret;
        },
        __wbg___wbindgen_number_get_934b640d0889af78: function(arg0, arg1) {
            const obj = arg1;
            const ret = typeof(obj) === 'number' ? obj : undefined;
            getDataViewMemory0().setFloat64((arg0 >>> 0) + 8 * 1, isLikeNone(ret) ? 0 : ret, true);
            getDataViewMemory0().setInt32((arg0 >>> 0) + 4 * 0, !isLikeNone(ret), true);
        },
        __wbg___wbindgen_string_get_7ce8eee7fd327545: function(arg0, arg1) {
            const obj = arg1;
            const ret = typeof(obj) === 'string' ? obj : undefined;
            var ptr1 = isLikeNone(ret) ? 0 : passStringToWasm0(ret, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
            var len1 = WASM_VECTOR_LEN;
            getDataViewMemory0().setInt32((arg0 >>> 0) + 4 * 1, len1, true);
            getDataViewMemory0().setInt32((arg0 >>> 0) + 4 * 0, ptr1, true);
        },
        __wbg___wbindgen_throw_4c88d8bf264fd984: function(arg0, arg1) {
            throw new Error(getStringFromWasm0(arg0, arg1));
        },
        __wbg__wbg_cb_unref_09736879a3f67559: function(arg0) {
            arg0._wbg_cb_unref();
        },
        __wbg_abort_75a93bc755ef5425: function() { return handleError(function (arg0) {
            arg0.abort();
        }, arguments); },
        __wbg_abort_f8d1589eb0c65ee2: function(arg0) {
            arg0.abort();
        },
        __wbg_aborted_31456edf1be00084: function(arg0) {
            const ret = arg0.aborted;
            return ret;
        },
        __wbg_addEventListener_847fd86b8c33ec43: function() { return handleError(function (arg0, arg1, arg2, arg3) {
            arg0.addEventListener(getStringFromWasm0(arg1, arg2), arg3);
        }, arguments); },
        __wbg_add_c133d31369f0ece2: function() { return handleError(function (arg0, arg1, arg2) {
            const ret = arg0.add(arg1, arg2);
            return ret;
        }, arguments); },
        __wbg_add_e2c14b2b43ba1e8b: function() { return handleError(function (arg0, arg1) {
            const ret = arg0.add(arg1);
            return ret;
        }, arguments); },
        __wbg_advance_914e0032d025a196: function() { return handleError(function (arg0, arg1) {
            arg0.advance(arg1 >>> 0);
        }, arguments); },
        __wbg_allSettled_d9d5b2fd4eaa59fd: function(arg0) {
            const ret = Promise.allSettled(arg0);
            return ret;
        },
        __wbg_append_2636721c685d9a4d: function() { return handleError(function (arg0, arg1, arg2, arg3, arg4) {
            arg0.append(getStringFromWasm0(arg1, arg2), getStringFromWasm0(arg3, arg4));
        }, arguments); },
        __wbg_append_e9090dde2c1b8cae: function() { return handleError(function (arg0, arg1, arg2, arg3, arg4, arg5) {
            arg0.append(getStringFromWasm0(arg1, arg2), arg3, getStringFromWasm0(arg4, arg5));
        }, arguments); },
        __wbg_arrayBuffer_2c99a9ba14ba536c: function() { return handleError(function (arg0) {
            const ret = arg0.arrayBuffer();
            return ret;
        }, arguments); },
        __wbg_arrayBuffer_5abbcb61bd48f427: function(arg0) {
            const ret = arg0.arrayBuffer();
            return ret;
        },
        __wbg_assign_6b6bb30388088072: function(arg0, arg1) {
            const ret = Object.assign(arg0, arg1);
            return ret;
        },
        __wbg_asyncIterator_3c3b9047761412e4: function() {
            const ret = Symbol.asyncIterator;
            return ret;
        },
        __wbg_body_0da01a9a056907d8: function(arg0) {
            const ret = arg0.body;
            return isLikeNone(ret) ? 0 : addToExternrefTable0(ret);
        },
        __wbg_bound_2eafc1bd1cffbb0e: function() { return handleError(function (arg0, arg1) {
            const ret = IDBKeyRange.bound(arg0, arg1);
            return ret;
        }, arguments); },
        __wbg_bound_342c3f3a09345adb: function() { return handleError(function (arg0, arg1, arg2, arg3) {
            const ret = IDBKeyRange.bound(arg0, arg1, arg2 !== 0, arg3 !== 0);
            return ret;
        }, arguments); },
        __wbg_call_40b008ba32f73991: function() { return handleError(function (arg0, arg1) {
            const ret = arg0.call(arg1);
            return ret;
        }, arguments); },
        __wbg_call_a410eb4b59ed5965: function() { return handleError(function (arg0, arg1, arg2) {
            const ret = arg0.call(arg1, arg2);
            return ret;
        }, arguments); },
        __wbg_call_fc92fee6137d452d: function() { return handleError(function (arg0, arg1, arg2, arg3) {
            const ret = arg0.call(arg1, arg2, arg3);
            return ret;
        }, arguments); },
        __wbg_cancel_b195250778e9d8e7: function(arg0) {
            const ret = arg0.cancel();
            return ret;
        },
        __wbg_clear_507b74bbfa06114d: function() { return handleError(function (arg0) {
            const ret = arg0.clear();
            return ret;
        }, arguments); },
        __wbg_close_70d38255291ae4c8: function(arg0) {
            arg0.close();
        },
        __wbg_close_83412466bf4e34fb: function(arg0) {
            arg0.close();
        },
        __wbg_close_b4ebb04d70c95184: function(arg0) {
            arg0.close();
        },
        __wbg_commit_4b61872764bf439b: function() { return handleError(function (arg0) {
            arg0.commit();
        }, arguments); },
        __wbg_continue_f3fd6e38b5fffdad: function() { return handleError(function (arg0) {
            arg0.continue();
        }, arguments); },
        __wbg_count_055123cf8c14abbd: function() { return handleError(function (arg0) {
            const ret = arg0.count();
            return ret;
        }, arguments); },
        __wbg_count_5a7d72882fd2624b: function() { return handleError(function (arg0, arg1) {
            const ret = arg0.count(arg1);
            return ret;
        }, arguments); },
        __wbg_createIndex_a4a097747c57a9af: function() { return handleError(function (arg0, arg1, arg2, arg3, arg4, arg5) {
            const ret = arg0.createIndex(getStringFromWasm0(arg1, arg2), getStringFromWasm0(arg3, arg4), arg5);
            return ret;
        }, arguments); },
        __wbg_createIndex_b013acc42b756c6b: function() { return handleError(function (arg0, arg1, arg2, arg3) {
            const ret = arg0.createIndex(getStringFromWasm0(arg1, arg2), arg3);
            return ret;
        }, arguments); },
        __wbg_createObjectStore_01d46ccc50cef85f: function() { return handleError(function (arg0, arg1, arg2, arg3) {
            const ret = arg0.createObjectStore(getStringFromWasm0(arg1, arg2), arg3);
            return ret;
        }, arguments); },
        __wbg_createObjectURL_45693a1454d24dac: function() { return handleError(function (arg0, arg1) {
            const ret = URL.createObjectURL(arg1);
            const ptr1 = passStringToWasm0(ret, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
            const len1 = WASM_VECTOR_LEN;
            getDataViewMemory0().setInt32((arg0 >>> 0) + 4 * 1, len1, true);
            getDataViewMemory0().setInt32((arg0 >>> 0) + 4 * 0, ptr1, true);
        }, arguments); },
        __wbg_data_bf4b5c8a5fc46441: function(arg0, arg1) {
            const ret = arg1.data;
            const ptr1 = passArray8ToWasm0(ret, wasm.__wbindgen_malloc);
            const len1 = WASM_VECTOR_LEN;
            getDataViewMemory0().setInt32((arg0 >>> 0) + 4 * 1, len1, true);
            getDataViewMemory0().setInt32((arg0 >>> 0) + 4 * 0, ptr1, true);
        },
        __wbg_data_c7e5e8500f1bca2f: function(arg0) {
            const ret = arg0.data;
            return ret;
        },
        __wbg_deleteProperty_3ad7a085da623822: function() { return handleError(function (arg0, arg1) {
            const ret = Reflect.deleteProperty(arg0, arg1);
            return ret;
        }, arguments); },
        __wbg_delete_a1677b105dc0626e: function() { return handleError(function (arg0, arg1) {
            const ret = arg0.delete(arg1);
            return ret;
        }, arguments); },
        __wbg_done_57e08d0be6e30c02: function(arg0) {
            const ret = arg0.done;
            return ret;
        },
        __wbg_drawImage_c1045f06c16239a5: function() { return handleError(function (arg0, arg1, arg2, arg3, arg4, arg5) {
            arg0.drawImage(arg1, arg2, arg3, arg4, arg5);
        }, arguments); },
        __wbg_entries_7bb1459bd9b5c2b9: function(arg0) {
            const ret = Object.entries(arg0);
            return ret;
        },
        __wbg_error_029b9735617abe23: function() { return handleError(function (arg0) {
            const ret = arg0.error;
            return isLikeNone(ret) ? 0 : addToExternrefTable0(ret);
        }, arguments); },
        __wbg_error_37b241daaafbc352: function(arg0) {
            const ret = arg0.error;
            return isLikeNone(ret) ? 0 : addToExternrefTable0(ret);
        },
        __wbg_error_757e9472f8410341: function(arg0, arg1) {
            let deferred0_0;
            let deferred0_1;
            try {
                deferred0_0 = arg0;
                deferred0_1 = arg1;
                console.error(getStringFromWasm0(arg0, arg1));
            } finally {
                wasm.__wbindgen_free(deferred0_0, deferred0_1, 1);
            }
        },
        __wbg_from_eac91875c8a5ffa4: function(arg0) {
            const ret = Array.from(arg0);
            return ret;
        },
        __wbg_getAll_0926d7a1f4b74bd5: function() { return handleError(function (arg0, arg1, arg2) {
            const ret = arg0.getAll(arg1, arg2 >>> 0);
            return ret;
        }, arguments); },
        __wbg_getAll_7c588d26e2a82148: function() { return handleError(function (arg0, arg1) {
            const ret = arg0.getAll(arg1);
            return ret;
        }, arguments); },
        __wbg_getAll_e97edf9a4d8b9998: function() { return handleError(function (arg0, arg1) {
            const ret = arg0.getAll(arg1);
            return ret;
        }, arguments); },
        __wbg_getAll_fd2f81391609135a: function() { return handleError(function (arg0) {
            const ret = arg0.getAll();
            return ret;
        }, arguments); },
        __wbg_getContext_1938edb9a972f63d: function() { return handleError(function (arg0, arg1, arg2) {
            const ret = arg0.getContext(getStringFromWasm0(arg1, arg2));
            return isLikeNone(ret) ? 0 : addToExternrefTable0(ret);
        }, arguments); },
        __wbg_getImageData_45c2151e5321bb89: function() { return handleError(function (arg0, arg1, arg2, arg3, arg4) {
            const ret = arg0.getImageData(arg1, arg2, arg3, arg4);
            return ret;
        }, arguments); },
        __wbg_getKey_28af433181be55ec: function() { return handleError(function (arg0, arg1) {
            const ret = arg0.getKey(arg1);
            return ret;
        }, arguments); },
        __wbg_getReader_fadcafe607253a67: function(arg0) {
            const ret = arg0.getReader();
            return ret;
        },
        __wbg_getTimezoneOffset_87127d92c2c117e9: function(arg0) {
            const ret = arg0.getTimezoneOffset();
            return ret;
        },
        __wbg_get_2080c49015e35254: function() { return handleError(function (arg0, arg1) {
            const ret = Reflect.get(arg0, arg1);
            return ret;
        }, arguments); },
        __wbg_get_3e7d0feae205d645: function() { return handleError(function (arg0, arg1) {
            const ret = arg0.get(arg1);
            return ret;
        }, arguments); },
        __wbg_get_635eea311fa1a291: function() { return handleError(function (arg0, arg1) {
            const ret = Reflect.get(arg0, arg1);
            return ret;
        }, arguments); },
        __wbg_get_d7176cfb76d71114: function(arg0, arg1) {
            const ret = arg0[arg1 >>> 0];
            return ret;
        },
        __wbg_get_unchecked_e6325ad374eff861: function(arg0, arg1) {
            const ret = arg0[arg1 >>> 0];
            return ret;
        },
        __wbg_get_with_ref_key_fc601247060b7204: function(arg0, arg1) {
            const ret = arg0[arg1];
            return ret;
        },
        __wbg_has_2c4d5cf25ec8c1cf: function() { return handleError(function (arg0, arg1) {
            const ret = Reflect.has(arg0, arg1);
            return ret;
        }, arguments); },
        __wbg_headers_5fc0106c076eb731: function(arg0) {
            const ret = arg0.headers;
            return ret;
        },
        __wbg_height_a587c99454238459: function(arg0) {
            const ret = arg0.height;
            return ret;
        },
        __wbg_index_2e86e1bb441793d5: function() { return handleError(function (arg0, arg1, arg2) {
            const ret = arg0.index(getStringFromWasm0(arg1, arg2));
            return ret;
        }, arguments); },
        __wbg_instanceof_AbortSignal_16e867a9888f3bc7: function(arg0) {
            let result;
            try {
                result = arg0 instanceof AbortSignal;
            } catch (_) {
                result = false;
            }
            const ret = result;
            return ret;
        },
        __wbg_instanceof_ArrayBuffer_12cdaa4161423e6b: function(arg0) {
            let result;
            try {
                result = arg0 instanceof ArrayBuffer;
            } catch (_) {
                result = false;
            }
            const ret = result;
            return ret;
        },
        __wbg_instanceof_Blob_56431c8f5387c12d: function(arg0) {
            let result;
            try {
                result = arg0 instanceof Blob;
            } catch (_) {
                result = false;
            }
            const ret = result;
            return ret;
        },
        __wbg_instanceof_DomException_b0152473e22fa2bf: function(arg0) {
            let result;
            try {
                result = arg0 instanceof DOMException;
            } catch (_) {
                result = false;
            }
            const ret = result;
            return ret;
        },
        __wbg_instanceof_Error_74e3cca0c4a69161: function(arg0) {
            let result;
            try {
                result = arg0 instanceof Error;
            } catch (_) {
                result = false;
            }
            const ret = result;
            return ret;
        },
        __wbg_instanceof_IdbCursorWithValue_d9f7a9c8c785b378: function(arg0) {
            let result;
            try {
                result = arg0 instanceof IDBCursorWithValue;
            } catch (_) {
                result = false;
            }
            const ret = result;
            return ret;
        },
        __wbg_instanceof_IdbCursor_3ce1d10ae0ff0d98: function(arg0) {
            let result;
            try {
                result = arg0 instanceof IDBCursor;
            } catch (_) {
                result = false;
            }
            const ret = result;
            return ret;
        },
        __wbg_instanceof_IdbDatabase_3fd78b576d374c8e: function(arg0) {
            let result;
            try {
                result = arg0 instanceof IDBDatabase;
            } catch (_) {
                result = false;
            }
            const ret = result;
            return ret;
        },
        __wbg_instanceof_IdbFactory_c959b1be1ad153de: function(arg0) {
            let result;
            try {
                result = arg0 instanceof IDBFactory;
            } catch (_) {
                result = false;
            }
            const ret = result;
            return ret;
        },
        __wbg_instanceof_IdbVersionChangeEvent_bdb3cb50bcef7aeb: function(arg0) {
            let result;
            try {
                result = arg0 instanceof IDBVersionChangeEvent;
            } catch (_) {
                result = false;
            }
            const ret = result;
            return ret;
        },
        __wbg_instanceof_Map_0b4fc8b62e73f163: function(arg0) {
            let result;
            try {
                result = arg0 instanceof Map;
            } catch (_) {
                result = false;
            }
            const ret = result;
            return ret;
        },
        __wbg_instanceof_ReadableStream_ac28304925ec0f96: function(arg0) {
            let result;
            try {
                result = arg0 instanceof ReadableStream;
            } catch (_) {
                result = false;
            }
            const ret = result;
            return ret;
        },
        __wbg_instanceof_Uint8Array_d7aeb0dcb3108fea: function(arg0) {
            let result;
            try {
                result = arg0 instanceof Uint8Array;
            } catch (_) {
                result = false;
            }
            const ret = result;
            return ret;
        },
        __wbg_isArray_bcf1376d0d732d08: function(arg0) {
            const ret = Array.isArray(arg0);
            return ret;
        },
        __wbg_isSafeInteger_1a35ba4d31e71d38: function(arg0) {
            const ret = Number.isSafeInteger(arg0);
            return ret;
        },
        __wbg_iterator_e4c5e8f68ada7b58: function() {
            const ret = Symbol.iterator;
            return ret;
        },
        __wbg_key_6e6cd11010a229d7: function() { return handleError(function (arg0) {
            const ret = arg0.key;
            return ret;
        }, arguments); },
        __wbg_keys_105f5c0857898f84: function(arg0) {
            const ret = Object.keys(arg0);
            return ret;
        },
        __wbg_length_186163212ffe79c3: function(arg0) {
            const ret = arg0.length;
            return ret;
        },
        __wbg_length_b03a0fabb109b1e9: function(arg0) {
            const ret = arg0.length;
            return ret;
        },
        __wbg_locked_a50718f555dabcf6: function(arg0) {
            const ret = arg0.locked;
            return ret;
        },
        __wbg_lowerBound_1d3efa163ac6dcce: function() { return handleError(function (arg0, arg1) {
            const ret = IDBKeyRange.lowerBound(arg0, arg1 !== 0);
            return ret;
        }, arguments); },
        __wbg_message_43d8c8f1d543a349: function(arg0) {
            const ret = arg0.message;
            return ret;
        },
        __wbg_message_fc58bc095885b5e5: function(arg0, arg1) {
            const ret = arg1.message;
            const ptr1 = passStringToWasm0(ret, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
            const len1 = WASM_VECTOR_LEN;
            getDataViewMemory0().setInt32((arg0 >>> 0) + 4 * 1, len1, true);
            getDataViewMemory0().setInt32((arg0 >>> 0) + 4 * 0, ptr1, true);
        },
        __wbg_name_7d5a865f2ff82e44: function(arg0, arg1) {
            const ret = arg1.name;
            const ptr1 = passStringToWasm0(ret, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
            const len1 = WASM_VECTOR_LEN;
            getDataViewMemory0().setInt32((arg0 >>> 0) + 4 * 1, len1, true);
            getDataViewMemory0().setInt32((arg0 >>> 0) + 4 * 0, ptr1, true);
        },
        __wbg_name_d1fa514fdca6a975: function(arg0) {
            const ret = arg0.name;
            return ret;
        },
        __wbg_newVersion_9788dfb347cdc4f3: function(arg0, arg1) {
            const ret = arg1.newVersion;
            getDataViewMemory0().setFloat64((arg0 >>> 0) + 8 * 1, isLikeNone(ret) ? 0 : ret, true);
            getDataViewMemory0().setInt32((arg0 >>> 0) + 4 * 0, !isLikeNone(ret), true);
        },
        __wbg_new_0_36d738a0c8cfac43: function() {
            const ret = new Date();
            return ret;
        },
        __wbg_new_13de428334042d26: function(arg0) {
            const ret = new Uint8Array(arg0);
            return ret;
        },
        __wbg_new_277c27c26f94cbc2: function() { return handleError(function () {
            const ret = new Headers();
            return ret;
        }, arguments); },
        __wbg_new_2bfd0f45e60518b1: function() { return handleError(function (arg0, arg1) {
            const ret = new OffscreenCanvas(arg0 >>> 0, arg1 >>> 0);
            return ret;
        }, arguments); },
        __wbg_new_37eb45aaf5eeb820: function() {
            const ret = new Array();
            return ret;
        },
        __wbg_new_5f28518387ad0e34: function() { return handleError(function () {
            const ret = new AbortController();
            return ret;
        }, arguments); },
        __wbg_new_7075786089b89c5e: function() {
            const ret = new Map();
            return ret;
        },
        __wbg_new_787b9fb330d55d78: function(arg0, arg1) {
            const ret = new Error(getStringFromWasm0(arg0, arg1));
            return ret;
        },
        __wbg_new_b00e30ff1da50918: function() { return handleError(function (arg0, arg1) {
            const ret = new BroadcastChannel(getStringFromWasm0(arg0, arg1));
            return ret;
        }, arguments); },
        __wbg_new_ba40181b3f24ac80: function(arg0, arg1) {
            try {
                var state0 = {a: arg0, b: arg1};
                var cb0 = (arg0, arg1) => {
                    const a = state0.a;
                    state0.a = 0;
                    try {
                        return wasm_bindgen__convert__closures_____invoke__hb98d63cc49481475(a, state0.b, arg0, arg1);
                    } finally {
                        state0.a = a;
                    }
                };
                const ret = new Promise(cb0);
                return ret;
            } finally {
                state0.a = 0;
            }
        },
        __wbg_new_bb74001155cb8ca8: function() {
            const ret = new Error();
            return ret;
        },
        __wbg_new_cd4348290afae586: function() {
            const ret = new Object();
            return ret;
        },
        __wbg_new_f4899d76fa1e1831: function() { return handleError(function () {
            const ret = new FormData();
            return ret;
        }, arguments); },
        __wbg_new_from_slice_b8daf545a41c6aa0: function(arg0, arg1) {
            const ret = new Uint8Array(getArrayU8FromWasm0(arg0, arg1));
            return ret;
        },
        __wbg_new_typed_e09da9dae6ee5935: function(arg0, arg1) {
            try {
                var state0 = {a: arg0, b: arg1};
                var cb0 = (arg0, arg1) => {
                    const a = state0.a;
                    state0.a = 0;
                    try {
                        return wasm_bindgen__convert__closures_____invoke__hb98d63cc49481475(a, state0.b, arg0, arg1);
                    } finally {
                        state0.a = a;
                    }
                };
                const ret = new Promise(cb0);
                return ret;
            } finally {
                state0.a = 0;
            }
        },
        __wbg_new_with_blob_sequence_and_options_39873c1e60e91f3e: function() { return handleError(function (arg0, arg1) {
            const ret = new Blob(arg0, arg1);
            return ret;
        }, arguments); },
        __wbg_new_with_message_and_name_71ad154998125e2c: function() { return handleError(function (arg0, arg1, arg2, arg3) {
            const ret = new DOMException(getStringFromWasm0(arg0, arg1), getStringFromWasm0(arg2, arg3));
            return ret;
        }, arguments); },
        __wbg_new_with_str_sequence_b5ed7b8488f3c1df: function() { return handleError(function (arg0) {
            const ret = new Blob(arg0);
            return ret;
        }, arguments); },
        __wbg_new_with_u8_array_sequence_and_options_ca80bf9b8bbc67cf: function() { return handleError(function (arg0, arg1) {
            const ret = new Blob(arg0, arg1);
            return ret;
        }, arguments); },
        __wbg_next_178c1651c11432b3: function(arg0) {
            const ret = arg0.next;
            return ret;
        },
        __wbg_next_af5ac6a08bb0a717: function() { return handleError(function (arg0) {
            const ret = arg0.next();
            return ret;
        }, arguments); },
        __wbg_now_463ac581d2fc7ea3: function() {
            const ret = Date.now();
            return ret;
        },
        __wbg_objectStore_a2b5ae038954c7ba: function() { return handleError(function (arg0, arg1, arg2) {
            const ret = arg0.objectStore(getStringFromWasm0(arg1, arg2));
            return ret;
        }, arguments); },
        __wbg_of_027eb15371aac932: function(arg0) {
            const ret = Array.of(arg0);
            return ret;
        },
        __wbg_of_e7ea0fcd535c1444: function(arg0, arg1) {
            const ret = Array.of(arg0, arg1);
            return ret;
        },
        __wbg_ok_670a05555db5f713: function(arg0) {
            const ret = arg0.ok;
            return ret;
        },
        __wbg_oldVersion_c9664e93ad7fc373: function(arg0) {
            const ret = arg0.oldVersion;
            return ret;
        },
        __wbg_openCursor_38116078b165e7e2: function() { return handleError(function (arg0) {
            const ret = arg0.openCursor();
            return ret;
        }, arguments); },
        __wbg_openCursor_51d29a845db79e58: function() { return handleError(function (arg0, arg1) {
            const ret = arg0.openCursor(arg1);
            return ret;
        }, arguments); },
        __wbg_openCursor_79fd3606982ff498: function() { return handleError(function (arg0, arg1, arg2) {
            const ret = arg0.openCursor(arg1, __wbindgen_enum_IdbCursorDirection[arg2]);
            return ret;
        }, arguments); },
        __wbg_openCursor_8fae543a573ea831: function() { return handleError(function (arg0, arg1, arg2) {
            const ret = arg0.openCursor(arg1, __wbindgen_enum_IdbCursorDirection[arg2]);
            return ret;
        }, arguments); },
        __wbg_openKeyCursor_66fb7d14a108e2f0: function() { return handleError(function (arg0, arg1, arg2) {
            const ret = arg0.openKeyCursor(arg1, __wbindgen_enum_IdbCursorDirection[arg2]);
            return ret;
        }, arguments); },
        __wbg_open_0b7832f51fde5a5f: function() { return handleError(function (arg0, arg1, arg2, arg3) {
            const ret = arg0.open(getStringFromWasm0(arg1, arg2), arg3 >>> 0);
            return ret;
        }, arguments); },
        __wbg_parse_c3f72b5a24f83c01: function() { return handleError(function (arg0, arg1) {
            const ret = JSON.parse(getStringFromWasm0(arg0, arg1));
            return ret;
        }, arguments); },
        __wbg_postMessage_d9b34e55bfab4bdd: function() { return handleError(function (arg0, arg1) {
            arg0.postMessage(arg1);
        }, arguments); },
        __wbg_preventDefault_cfb06b02e7406899: function(arg0) {
            arg0.preventDefault();
        },
        __wbg_primaryKey_ce18f7c4ac343aeb: function() { return handleError(function (arg0) {
            const ret = arg0.primaryKey;
            return ret;
        }, arguments); },
        __wbg_prototypesetcall_13162965d1fe7aa3: function(arg0, arg1, arg2) {
            Uint8Array.prototype.set.call(getArrayU8FromWasm0(arg0, arg1), arg2);
        },
        __wbg_push_c9f4893fc209f768: function(arg0, arg1) {
            const ret = arg0.push(arg1);
            return ret;
        },
        __wbg_put_45e63ad2e48de8d7: function() { return handleError(function (arg0, arg1, arg2) {
            const ret = arg0.put(arg1, arg2);
            return ret;
        }, arguments); },
        __wbg_put_480de49f0929525d: function() { return handleError(function (arg0, arg1) {
            const ret = arg0.put(arg1);
            return ret;
        }, arguments); },
        __wbg_queueMicrotask_1e8503a8a690f0a3: function(arg0) {
            const ret = arg0.queueMicrotask;
            return ret;
        },
        __wbg_queueMicrotask_4a1a4d8dd332373b: function(arg0) {
            queueMicrotask(arg0);
        },
        __wbg_random_df36b90cd78a7d54: function() {
            const ret = Math.random();
            return ret;
        },
        __wbg_read_e3bea75dace70752: function(arg0) {
            const ret = arg0.read();
            return ret;
        },
        __wbg_removeEventListener_4e20bd5fac3de092: function() { return handleError(function (arg0, arg1, arg2, arg3) {
            arg0.removeEventListener(getStringFromWasm0(arg1, arg2), arg3);
        }, arguments); },
        __wbg_resolve_dbf78ab4942478b0: function(arg0) {
            const ret = Promise.resolve(arg0);
            return ret;
        },
        __wbg_result_11a492b710594c52: function() { return handleError(function (arg0) {
            const ret = arg0.result;
            return ret;
        }, arguments); },
        __wbg_set_2793479888329cb6: function() { return handleError(function (arg0, arg1, arg2) {
            const ret = Reflect.set(arg0, arg1, arg2);
            return ret;
        }, arguments); },
        __wbg_set_8282f7e0d2d01336: function(arg0, arg1, arg2) {
            const ret = arg0.set(arg1, arg2);
            return ret;
        },
        __wbg_set_auto_increment_f2339f2dac851902: function(arg0, arg1) {
            arg0.autoIncrement = arg1 !== 0;
        },
        __wbg_set_bcb0ec2400cfa22e: function() { return handleError(function (arg0, arg1, arg2, arg3, arg4) {
            arg0.set(getStringFromWasm0(arg1, arg2), getStringFromWasm0(arg3, arg4));
        }, arguments); },
        __wbg_set_body_877d5251e78ca815: function(arg0, arg1) {
            arg0.body = arg1;
        },
        __wbg_set_credentials_bb5277b4006149d4: function(arg0, arg1) {
            arg0.credentials = __wbindgen_enum_RequestCredentials[arg1];
        },
        __wbg_set_d2d33b52458e984a: function(arg0, arg1, arg2) {
            arg0[arg1 >>> 0] = arg2;
        },
        __wbg_set_e4b9a833d288759a: function(arg0, arg1, arg2) {
            arg0[arg1] = arg2;
        },
        __wbg_set_headers_6d75a7df4eb22716: function(arg0, arg1) {
            arg0.headers = arg1;
        },
        __wbg_set_key_path_f98b7058a579d8c7: function(arg0, arg1) {
            arg0.keyPath = arg1;
        },
        __wbg_set_length_19b5595bb62abfa3: function(arg0, arg1) {
            arg0.length = arg1 >>> 0;
        },
        __wbg_set_method_639e69af35614d36: function(arg0, arg1, arg2) {
            arg0.method = getStringFromWasm0(arg1, arg2);
        },
        __wbg_set_mode_07e051ad8b4e2126: function(arg0, arg1) {
            arg0.mode = __wbindgen_enum_RequestMode[arg1];
        },
        __wbg_set_multi_entry_8abfe18dd5ef49b2: function(arg0, arg1) {
            arg0.multiEntry = arg1 !== 0;
        },
        __wbg_set_name_822e3903f3184979: function(arg0, arg1, arg2) {
            arg0.name = getStringFromWasm0(arg1, arg2);
        },
        __wbg_set_onabort_7ebb01d240653002: function(arg0, arg1) {
            arg0.onabort = arg1;
        },
        __wbg_set_onblocked_d9a2f6d8fa0f1903: function(arg0, arg1) {
            arg0.onblocked = arg1;
        },
        __wbg_set_oncomplete_0d4e18f44844f3be: function(arg0, arg1) {
            arg0.oncomplete = arg1;
        },
        __wbg_set_onerror_01c46f9c43941951: function(arg0, arg1) {
            arg0.onerror = arg1;
        },
        __wbg_set_onmessage_62a5679af20d7bf7: function(arg0, arg1) {
            arg0.onmessage = arg1;
        },
        __wbg_set_onsuccess_8fa3ed2b93e36cae: function(arg0, arg1) {
            arg0.onsuccess = arg1;
        },
        __wbg_set_onupgradeneeded_e977e06888863122: function(arg0, arg1) {
            arg0.onupgradeneeded = arg1;
        },
        __wbg_set_onversionchange_c2fa20847e387f80: function(arg0, arg1) {
            arg0.onversionchange = arg1;
        },
        __wbg_set_signal_0b2eee78907e5ba7: function(arg0, arg1) {
            arg0.signal = arg1;
        },
        __wbg_set_type_609b0cea6429d7bb: function(arg0, arg1, arg2) {
            arg0.type = getStringFromWasm0(arg1, arg2);
        },
        __wbg_signal_fac908876f45725d: function(arg0) {
            const ret = arg0.signal;
            return ret;
        },
        __wbg_size_9d1084e29743663c: function(arg0) {
            const ret = arg0.size;
            return ret;
        },
        __wbg_slice_85ae26e3542949c1: function(arg0, arg1, arg2) {
            const ret = arg0.slice(arg1 >>> 0, arg2 >>> 0);
            return ret;
        },
        __wbg_stack_575c4e0918581b9c: function(arg0, arg1) {
            const ret = arg1.stack;
            const ptr1 = passStringToWasm0(ret, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
            const len1 = WASM_VECTOR_LEN;
            getDataViewMemory0().setInt32((arg0 >>> 0) + 4 * 1, len1, true);
            getDataViewMemory0().setInt32((arg0 >>> 0) + 4 * 0, ptr1, true);
        },
        __wbg_static_accessor_GLOBAL_THIS_003ee833af9699fc: function() {
            const ret = typeof globalThis === 'undefined' ? undefined : globalThis;
            return isLikeNone(ret) ? 0 : addToExternrefTable0(ret);
        },
        __wbg_static_accessor_GLOBAL_e4293fb22cbe77da: function() {
            const ret = typeof global === 'undefined' ? undefined : global;
            return isLikeNone(ret) ? 0 : addToExternrefTable0(ret);
        },
        __wbg_static_accessor_SELF_53bb20457401453d: function() {
            const ret = typeof self === 'undefined' ? undefined : self;
            return isLikeNone(ret) ? 0 : addToExternrefTable0(ret);
        },
        __wbg_static_accessor_WINDOW_b5e0810bfecb7feb: function() {
            const ret = typeof window === 'undefined' ? undefined : window;
            return isLikeNone(ret) ? 0 : addToExternrefTable0(ret);
        },
        __wbg_status_cb85b6c8d1769fa1: function(arg0) {
            const ret = arg0.status;
            return ret;
        },
        __wbg_stream_c91a2af6c0617ac2: function(arg0) {
            const ret = arg0.stream();
            return ret;
        },
        __wbg_stringify_0a0fbf2ef722380a: function() { return handleError(function (arg0) {
            const ret = JSON.stringify(arg0);
            return ret;
        }, arguments); },
        __wbg_subarray_58f388a9247ac0bb: function(arg0, arg1, arg2) {
            const ret = arg0.subarray(arg1 >>> 0, arg2 >>> 0);
            return ret;
        },
        __wbg_tavernstore_new: function(arg0) {
            const ret = TavernStore.__wrap(arg0);
            return ret;
        },
        __wbg_then_656f253a5dd7d8ea: function(arg0, arg1, arg2) {
            const ret = arg0.then(arg1, arg2);
            return ret;
        },
        __wbg_then_e3f7f2d365708be8: function(arg0, arg1) {
            const ret = arg0.then(arg1);
            return ret;
        },
        __wbg_transaction_a26f26d9d5badcda: function(arg0) {
            const ret = arg0.transaction;
            return isLikeNone(ret) ? 0 : addToExternrefTable0(ret);
        },
        __wbg_transaction_a33b157a857a5e54: function() { return handleError(function (arg0, arg1, arg2) {
            const ret = arg0.transaction(arg1, __wbindgen_enum_IdbTransactionMode[arg2]);
            return ret;
        }, arguments); },
        __wbg_type_5f9ceabba7ef7a1a: function(arg0, arg1) {
            const ret = arg1.type;
            const ptr1 = passStringToWasm0(ret, wasm.__wbindgen_malloc, wasm.__wbindgen_realloc);
            const len1 = WASM_VECTOR_LEN;
            getDataViewMemory0().setInt32((arg0 >>> 0) + 4 * 1, len1, true);
            getDataViewMemory0().setInt32((arg0 >>> 0) + 4 * 0, ptr1, true);
        },
        __wbg_update_ac07597f57f87fcf: function() { return handleError(function (arg0, arg1) {
            const ret = arg0.update(arg1);
            return ret;
        }, arguments); },
        __wbg_upperBound_734a2e024d1af75b: function() { return handleError(function (arg0) {
            const ret = IDBKeyRange.upperBound(arg0);
            return ret;
        }, arguments); },
        __wbg_value_e0f328965e184931: function(arg0) {
            const ret = arg0.value;
            return ret;
        },
        __wbg_value_fee1bb7efea77e71: function() { return handleError(function (arg0) {
            const ret = arg0.value;
            return ret;
        }, arguments); },
        __wbg_width_f84552448726a9a9: function(arg0) {
            const ret = arg0.width;
            return ret;
        },
        __wbindgen_generic_0000000000000001: function(arg0, arg1) {
            // Cast intrinsic for `Closure(Closure { owned: true, function: Function { arguments: [Externref], shim_idx: 16, ret: Unit, inner_ret: Some(Unit) }, mutable: false }) -> Externref`.
            const ret = makeClosure(arg0, arg1, wasm_bindgen__convert__closures_____invoke__hf43f743aeefbfe21);
            return ret;
        },
        __wbindgen_generic_0000000000000002: function(arg0, arg1) {
            // Cast intrinsic for `Closure(Closure { owned: true, function: Function { arguments: [Externref], shim_idx: 929, ret: Result(Unit), inner_ret: Some(Result(Unit)) }, mutable: true }) -> Externref`.
            const ret = makeMutClosure(arg0, arg1, wasm_bindgen__convert__closures_____invoke__h60702a48838d1764);
            return ret;
        },
        __wbindgen_generic_0000000000000003: function(arg0, arg1) {
            // Cast intrinsic for `Closure(Closure { owned: true, function: Function { arguments: [NamedExternref("Event")], shim_idx: 14, ret: Unit, inner_ret: Some(Unit) }, mutable: true }) -> Externref`.
            const ret = makeMutClosure(arg0, arg1, wasm_bindgen__convert__closures_____invoke__ha10def6d16796eb4);
            return ret;
        },
        __wbindgen_generic_0000000000000004: function(arg0, arg1) {
            // Cast intrinsic for `Closure(Closure { owned: true, function: Function { arguments: [NamedExternref("MessageEvent")], shim_idx: 14, ret: Unit, inner_ret: Some(Unit) }, mutable: true }) -> Externref`.
            const ret = makeMutClosure(arg0, arg1, wasm_bindgen__convert__closures_____invoke__ha10def6d16796eb4_104);
            return ret;
        },
        __wbindgen_generic_0000000000000005: function(arg0, arg1) {
            // Cast intrinsic for `Closure(Closure { owned: true, function: Function { arguments: [], shim_idx: 15, ret: Unit, inner_ret: Some(Unit) }, mutable: true }) -> Externref`.
            const ret = makeMutClosure(arg0, arg1, wasm_bindgen__convert__closures_____invoke__hcb3deb73a4ee986c);
            return ret;
        },
        __wbindgen_generic_0000000000000006: function(arg0) {
            // Cast intrinsic for `F64 -> Externref`.
            const ret = arg0;
            return ret;
        },
        __wbindgen_generic_0000000000000007: function(arg0) {
            // Cast intrinsic for `I64 -> Externref`.
            const ret = arg0;
            return ret;
        },
        __wbindgen_generic_0000000000000008: function(arg0, arg1) {
            // Cast intrinsic for `Ref(String) -> Externref`.
            const ret = getStringFromWasm0(arg0, arg1);
            return ret;
        },
        __wbindgen_generic_0000000000000009: function(arg0) {
            // Cast intrinsic for `U64 -> Externref`.
            const ret = BigInt.asUintN(64, arg0);
            return ret;
        },
        __wbindgen_init_externref_table: function() {
            const table = wasm.__wbindgen_externrefs;
            table.set(0, undefined);
            table.set(1024, undefined);
            table.set(1025, null);
            table.set(1026, true);
            table.set(1027, false);
        },
    };
    return {
        __proto__: null,
        "./nextchat_tavern_bg.js": import0,
    };
}

function wasm_bindgen__convert__closures_____invoke__hcb3deb73a4ee986c(arg0, arg1) {
    wasm.wasm_bindgen__convert__closures_____invoke__hcb3deb73a4ee986c(arg0, arg1);
}

function wasm_bindgen__convert__closures_____invoke__hf43f743aeefbfe21(arg0, arg1, arg2) {
    wasm.wasm_bindgen__convert__closures_____invoke__hf43f743aeefbfe21(arg0, arg1, arg2);
}

function wasm_bindgen__convert__closures_____invoke__ha10def6d16796eb4(arg0, arg1, arg2) {
    wasm.wasm_bindgen__convert__closures_____invoke__ha10def6d16796eb4(arg0, arg1, arg2);
}

function wasm_bindgen__convert__closures_____invoke__ha10def6d16796eb4_104(arg0, arg1, arg2) {
    wasm.wasm_bindgen__convert__closures_____invoke__ha10def6d16796eb4_104(arg0, arg1, arg2);
}

function wasm_bindgen__convert__closures_____invoke__h60702a48838d1764(arg0, arg1, arg2) {
    const ret = wasm.wasm_bindgen__convert__closures_____invoke__h60702a48838d1764(arg0, arg1, arg2);
    if (ret[1]) {
        throw takeFromExternrefTable0(ret[0]);
    }
}

function wasm_bindgen__convert__closures_____invoke__hb98d63cc49481475(arg0, arg1, arg2, arg3) {
    wasm.wasm_bindgen__convert__closures_____invoke__hb98d63cc49481475(arg0, arg1, arg2, arg3);
}


const __wbindgen_enum_IdbCursorDirection = ["next", "nextunique", "prev", "prevunique"];


const __wbindgen_enum_IdbTransactionMode = ["readonly", "readwrite", "versionchange", "readwriteflush", "cleanup"];


const __wbindgen_enum_RequestCredentials = ["omit", "same-origin", "include"];


const __wbindgen_enum_RequestMode = ["same-origin", "no-cors", "cors", "navigate"];
const GeneratorFinalization = (typeof FinalizationRegistry === 'undefined')
    ? { register: () => {}, unregister: () => {} }
    : new FinalizationRegistry(ptr => wasm.__wbg_generator_free(ptr, 1));
const LorebookMatcherFinalization = (typeof FinalizationRegistry === 'undefined')
    ? { register: () => {}, unregister: () => {} }
    : new FinalizationRegistry(ptr => wasm.__wbg_lorebookmatcher_free(ptr, 1));
const SillyTavernClientFinalization = (typeof FinalizationRegistry === 'undefined')
    ? { register: () => {}, unregister: () => {} }
    : new FinalizationRegistry(ptr => wasm.__wbg_sillytavernclient_free(ptr, 1));
const TavernStoreFinalization = (typeof FinalizationRegistry === 'undefined')
    ? { register: () => {}, unregister: () => {} }
    : new FinalizationRegistry(ptr => wasm.__wbg_tavernstore_free(ptr, 1));

function addToExternrefTable0(obj) {
    const idx = wasm.__externref_table_alloc();
    wasm.__wbindgen_externrefs.set(idx, obj);
    return idx;
}

function _assertClass(instance, klass) {
    if (!(instance instanceof klass)) {
        throw new Error(`expected instance of ${klass.name}`);
    }
}

const CLOSURE_DTORS = (typeof FinalizationRegistry === 'undefined')
    ? { register: () => {}, unregister: () => {} }
    : new FinalizationRegistry(state => wasm.__wbindgen_destroy_closure(state.a, state.b));

function debugString(val) {
    switch (typeof val) {
        // primitive types
        case 'number':
        case 'boolean':
        case 'undefined':
        return `${val}`;
        case 'string':
        return JSON.stringify(val);
        case 'bigint':
        return `${val}n`;
        case 'symbol':
        return val.description !== undefined
            ? `Symbol(${val.description})`
            : 'Symbol';
        case 'function':
        return typeof val.name === 'string' && val.name !== ''
            ? `Function(${val.name})`
            : 'Function';
        case 'object': {
            if (val === null) {
                return 'null';
            }
            // objects
            if (Array.isArray(val)) {
                return '[' + Array.from(val, debugString).join(', ') + ']';
            }
            // errors
            if (val instanceof Error) {
                return `${val.name}: ${val.message}\n${val.stack}`;
            }

            const toStringOutput = toString.call(val);
            // Test for built-in
            const className = /\[object ([^\]]+)\]/.exec(toStringOutput)?.[1];

            // Failed to match the standard '[object ClassName]'
            if (className === undefined) {
                return toStringOutput;
            }
            if (className === 'Object') {
                // we're a user defined class or Object
                // JSON.stringify avoids problems with cycles, and is generally much
                // easier than looping through ownProperties of `val`.
                try {
                    return 'Object(' + JSON.stringify(val) + ')';
                } catch (_) {
                    return 'Object';
                }
            }
            // TODO we could test for more things here, like `Set`s and `Map`s.
            return className;
        }
        // Per MDN: 'This list of values is exhaustive.'
        // https://developer.mozilla.org/en-US/docs/Web/JavaScript/Reference/Operators/typeof#description
    }
}

function getArrayJsValueFromWasm0(ptr, len) {
    ptr = ptr >>> 0;
    const mem = getDataViewMemory0();
    const result = [];
    for (let i = ptr; i < ptr + 4 * len; i += 4) {
        result.push(wasm.__wbindgen_externrefs.get(mem.getUint32(i, true)));
    }
    wasm.__externref_drop_slice(ptr, len);
    return result;
}

function getArrayU8FromWasm0(ptr, len) {
    ptr = ptr >>> 0;
    return getUint8ArrayMemory0().subarray(ptr / 1, ptr / 1 + len);
}

let cachedDataViewMemory0 = null;
function getDataViewMemory0() {
    if (cachedDataViewMemory0 === null || cachedDataViewMemory0.buffer.detached === true || (cachedDataViewMemory0.buffer.detached === undefined && cachedDataViewMemory0.buffer !== wasm.memory.buffer)) {
        cachedDataViewMemory0 = new DataView(wasm.memory.buffer);
    }
    return cachedDataViewMemory0;
}

function getStringFromWasm0(ptr, len) {
    ptr = ptr >>> 0;
    return decodeText(getUint8ArrayMemory0().subarray(ptr, ptr + len));
}

let cachedUint8ArrayMemory0 = null;
function getUint8ArrayMemory0() {
    if (cachedUint8ArrayMemory0 === null || cachedUint8ArrayMemory0.byteLength === 0) {
        cachedUint8ArrayMemory0 = new Uint8Array(wasm.memory.buffer);
    }
    return cachedUint8ArrayMemory0;
}

function handleError(f, args) {
    try {
        return f.apply(this, args);
    } catch (e) {
        const idx = addToExternrefTable0(e);
        wasm.__wbindgen_exn_store(idx);
    }
}

function isLikeNone(x) {
    return x === undefined || x === null;
}

function makeClosure(arg0, arg1, f) {
    const state = { a: arg0, b: arg1, cnt: 1 };
    const real = (...args) => {

        // First up with a closure we increment the internal reference
        // count. This ensures that the Rust closure environment won't
        // be deallocated while we're invoking it.
        state.cnt++;
        try {
            return f(state.a, state.b, ...args);
        } finally {
            real._wbg_cb_unref();
        }
    };
    real._wbg_cb_unref = () => {
        if (--state.cnt === 0) {
            wasm.__wbindgen_destroy_closure(state.a, state.b);
            state.a = 0;
            CLOSURE_DTORS.unregister(state);
        }
    };
    CLOSURE_DTORS.register(real, state, state);
    return real;
}

function makeMutClosure(arg0, arg1, f) {
    const state = { a: arg0, b: arg1, cnt: 1 };
    const real = (...args) => {

        // First up with a closure we increment the internal reference
        // count. This ensures that the Rust closure environment won't
        // be deallocated while we're invoking it.
        state.cnt++;
        const a = state.a;
        state.a = 0;
        try {
            return f(a, state.b, ...args);
        } finally {
            state.a = a;
            real._wbg_cb_unref();
        }
    };
    real._wbg_cb_unref = () => {
        if (--state.cnt === 0) {
            wasm.__wbindgen_destroy_closure(state.a, state.b);
            state.a = 0;
            CLOSURE_DTORS.unregister(state);
        }
    };
    CLOSURE_DTORS.register(real, state, state);
    return real;
}

function passArray8ToWasm0(arg, malloc) {
    const ptr = malloc(arg.length * 1, 1) >>> 0;
    getUint8ArrayMemory0().set(arg, ptr / 1);
    WASM_VECTOR_LEN = arg.length;
    return ptr;
}

function passArrayJsValueToWasm0(array, malloc) {
    const ptr = malloc(array.length * 4, 4) >>> 0;
    for (let i = 0; i < array.length; i++) {
        const add = addToExternrefTable0(array[i]);
        getDataViewMemory0().setUint32(ptr + 4 * i, add, true);
    }
    WASM_VECTOR_LEN = array.length;
    return ptr;
}

function passStringToWasm0(arg, malloc, realloc) {
    if (realloc === undefined) {
        const buf = cachedTextEncoder.encode(arg);
        const ptr = malloc(buf.length, 1) >>> 0;
        getUint8ArrayMemory0().subarray(ptr, ptr + buf.length).set(buf);
        WASM_VECTOR_LEN = buf.length;
        return ptr;
    }

    let len = arg.length;
    let ptr = malloc(len, 1) >>> 0;

    const mem = getUint8ArrayMemory0();

    let offset = 0;

    for (; offset < len; offset++) {
        const code = arg.charCodeAt(offset);
        if (code > 0x7F) break;
        mem[ptr + offset] = code;
    }
    if (offset !== len) {
        if (offset !== 0) {
            arg = arg.slice(offset);
        }
        ptr = realloc(ptr, len, len = offset + arg.length * 3, 1) >>> 0;
        const view = getUint8ArrayMemory0().subarray(ptr + offset, ptr + len);
        const ret = cachedTextEncoder.encodeInto(arg, view);

        offset += ret.written;
        ptr = realloc(ptr, len, offset, 1) >>> 0;
    }

    WASM_VECTOR_LEN = offset;
    return ptr;
}

function takeFromExternrefTable0(idx) {
    const value = wasm.__wbindgen_externrefs.get(idx);
    wasm.__externref_table_dealloc(idx);
    return value;
}

let cachedTextDecoder = new TextDecoder('utf-8', { ignoreBOM: true });
cachedTextDecoder.decode();
const MAX_SAFARI_DECODE_BYTES = 2146435072;
let numBytesDecoded = 0;
function decodeText(bytes) {
    numBytesDecoded += bytes.length;
    if (numBytesDecoded >= MAX_SAFARI_DECODE_BYTES) {
        cachedTextDecoder = new TextDecoder('utf-8', { ignoreBOM: true });
        cachedTextDecoder.decode();
        numBytesDecoded = bytes.length;
    }
    return cachedTextDecoder.decode(bytes);
}

const cachedTextEncoder = new TextEncoder();

if (!('encodeInto' in cachedTextEncoder)) {
    cachedTextEncoder.encodeInto = function (arg, view) {
        const buf = cachedTextEncoder.encode(arg);
        view.set(buf);
        return {
            read: arg.length,
            written: buf.length
        };
    };
}

let WASM_VECTOR_LEN = 0;

let wasmModule, wasmInstance, wasm;
function __wbg_finalize_init(instance, module) {
    wasmInstance = instance;
    wasm = instance.exports;
    wasmModule = module;
    cachedDataViewMemory0 = null;
    cachedUint8ArrayMemory0 = null;
    wasm.__wbindgen_start();
    return wasm;
}

async function __wbg_load(module, imports) {
    if (typeof Response === 'function' && module instanceof Response) {
        if (!module.ok) {
            throw new Error(`failed to fetch Wasm: ${module.status} ${module.statusText} fetching '${module.url}'`);
        }

        if (typeof WebAssembly.instantiateStreaming === 'function') {
            try {
                return await WebAssembly.instantiateStreaming(module, imports);
            } catch (e) {
                const validResponse = expectedResponseType(module.type);

                if (validResponse && module.headers.get('Content-Type') !== 'application/wasm') {
                    console.warn("`WebAssembly.instantiateStreaming` failed because your server does not serve Wasm with `application/wasm` MIME type. Falling back to `WebAssembly.instantiate` which is slower. Original error:\n", e);

                } else { throw e; }
            }
        }

        const bytes = await module.arrayBuffer();
        return await WebAssembly.instantiate(bytes, imports);
    } else {
        const instance = await WebAssembly.instantiate(module, imports);

        if (instance instanceof WebAssembly.Instance) {
            return { instance, module };
        } else {
            return instance;
        }
    }

    function expectedResponseType(type) {
        switch (type) {
            case 'basic': case 'cors': case 'default': return true;
        }
        return false;
    }
}

function initSync(module) {
    if (wasm !== undefined) return wasm;


    if (module !== undefined) {
        if (Object.getPrototypeOf(module) === Object.prototype) {
            ({module} = module)
        } else {
            console.warn('using deprecated parameters for `initSync()`; pass a single object instead')
        }
    }

    const imports = __wbg_get_imports();
    if (!(module instanceof WebAssembly.Module)) {
        module = new WebAssembly.Module(module);
    }
    const instance = new WebAssembly.Instance(module, imports);
    return __wbg_finalize_init(instance, module);
}

let __wbg_init_promise;
async function __wbg_init(module_or_path) {
    if (wasm !== undefined) return wasm;
    if (__wbg_init_promise === undefined) {
        __wbg_init_promise = __wbg_init_once(module_or_path);
        __wbg_init_promise.catch(() => { __wbg_init_promise = undefined; });
    }
    return __wbg_init_promise;
}

async function __wbg_init_once(module_or_path) {

    if (module_or_path !== undefined) {
        if (Object.getPrototypeOf(module_or_path) === Object.prototype) {
            ({module_or_path} = module_or_path)
        } else {
            console.warn('using deprecated parameters for the initialization function; pass a single object instead')
        }
    }

    if (module_or_path === undefined) {
        module_or_path = new URL('nextchat_tavern_bg.wasm', import.meta.url);
    }
    const imports = __wbg_get_imports();

    if (typeof module_or_path === 'string' || (typeof Request === 'function' && module_or_path instanceof Request) || (typeof URL === 'function' && module_or_path instanceof URL)) {
        module_or_path = fetch(module_or_path);
    }

    const { instance, module } = await __wbg_load(await module_or_path, imports);

    return __wbg_finalize_init(instance, module);
}

export { initSync, __wbg_init as default };
