import type { ReactNode } from "react";

// An inline icon keeps the browser from requesting /favicon.ico (a 404 console error).
export const metadata = { title: "nextchat-tavern Next.js smoke test", icons: { icon: "data:," } };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
