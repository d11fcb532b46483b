// Type check: each object written as a TypeScript object literal typed with its kind's
// kubernetes-models interface, all files checked by ONE `tsc --noEmit --strict` run. The
// excess-property check names a misspelled field; a wrong type or a missing required
// field fails too. Diagnostics are mapped back to the object and its JSON path.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

// literal: `value` as TypeScript source, one property or element per line; paths[i] is
// the JSON path of the value that starts on line i (0-based).
function literal(value, jsonPath, indent, lines, paths, prefix) {
  const pad = "  ".repeat(indent);
  const open = (text) => { lines.push(pad + prefix + text); paths.push(jsonPath || "/"); };
  if (Array.isArray(value) || (value !== null && typeof value === "object")) {
    const isArray = Array.isArray(value);
    const entries = isArray ? value.map((v, i) => [i, v]) : Object.entries(value);
    if (entries.length === 0) { open(isArray ? "[]" : "{}"); return; }
    open(isArray ? "[" : "{");
    for (const [k, v] of entries) {
      // Identifier keys unquoted, so tsc names a field 'name', not '"name"'.
      const name = /^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k);
      const key = isArray ? "" : `${name}: `;
      literal(v, `${jsonPath}/${k}`, indent + 1, lines, paths, key);
      lines[lines.length - 1] += ",";
    }
    lines.push(pad + (isArray ? "]" : "}"));
    paths.push(jsonPath || "/");
  } else {
    open(JSON.stringify(value));
  }
}

// typeErrors: for each object (items of {label, object, dtsModule} where dtsModule is the
// interface's module path without extension), the messages "types: PATH MESSAGE"; one tsc run.
export function typeErrors(items, nodeModules, workDir) {
  rmSync(workDir, { recursive: true, force: true });
  mkdirSync(workDir, { recursive: true });
  const files = [];
  const byFile = new Map();
  items.forEach((item, i) => {
    const lines = [`// ${item.label}`, `import type { I${item.object.kind} as T } from ` +
                   `${JSON.stringify(item.dtsModule)};`];
    const paths = [null, null];
    literal(item.object, "", 0, lines, paths, "export const object: T = ");
    lines[lines.length - 1] += ";";
    const file = path.join(workDir, `object_${i}.ts`);
    writeFileSync(file, lines.join("\n") + "\n");
    files.push(file);
    byFile.set(path.resolve(file), { item, paths, errors: [] });
  });
  if (files.length === 0) return new Map();
  const tsc = path.join(nodeModules, "typescript", "bin", "tsc");
  if (!existsSync(tsc)) throw new Error(`${tsc} is missing: run scripts/deps.sh`);
  const r = spawnSync(process.execPath, [tsc, "--noEmit", "--strict", "--skipLibCheck",
    "--pretty", "false", "--target", "es2020", "--module", "commonjs",
    "--moduleResolution", "node", ...files], { encoding: "utf8", cwd: workDir });
  if (r.error) throw r.error;
  let last = null;
  for (const raw of r.stdout.split("\n")) {
    const m = raw.match(/^(.*)\((\d+),(\d+)\): error (TS\d+): (.*)$/);
    if (m) {
      const entry = byFile.get(path.resolve(workDir, m[1]));
      if (!entry) throw new Error(`tsc: unexpected diagnostic: ${raw}`);
      const where = entry.paths[Number(m[2]) - 1] ?? "(import)";
      last = { entry, text: `types: ${where} ${m[5]} [${m[4]}]` };
      entry.errors.push(last);
    } else if (last && raw.trim() !== "") {
      last.text += " " + raw.trim();
    }
  }
  if (r.status !== 0 && [...byFile.values()].every((e) => e.errors.length === 0)) {
    throw new Error(`tsc failed without diagnostics (exit ${r.status}):\n${r.stdout}${r.stderr}`);
  }
  const out = new Map();
  for (const { item, errors } of byFile.values()) out.set(item, errors.map((e) => e.text));
  return out;
}
