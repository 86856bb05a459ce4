// Reads a JSON Schema on stdin and writes all its $defs as TypeScript
// (json-schema-to-typescript) on stdout. Run by backend/protocol/gen.
import { compile } from 'json-schema-to-typescript'

let input = ''
for await (const chunk of process.stdin) input += chunk
const schema = JSON.parse(input)

// A $ref with siblings (a field's description) would become a copy of the
// type under a new name (AgentInfo1): keep the reference alone.
const bareRefs = (node) => {
  if (Array.isArray(node)) return node.forEach(bareRefs)
  if (node === null || typeof node !== 'object') return
  if (typeof node.$ref === 'string') {
    for (const k of Object.keys(node)) if (k !== '$ref') delete node[k]
    return
  }
  Object.values(node).forEach(bareRefs)
}
bareRefs(schema.$defs)
// The root is an empty object type so that every definition is emitted
// (unreachableDefinitions applies to an object's $defs); it is dropped.
const root = { title: 'Root', type: 'object', properties: {}, additionalProperties: false, $defs: schema.$defs }
let ts = await compile(root, 'Root', {
  bannerComment: '',
  unreachableDefinitions: true,
  additionalProperties: false,
  format: true,
  style: { semi: false, singleQuote: true, printWidth: 120 },
})
ts = ts
  .replace(/export interface Root \{\}\n/, '')
  .replace(/\n *\*\n *\* This interface was referenced by `Root`'s JSON-Schema\n *\* via the `definition` "[^"]*"\./g, '')
  .replace(/\/\*\*\n *\* This interface was referenced by `Root`'s JSON-Schema\n *\* via the `definition` "[^"]*"\.\n *\*\/\n/g, '')
process.stdout.write(ts)
