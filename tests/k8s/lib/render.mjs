// Rendering: a kustomization directory through `kubectl kustomize` (never a home-made
// renderer: no kubectl is an error), or a plain manifest file; then the YAML documents.
import { spawnSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";

export class SetupError extends Error {}

// renderTarget: the YAML text of `target` (a directory: kubectl kustomize; a file: as is).
export function renderTarget(target, kubectl) {
  if (!statSync(target).isDirectory()) return readFileSync(target, "utf8");
  const r = spawnSync(kubectl, ["kustomize", target], { encoding: "utf8" });
  if (r.error && r.error.code === "ENOENT") {
    throw new SetupError(`kubectl not found (${kubectl}): the manifests are rendered with ` +
      "`kubectl kustomize`; install kubectl 1.32 (README, Dependencies)");
  }
  if (r.error) throw new SetupError(`kubectl kustomize ${target}: ${r.error.message}`);
  if (r.status !== 0) {
    throw new SetupError(`kubectl kustomize ${target} failed (exit ${r.status}):\n${r.stderr}`);
  }
  return r.stdout;
}

// parseObjects: every non-empty YAML document of `text` as a plain object; YAML errors
// are returned as messages.
export function parseObjects(text, YAML) {
  const objects = [];
  const errors = [];
  for (const doc of YAML.parseAllDocuments(text)) {
    for (const e of doc.errors) errors.push(`yaml: ${e.message}`);
    const value = doc.toJS();
    if (value !== null && value !== undefined) objects.push(value);
  }
  return { objects, errors };
}
