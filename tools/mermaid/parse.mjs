// Parses Mermaid diagrams with Mermaid's own parser, the one GitHub renders with.
// Usage: node parse.mjs NODE_MODULES FILE...
// NODE_MODULES is the folder tools/build.sh installs this directory's package-lock.json into.
// Prints one JSON line per file: {"file","ok","error"} plus, for a flowchart, the ids of its
// nodes and subgraphs and the number of links, as Mermaid itself counts them. Exits 1 when any
// file does not parse, 2 on bad usage.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [modules, ...files] = process.argv.slice(2);
if (!modules || files.length === 0) {
  process.stderr.write('usage: node parse.mjs NODE_MODULES FILE...\n');
  process.exit(2);
}
// Mermaid logs through the console; stdout carries only the results.
for (const level of ['log', 'info', 'debug', 'warn']) {
  console[level] = (...args) => process.stderr.write(args.join(' ') + '\n');
}
const require = createRequire(join(resolve(modules), 'package.json'));
// DOMPurify, which Mermaid sanitizes labels with, needs a DOM even to parse.
const { JSDOM } = require('jsdom');
const { window } = new JSDOM('');
globalThis.window = window;
globalThis.document = window.document;
const { default: mermaid } = await import(pathToFileURL(require.resolve('mermaid')).href);
mermaid.initialize({ startOnLoad: false, securityLevel: 'strict' });

let failed = false;
for (const file of files) {
  const result = { file, ok: true };
  try {
    const text = readFileSync(file, 'utf8');
    result.type = (await mermaid.parse(text)).diagramType;
    const diagram = await mermaid.mermaidAPI.getDiagramFromText(text);
    if (typeof diagram.db.getVertices === 'function') {
      const subgraphs = diagram.db.getSubGraphs().map((s) => s.id);
      // A link to a subgraph also makes a vertex of its id: count boxes only.
      result.nodes = [...diagram.db.getVertices().keys()].filter((id) => !subgraphs.includes(id));
      result.subgraphs = subgraphs;
      result.links = diagram.db.getEdges().length;
    }
  } catch (err) {
    failed = true;
    result.ok = false;
    result.error = String(err?.message ?? err);
  }
  process.stdout.write(JSON.stringify(result) + '\n');
}
process.exit(failed ? 1 : 0);
