// Investigation helpers (not part of the BENCH lines): where does one append's time go?
import { TavernStore } from "/pkg/nextchat_tavern.js";
const now = () => performance.now();
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

export async function memoryAppend(runs = 200) {
  const s = await TavernStore.open(null);
  const c = await s.createChat({ title: "m" });
  const xs = [];
  for (let i = 0; i < runs; i++) { const t0 = now(); await s.appendMessage(c.id, { name: "U", isUser: true, mes: "hello there " + i }); xs.push(now() - t0); }
  return median(xs);
}

/** The floor: the same IndexedDB work written by hand in JS (get chat, add message, put chat). */
export async function rawIdbAppend(runs = 100, durability = "default", commit = false) {
  const name = `raw-${Date.now()}-${Math.random()}`;
  const db = await new Promise((ok, fail) => {
    const r = indexedDB.open(name, 1);
    r.onupgradeneeded = () => { r.result.createObjectStore("chats", { keyPath: "id" }); r.result.createObjectStore("messages", { keyPath: ["chatId", "seq"] }); };
    r.onsuccess = () => ok(r.result);
    r.onerror = () => fail(r.error);
  });
  await new Promise((ok) => { const tx = db.transaction(["chats"], "readwrite"); tx.objectStore("chats").put({ id: "c", nextSeq: 0, messageCount: 0 }); tx.oncomplete = ok; });
  const xs = [];
  for (let i = 0; i < runs; i++) {
    const t0 = now();
    await new Promise((ok, fail) => {
      const tx = db.transaction(["chats", "messages"], "readwrite", { durability });
      const chats = tx.objectStore("chats");
      const g = chats.get("c");
      g.onsuccess = () => {
        const chat = g.result;
        tx.objectStore("messages").add({ chatId: "c", seq: chat.nextSeq, mes: "hello there " + i, name: "U", isUser: true, extra: {}, fields: {} });
        chat.nextSeq++; chat.messageCount++;
        chats.put(chat);
        if (commit) tx.commit();
      };
      tx.oncomplete = ok;
      tx.onerror = () => fail(tx.error);
    });
    xs.push(now() - t0);
  }
  db.close();
  return median(xs);
}

/** The first page of the library by name, by hand: a cursor walk, and getAll(limit). */
export async function rawFirstPage(dbName, runs = 9) {
  const db = await new Promise((ok, fail) => { const r = indexedDB.open(dbName); r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
  const cursor = [], getAll = [];
  for (let i = 0; i < runs; i++) {
    let t0 = now();
    await new Promise((ok) => {
      const out = [];
      const req = db.transaction("characters").objectStore("characters").index("ixName").openCursor();
      req.onsuccess = () => { const c = req.result; if (!c || out.length >= 50) return ok(out); out.push(c.value); c.continue(); };
    });
    cursor.push(now() - t0);
    t0 = now();
    await new Promise((ok) => { const r = db.transaction("characters").objectStore("characters").index("ixName").getAll(undefined, 50); r.onsuccess = () => ok(r.result); });
    getAll.push(now() - t0);
  }
  db.close();
  return { cursor: median(cursor), getAll: median(getAll) };
}

export async function oursFirstPage(store, runs = 9) {
  const xs = [];
  for (let i = 0; i < runs; i++) { const t0 = now(); await store.listCharacters({ limit: 50 }); xs.push(now() - t0); }
  return median(xs);
}

export async function rawCount(dbName, runs = 5) {
  const db = await new Promise((ok, fail) => { const r = indexedDB.open(dbName); r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
  const ix = [], st = [];
  for (let i = 0; i < runs; i++) {
    let t0 = now();
    await new Promise((ok) => { const r = db.transaction("characters").objectStore("characters").index("ixName").count(); r.onsuccess = () => ok(r.result); });
    ix.push(now() - t0);
    t0 = now();
    await new Promise((ok) => { const r = db.transaction("characters").objectStore("characters").count(); r.onsuccess = () => ok(r.result); });
    st.push(now() - t0);
  }
  db.close();
  return { indexCount: median(ix), storeCount: median(st) };
}
