import type { PromptRequest, PromptOutput, ScanRequest, WorldInfoResult, MacroContext, RenderOutput, LorebookJson,
  WorldInfoSettings, BookSource, TavernError, ImportedCard, ImportCardOptions, CardV3, ExportCardOptions } from "./nextchat_tavern.js";

/** A lorebook compiled in the worker; use it as `lorebooks: [{ name, matcher }]` in worker requests. */
export interface WorkerLorebook { workerLorebook: number; }
/** Worker requests may name worker-side lorebooks instead of `LorebookMatcher`s. */
export type WorkerLorebookInput =
  | { name: string; source?: BookSource; book: LorebookJson; matcher?: never }
  | { name?: string; source?: BookSource; matcher: WorkerLorebook; book?: never };
export type WorkerPromptRequest = Omit<PromptRequest, "lorebooks"> & { lorebooks?: WorkerLorebookInput[] };
export type WorkerScanRequest = Omit<ScanRequest, "lorebooks"> & { lorebooks?: WorkerLorebookInput[] };

/**
 * The engine in a Web Worker (worker.js): the same calls and results as the package's functions, as Promises.
 * Rejections are `TavernError`s (`code`, `message`). Token counting callbacks cannot cross to a worker: the
 * default estimate is used.
 */
export class TavernWorker {
  constructor(worker?: Worker);
  readonly worker: Worker | null;
  call(method: string, ...args: unknown[]): Promise<unknown>;
  buildPrompt(request: WorkerPromptRequest): Promise<PromptOutput>;
  scanLorebooks(request: WorkerScanRequest): Promise<WorldInfoResult>;
  renderMacros(text: string, context?: MacroContext): Promise<RenderOutput>;
  importCard(bytes: Uint8Array, options?: ImportCardOptions): Promise<ImportedCard>;
  exportCard(card: CardV3 | Record<string, unknown>, options: ExportCardOptions): Promise<Uint8Array>;
  version(): Promise<string>;
  compileLorebook(name: string, book: LorebookJson, settings?: WorldInfoSettings, source?: BookSource): Promise<WorkerLorebook>;
  freeLorebook(lorebook: WorkerLorebook): Promise<boolean>;
  terminate(): void;
}
export type { TavernError };
