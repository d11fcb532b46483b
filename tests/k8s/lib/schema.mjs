// Schema check: each object against its kind's JSON schema from `kubernetes-models`
// (through @kubernetes-models/validate): wrong types, missing required fields, bad
// formats. It does not see misspelled fields (the schemas admit unknown properties):
// types.mjs does.

// modelClass: the kubernetes-models class for an object's apiVersion and kind, or null.
export function modelClass(req, object) {
  const { apiVersion, kind } = object;
  if (typeof apiVersion !== "string" || typeof kind !== "string") return null;
  try {
    const cls = req(`kubernetes-models/${apiVersion}`)[kind];
    return typeof cls === "function" ? cls : null;
  } catch {
    return null;
  }
}

// schemaErrors: messages "schema: PATH MESSAGE" for `object` (empty when it is valid).
export function schemaErrors(req, object) {
  const cls = modelClass(req, object);
  if (cls === null) {
    return [`schema: no Kubernetes model for apiVersion ${object.apiVersion}, ` +
            `kind ${object.kind}`];
  }
  try {
    new cls(object).validate();
    return [];
  } catch (e) {
    if (!Array.isArray(e.errors)) throw e;
    return e.errors.map((err) => {
      if (err.keyword === "required") {
        return `schema: ${err.instancePath}/${err.params.missingProperty} is missing ` +
               `(${err.message})`;
      }
      return `schema: ${err.instancePath || "/"} ${err.message}`;
    });
  }
}
