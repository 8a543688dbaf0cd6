// A function split across several modules: TypeScript, JavaScript and JSON, imported relatively.
//   curl localhost:9000/multi/items/2

import { findItem, listItems } from "./lib/store.ts";
import { json, notFound } from "./lib/respond.js";
import meta from "./meta.json" with { type: "json" };

export default {
  fetch(request: Request): Response {
    const path = new URL(request.url).pathname;
    const match = path.match(/\/items\/(\d+)$/);
    if (match) {
      const item = findItem(Number(match[1]));
      return item ? json(item) : notFound(`no item ${match[1]}`);
    }
    return json({ service: meta.name, version: meta.version, items: listItems() });
  },
};
