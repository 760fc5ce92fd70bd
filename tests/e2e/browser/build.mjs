// Bundle page/main.js (with the unmodified @elevenlabs/client) and copy the page into dist/.
import { copyFile, mkdir } from "node:fs/promises";
import { build } from "esbuild";

await mkdir("dist", { recursive: true });
await build({
  entryPoints: ["page/main.js"],
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "chrome120",
  outfile: "dist/main.js",
  sourcemap: true,
  logLevel: "warning",
});
await copyFile("page/index.html", "dist/index.html");
