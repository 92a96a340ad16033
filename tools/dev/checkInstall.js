#!/usr/bin/env node
// Runs before every npm script that needs node_modules (package.json "scripts"), so that a
// missing or stale `npm ci` is reported as such instead of as "tsx: not found" or a type error
// deep inside a dependency. Plain Node and CommonJS on purpose: it must run before anything is
// installed. Exit code 2 (nothing was run), like the tools' own usage errors.
"use strict";
const fs = require("fs");
const path = require("path");

const root = path.join(__dirname, "..", "..");

/** Pinned dependencies whose installed version differs from package.json ("MISSING" when absent). */
function mismatches(projectRoot) {
  const pkg = JSON.parse(fs.readFileSync(path.join(projectRoot, "package.json"), "utf8"));
  const wanted = { ...pkg.dependencies, ...pkg.devDependencies };
  const found = [];
  for (const [name, version] of Object.entries(wanted)) {
    let installed = "MISSING";
    try {
      installed = JSON.parse(fs.readFileSync(path.join(projectRoot, "node_modules", name, "package.json"), "utf8")).version;
    } catch {
      // absent or unreadable: reported as MISSING
    }
    // One package (@pulumi/policy) publishes its version with a leading "v".
    if (String(installed).replace(/^v/, "") !== version) found.push({ name, wanted: version, installed });
  }
  return found;
}

/** The message for the operator, or undefined when node_modules matches package.json. */
function installProblem(projectRoot) {
  if (!fs.existsSync(path.join(projectRoot, "node_modules"))) {
    return "node_modules does not exist: run `npm ci` first (it installs the pinned versions from package-lock.json).";
  }
  const wrong = mismatches(projectRoot);
  if (wrong.length === 0) return undefined;
  const shown = wrong
    .slice(0, 3)
    .map(
      (m) => `${m.name} ${m.installed === "MISSING" ? "is not installed" : `is ${m.installed}`} (package.json pins ${m.wanted})`,
    )
    .join("; ");
  const more = wrong.length > 3 ? `; and ${wrong.length - 3} more` : "";
  return `node_modules does not match package.json: ${shown}${more}. Run \`npm ci\` to install the pinned versions.`;
}

module.exports = { installProblem };

if (require.main === module) {
  const problem = installProblem(process.argv[2] || root);
  if (problem) {
    process.stderr.write(`${problem}\n`);
    process.exit(2);
  }
}
