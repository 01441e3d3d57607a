// Type-checks the package's generated .d.ts with skipLibCheck off (tsconfig.dts.json),
// and that its types say what a caller relies on.
import init, { version, buildInfo, errorCodes, isTavernError } from "nextchat-tavern";
import type { BuildInfo, ErrorCode, TavernError } from "nextchat-tavern";

export async function useIt(e: unknown): Promise<string> {
  await init();
  const v: string = version();
  const info: BuildInfo = buildInfo();
  const codes: ErrorCode[] = errorCodes();
  if (isTavernError(e)) {
    const err: TavernError = e; // narrowed by the type guard
    const code: ErrorCode = err.code;
    return `${code}: ${err.message}`;
  }
  return `${v} ${info.targetArch} ${codes.length}`;
}

// ---- TavernStore: a realistic library + chat session, typed end to end ----
import { TavernStore, SillyTavernClient, Generator, buildPrompt } from "nextchat-tavern";
import type {
  Character, CharacterQuery, Chat, FieldError, ImportReport, Message, Page, Settings, SettingsPatch, StoreChange, StoreInfo,
  StCharacter, StWorldInfo, ChatLink, ChatSyncResult, GenerateRequest, GenerateResult, PromptOutput, StoreEvent,
  Asset, Thumbnail, ThumbnailOptions, BackupImportOptions, BackupImportProgress,
  CachedValue,
} from "nextchat-tavern";

export async function librarySession(files: File[], signal: AbortSignal): Promise<string> {
  await init();
  const store: TavernStore = await TavernStore.open(); // optional name: default database
  const mem = await TavernStore.open(null);              // null: in memory
  const info: StoreInfo = store.info();
  if (!info.persistent) console.warn(info.fallbackReason ?? "memory store");

  // Library: import with progress and cancellation, then list a page.
  const texts = await Promise.all(files.map((f) => f.text()));
  const imported: Character[] = await store.importCards(texts, {
    onProgress: ({ done, total }) => console.log(`${done}/${total}`),
    signal,
  });
  await store.importCards([{ card: { spec: "chara_card_v2", data: { name: "A" } }, tags: ["x"], avatar: new Uint8Array(8), avatarMime: "image/png" }]);
  const q: CharacterQuery = { query: "al", tag: "fantasy", sort: "recentlyUsed", offset: 0, limit: 20 };
  const page: Page<Character> = await store.listCharacters(q);
  const everyone = await store.listCharacters(); // the query is optional
  const first: Character | undefined = page.items[0] ?? everyone.items[0] ?? imported[0];
  if (!first) return "empty";
  const same: Character | null = await store.getCharacter(first.id);
  await store.updateCharacter(first.id, { favorite: true, tags: ["a"], lastUsedAt: null });
  const avatar: Blob | null = first.avatarAssetId ? await store.getAssetBlob(first.avatarAssetId) : null;
  // Thumbnails: made once, kept as assets; `original` when this environment cannot decode it.
  const topts: ThumbnailOptions = { maxSide: 128, maxPixels: 40_000_000 };
  const thumb: Thumbnail | null = first.avatarAssetId ? await store.thumbnail(first.avatarAssetId, topts) : null;
  const thumbAsset: Asset | undefined = thumb?.asset;
  const thumbSize: [number | null, number | null, string | null, boolean] = [thumbAsset?.width ?? null, thumbAsset?.height ?? null, thumbAsset?.thumbnailOf ?? null, thumb?.original ?? false];
  const thumbUrl: string | null = first.avatarAssetId ? await store.thumbnailUrl(first.avatarAssetId) : null;
  if (thumbUrl) URL.revokeObjectURL(thumbUrl);
  console.log(thumbSize);

  // Chat: append, edit, page backwards, export.
  const chat: Chat = await store.createChat({ characterId: first.id, title: "Hello" });
  const m: Message = await store.appendMessage(chat.id, { name: "User", isUser: true, mes: "hi" });
  await store.editMessage(chat.id, m.seq, { addSwipe: "hello" });
  let older: Message[] = await store.getMessages({ chatId: chat.id, limit: 50 });
  while (older.length > 0) older = await store.getMessages({ chatId: chat.id, before: older[0]!.seq, limit: 50 });
  await store.deleteMessage(chat.id, m.seq);
  const jsonl: string = await store.exportChatJsonl(chat.id);
  const jsonlAs: string = await store.exportChatJsonl(chat.id, "Me");
  await store.deleteChat(chat.id);
  await store.deleteCharacter(first.id);
  await store.restoreCharacter(first.id);

  // Backup into another store.
  const backup: Blob = await store.exportBackup();
  const withKeys: Blob = await store.exportBackup({ includeSecrets: true });
  const report: ImportReport = await mem.importBackup(backup, { onProgress: (p) => p.done });
  await mem.importBackup(await withKeys.text());
  // Streamed: a fetch body (read once, imported as it arrives) or a File, in batches, cancellable.
  const iopts: BackupImportOptions = {
    batchSize: 100,
    checkFirst: false,
    signal,
    onProgress: (p: BackupImportProgress) => console.log(p.phase, p.done, p.total ?? "?", p.bytesRead, p.totalBytes ?? "?"),
  };
  const body: ReadableStream<Uint8Array> | null = (await fetch("/backup.ndjson")).body;
  if (body) await mem.importBackup(body, iopts);
  await mem.importBackup(files[0] ?? new Uint8Array(0), { checkFirst: true });

  // Settings: partial update, validation errors, subscriptions.
  const patch: SettingsPatch = { generation: { temperature: 0.8, maxTokens: null }, theme: { mode: "dark" } };
  const problems: FieldError[] = await store.validateSettings(patch);
  const settings: Settings = problems.length === 0 ? await store.setSettings(patch) : await store.getSettings();
  const temp: number | null | undefined = settings.generation.temperature;
  const off: () => void = store.subscribeSettings((s: Settings) => console.log(s.theme.mode));
  const offAll: () => void = store.subscribe((c: StoreChange) => console.log(c.store, c.op, c.ids, c.remote));
  off();
  offAll();
  await store.setApiKey("openai", "sk-…");
  await store.setApiKey("openai");
  const keys: Record<string, boolean> = await store.apiKeyNames();
  try {
    await store.setSettings({ generation: { temperature: 9 } });
  } catch (e) {
    if (isTavernError(e) && e.code === "validation") console.log(e.message);
  }
  store.free();
  return `${same?.name} ${avatar?.size} ${jsonl.length + jsonlAs.length} ${report.written} ${temp} ${Object.keys(keys)}`;
}

// SillyTavern client, generation with fallback, chat bridge, prompt engine: the calls NextChat makes.
export async function talkToSillyTavern(
  store: TavernStore,
  hostLlm: (req: GenerateRequest, o: { signal?: AbortSignal }) => Promise<string>,
): Promise<string> {
  const st = new SillyTavernClient({ baseUrl: "http://127.0.0.1:8000", timeoutMs: 10_000 });
  await st.connect();
  const list: StCharacter[] = await st.characters({ maxAgeMs: 30_000, onUpdate: (l) => console.log(l.length) });
  st.useCache(store); // the list and thumbnails kept in IndexedDB across reloads
  const cached: CachedValue<StCharacter[]> = await st.cachedCharacters({ maxAgeMs: 60_000, onUpdate: (l: StCharacter[]) => l });
  const shown: StCharacter[] = cached.fromCache && cached.stale ? cached.value.slice() : cached.value;
  const at: number = cached.fetchedAt;
  const first: StCharacter | undefined = list[0] ?? shown[0];
  const img: string = await st.thumbnailUrl("avatar", first?.avatar ?? "x.png");
  const png: Uint8Array = await st.exportCharacter(first?.avatar ?? "x.png", "png");
  const name: string = await st.importCharacter(png, "png", "copy.png");
  const wi: StWorldInfo = await st.worldInfo("Eldoria");
  await st.saveWorldInfo("Eldoria", wi);
  const link: ChatLink = { avatar: name, file: "chat 1", integrity: "id-1" };
  const synced: ChatSyncResult = await st.syncChat(link, [{ name: "You", isUser: true, mes: "hi", sendDate: Date.now() }]);
  const gen: Generator = st.generator({
    backends: [{ kind: "sillyTavernChat", source: "custom", customUrl: "http://127.0.0.1:5001/v1" }, { kind: "host", name: "nextchat" }],
    host: hostLlm,
    idleTimeoutMs: 15_000,
  });
  gen.logTo(store);
  const ac = new AbortController();
  const prompt: PromptOutput = buildPrompt({ character: { name: "Nova" }, chat: [{ name: "You", isUser: true, mes: "hi" }] });
  const res: GenerateResult = await gen.generate({ messages: prompt.messages }, { signal: ac.signal, onToken: (t: string) => t });
  const direct = new Generator({ backends: [{ kind: "openAi", baseUrl: "http://127.0.0.1:5001/v1", apiKey: "k" }] });
  const res2: GenerateResult = await direct.generate({ prompt: "Once", stream: false });
  const events: StoreEvent[] = await store.events({ limit: 10 });
  await st.clearCache();
  return `${at} ${img} ${synced.localChanged} ${res.incomplete} ${res.stopReason} ${res2.text} ${events.length}`;
}

// ---- Prompt engine: typed settings (SillyTavern names too), matchers, the worker helper ----
import { LorebookMatcher, scanLorebooks } from "nextchat-tavern";
import type { PromptRequest, PromptSettings, ScanRequest, WorldInfoResult } from "nextchat-tavern";
import { TavernWorker } from "nextchat-tavern/worker";
import type { WorkerLorebook } from "nextchat-tavern/worker";

export async function engineTypes(book: unknown): Promise<number> {
  const settings: PromptSettings = { maxContext: 8192, openai_max_tokens: 400, tokensPerMessage: 5, wi_format: "{0}" };
  const lore = new LorebookMatcher("World", book, { world_info_depth: 4, matchWholeWords: true }, "character");
  const req: PromptRequest = { character: { name: "Nova" }, persona: { name: "You" }, chat: [], settings,
    lorebooks: [{ matcher: lore }, { name: "Other", source: "global", book }] };
  const out: PromptOutput = buildPrompt(req);
  const scanReq: ScanRequest = { chat: [], lorebooks: [{ name: "World", book }], character: { name: "Nova" }, persona: { name: "You" },
    state: out.lorebookState };
  const scanned: WorldInfoResult = scanLorebooks(scanReq);
  lore.free();
  const tw = new TavernWorker();
  const wl: WorkerLorebook = await tw.compileLorebook("World", book);
  const viaWorker: PromptOutput = await tw.buildPrompt({ character: { name: "Nova" }, chat: [], lorebooks: [{ matcher: wl }] });
  tw.terminate();
  return scanned.activated.length + viaWorker.messages.length;
}
