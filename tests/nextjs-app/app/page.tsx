"use client";
import { useEffect, useState } from "react";
import type { BuildInfo, ErrorCode } from "nextchat-tavern";
import { loadEngine } from "./engine";

export default function Page() {
  const [version, setVersion] = useState("pending");
  const [info, setInfo] = useState<BuildInfo | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    loadEngine().then(
      (engine) => {
        const codes: ErrorCode[] = engine.errorCodes();
        setVersion(engine.version());
        setInfo(engine.buildInfo());
        if (!codes.includes("not_a_card")) setError("error codes missing");
      },
      (e: unknown) => setError(String(e)),
    );
  }, []);

  return (
    <main>
      <h1>nextchat-tavern in Next.js</h1>
      <p>
        version: <span id="version">{version}</span>
      </p>
      <p>
        target: <span id="target">{info?.targetArch ?? "pending"}</span>
      </p>
      {error && <p id="error">{error}</p>}
    </main>
  );
}
