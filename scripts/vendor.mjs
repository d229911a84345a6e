// Copies the front-end files the pages load out of node_modules/ into static/vendor/ (or the
// folder given as the first argument). The list is package.json's "vendorFiles" (file name in
// /static/vendor/ -> path under node_modules/): the only list, used by `make vendor` and by
// the Dockerfile's vendor stage (`npm run vendor -- /build/vendor`). Nothing comes from a CDN.
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const target = resolve(process.argv[2] || join(root, "static", "vendor"));

mkdirSync(target, { recursive: true });
for (const [name, source] of Object.entries(pkg.vendorFiles)) {
  copyFileSync(join(root, "node_modules", source), join(target, name));
}
console.log(`vendor: ${Object.keys(pkg.vendorFiles).join(", ")} -> ${target}`);
