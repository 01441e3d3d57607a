// The list of views, in navigation order. Each view: { path, title, render(ctx) -> Node }.
import { home } from "./home.js";
import { cards } from "./cards.js";
import { library } from "./library.js";
import { settings } from "./settings.js";
import { sillytavernView } from "./sillytavern.js";
import { chat } from "./chat.js";
import { inspector } from "./inspector.js";

export const views = [home, cards, library, chat, inspector, sillytavernView, settings];
