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
