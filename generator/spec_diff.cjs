// Classify the changes between two OpenAPI documents with api-smart-diff.
// Usage: node spec_diff.cjs BEFORE.json AFTER.json  (NODE_PATH must reach api-smart-diff)
// Prints the diffs as one JSON array: [{type, action, path, description}, ...].
"use strict";
const { readFileSync } = require("node:fs");
const { apiCompare } = require("api-smart-diff");

const [before, after] = process.argv.slice(2).map((p) => JSON.parse(readFileSync(p, "utf8")));
const { diffs } = apiCompare(before, after);
const out = diffs.map((d) => ({
  type: d.type,
  action: d.action,
  path: d.path,
  description: d.description || "",
}));
process.stdout.write(JSON.stringify(out));
