"use client";
// The thin async facade NextChat would use: one lazy init per page, never at module top level.
import type * as Engine from "nextchat-tavern";

let ready: Promise<typeof Engine> | null = null;

export function loadEngine(): Promise<typeof Engine> {
  ready ??= import("nextchat-tavern").then(async (m) => {
    await m.default();
    return m;
  });
  return ready;
}
