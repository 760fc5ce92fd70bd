// Write a gzip twin (`<name>.gz`) beside each text file of a front end's build, so the API
// serves compressed bytes without compressing per request (app/api/precompressed_files.py).
// Usage: node ../scripts/precompress.mjs <build folder>
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { constants, gzipSync } from "node:zlib";

const TEXT = /\.(html|js|mjs|css|json|webmanifest|svg|txt|map)$/;
const SMALLEST = 1024; // below this, gzip's framing eats the gain

async function* files(folder) {
  for (const entry of await readdir(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (TEXT.test(entry.name)) yield path;
  }
}

const folder = process.argv[2];
if (!folder) {
  console.error("usage: node precompress.mjs <build folder>");
  process.exit(2);
}
let count = 0;
let before = 0;
let after = 0;
for await (const path of files(folder)) {
  if ((await stat(path)).size < SMALLEST) continue;
  const body = await readFile(path);
  const packed = gzipSync(body, { level: constants.Z_BEST_COMPRESSION });
  if (packed.length >= body.length) continue;
  await writeFile(`${path}.gz`, packed);
  count += 1;
  before += body.length;
  after += packed.length;
}
console.log(`precompressed ${count} files in ${folder}: ${before} → ${after} bytes`);
