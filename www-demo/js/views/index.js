// The list of views, in navigation order. Each view: { path, title, render(ctx) -> Node }.
import { home } from "./home.js";
import { library } from "./library.js";

export const views = [home, library];
