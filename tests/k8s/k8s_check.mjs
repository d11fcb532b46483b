// k8s_check: renders Kubernetes manifests offline and validates every object against the
// Kubernetes schemas (kubernetes-models) and TypeScript interfaces (tsc --strict).
//   node k8s_check.mjs --node_modules=DIR --work=DIR [--kubectl=PATH]
//        [--same=FILE_A,FILE_B]... [--expect_rejected] TARGET...
// A TARGET is a kustomization directory (rendered with `kubectl kustomize`) or a YAML file.
// Default: every object of every target must be valid. --expect_rejected: each TARGET is
// a broken fixture that must be rejected, with each line "CHECK: TEXT" of its
// expected.txt (CHECK: schema or types) matched by an error of that check.
// --same: the two files must be identical (a copied config must not drift).
// Exit status 0 on success, 1 on a failed check or a setup problem (missing kubectl).
import { existsSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { parseObjects, renderTarget, SetupError } from "./lib/render.mjs";
import { schemaErrors } from "./lib/schema.mjs";
import { typeErrors } from "./lib/types.mjs";

function parseArgs(argv) {
  const opts = { kubectl: "kubectl", same: [], expectRejected: false, targets: [] };
  for (const a of argv) {
    const m = a.match(/^--([a-z_]+)(?:=(.*))?$/);
    if (!m) opts.targets.push(a.replace(/(.)\/+$/, "$1"));
    else if (m[1] === "node_modules") opts.nodeModules = path.resolve(m[2]);
    else if (m[1] === "work") opts.work = path.resolve(m[2]);
    else if (m[1] === "kubectl") opts.kubectl = m[2];
    else if (m[1] === "same") opts.same.push(m[2].split(","));
    else if (m[1] === "expect_rejected") opts.expectRejected = true;
    else throw new SetupError(`unknown flag ${a}`);
  }
  if (!opts.nodeModules || !opts.work || opts.targets.length === 0) {
    throw new SetupError("usage: k8s_check.mjs --node_modules=DIR --work=DIR TARGET...");
  }
  return opts;
}

// expectations: the "CHECK: TEXT" lines of a fixture's expected.txt.
function expectations(target) {
  const file = path.join(statSync(target).isDirectory() ? target : path.dirname(target),
                         "expected.txt");
  return readFileSync(file, "utf8").split("\n").map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"))
    .map((l) => {
      const m = l.match(/^(schema|types|yaml): (.+)$/);
      if (!m) throw new SetupError(`${file}: bad line "${l}"`);
      return { check: m[1], text: m[2] };
    });
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const nm = opts.nodeModules;
  for (const pkg of ["kubernetes-models", "@kubernetes-models/validate", "yaml", "typescript"]) {
    if (!existsSync(path.join(nm, pkg, "package.json"))) {
      throw new SetupError(`${path.join(nm, pkg)} is missing: run scripts/deps.sh ` +
                           "(npm ci in tests/k8s)");
    }
  }
  const req = createRequire(path.join(nm, "noop.js"));
  const YAML = req("yaml");
  let failed = false;
  for (const [a, b] of opts.same) {
    if (readFileSync(a, "utf8") !== readFileSync(b, "utf8")) {
      console.log(`FAIL: ${a} differs from ${b} (copy it again)`);
      failed = true;
    }
  }

  // Render and schema-check every target, then type-check all objects in one tsc run.
  const results = opts.targets.map((target) => {
    const { objects, errors } = parseObjects(renderTarget(target, opts.kubectl), YAML);
    const items = objects.map((object) => ({
      target, object, errors: schemaErrors(req, object),
      label: `${target}: ${object.kind}/${object.metadata?.name}`,
      dtsModule: path.join(nm, "kubernetes-models", String(object.apiVersion), String(object.kind)),
    }));
    return { target, items, errors };
  });
  const typed = results.flatMap((r) => r.items)
    .filter((i) => existsSync(`${i.dtsModule}.d.ts`));
  for (const [item, errors] of typeErrors(typed, nm, opts.work)) item.errors.push(...errors);

  for (const { target, items, errors } of results) {
    const all = [...errors, ...items.flatMap((i) => i.errors.map((e) => `${i.label}: ${e}`))];
    if (!opts.expectRejected) {
      if (items.length === 0) all.push(`${target}: no objects`);
      if (all.length === 0) {
        console.log(`ok: ${target}: ${items.length} objects valid ` +
                    `(${items.map((i) => i.object.kind).join(", ")})`);
      } else {
        failed = true;
        console.log(`FAIL: ${target}:\n  ${all.join("\n  ")}`);
      }
      continue;
    }
    const missing = expectations(target).filter(({ check, text }) =>
      !all.some((e) => e.includes(`: ${check}: `) && e.includes(text)));
    if (all.length === 0 || missing.length > 0) {
      failed = true;
      console.log(`FAIL: ${target}: ${all.length === 0 ? "accepted, but it is broken" :
        "rejected, but not with the expected messages"}`);
      for (const m of missing) console.log(`  expected ${m.check}: ...${m.text}...`);
    } else {
      console.log(`ok: ${target}: rejected as expected`);
    }
    console.log(`  ${all.join("\n  ")}`);
  }
  return failed ? 1 : 0;
}

try {
  process.exitCode = main();
} catch (e) {
  console.log(`FAIL: ${e instanceof SetupError ? e.message : e.stack}`);
  process.exitCode = 1;
}
