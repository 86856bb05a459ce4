// A small JSON Schema (2020-12) validator for the keywords the protocol's
// schema uses: $ref into $defs, type, enum, const, properties, required,
// additionalProperties, items, anyOf, oneOf, allOf, min/maxLength,
// maxItems, minimum/maximum and format date-time. A keyword it does not
// know fails loudly, so a schema that outgrows it is noticed.

const known = new Set([
  '$schema', '$id', '$ref', '$defs', '$comment', 'title', 'description', 'type', 'enum', 'const',
  'properties', 'required', 'additionalProperties', 'items', 'anyOf', 'oneOf', 'allOf',
  'minLength', 'maxLength', 'maxItems', 'minimum', 'maximum', 'format',
])

const dateTime = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/

function typeOf(v) {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'array'
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number'
  return typeof v
}

function typeMatches(want, v) {
  const got = typeOf(v)
  return want === got || (want === 'number' && got === 'integer')
}

export class Validator {
  constructor(root) {
    this.root = root
  }

  resolve(ref) {
    if (!ref.startsWith('#/$defs/')) throw new Error(`unsupported $ref ${ref}`)
    const def = this.root.$defs[ref.slice('#/$defs/'.length)]
    if (!def) throw new Error(`$ref ${ref} names no definition`)
    return def
  }

  /** validate returns a list of errors, each "path: what"; none means valid. */
  validate(schema, value, path = '$') {
    const errs = []
    this.check(schema, value, path, errs)
    return errs
  }

  check(s, v, path, errs) {
    if (s === true || s === undefined) return
    if (s === false) {
      errs.push(`${path}: not allowed`)
      return
    }
    for (const k of Object.keys(s)) {
      if (!known.has(k) && !k.startsWith('x-')) throw new Error(`schema keyword ${k} at ${path} is not supported`)
    }
    if (s.$ref) this.check(this.resolve(s.$ref), v, path, errs)
    if (s.type && !typeMatches(s.type, v)) {
      errs.push(`${path}: ${typeOf(v)}, want ${s.type}`)
      return
    }
    if (s.enum && !s.enum.includes(v)) errs.push(`${path}: ${JSON.stringify(v)} is not one of ${s.enum.join(', ')}`)
    if ('const' in s && s.const !== v) errs.push(`${path}: ${JSON.stringify(v)}, want ${JSON.stringify(s.const)}`)
    if (typeof v === 'string') {
      const n = [...v].length
      if (s.minLength !== undefined && n < s.minLength) errs.push(`${path}: shorter than ${s.minLength}`)
      if (s.maxLength !== undefined && n > s.maxLength) errs.push(`${path}: longer than ${s.maxLength}`)
      if (s.format === 'date-time' && !dateTime.test(v)) errs.push(`${path}: ${v} is not an RFC 3339 time`)
    }
    if (typeof v === 'number') {
      if (s.minimum !== undefined && v < Number(s.minimum)) errs.push(`${path}: below ${s.minimum}`)
      if (s.maximum !== undefined && v > Number(s.maximum)) errs.push(`${path}: above ${s.maximum}`)
    }
    if (Array.isArray(v)) {
      if (s.maxItems !== undefined && v.length > s.maxItems) errs.push(`${path}: more than ${s.maxItems} items`)
      if (s.items !== undefined) v.forEach((item, i) => this.check(s.items, item, `${path}[${i}]`, errs))
    }
    if (typeOf(v) === 'object') {
      const props = s.properties || {}
      for (const r of s.required || []) if (!(r in v)) errs.push(`${path}: missing ${r}`)
      for (const [k, item] of Object.entries(v)) {
        if (k in props) this.check(props[k], item, `${path}.${k}`, errs)
        else if (s.additionalProperties !== undefined) this.check(s.additionalProperties, item, `${path}.${k}`, errs)
      }
    }
    for (const sub of s.allOf || []) this.check(sub, v, path, errs)
    if (s.anyOf && !s.anyOf.some((sub) => this.validate(sub, v, path).length === 0)) {
      errs.push(`${path}: matches none of anyOf (${s.anyOf.map((sub) => this.validate(sub, v, path)[0]).join('; ')})`)
    }
    if (s.oneOf) {
      const n = s.oneOf.filter((sub) => this.validate(sub, v, path).length === 0).length
      if (n !== 1) errs.push(`${path}: matches ${n} of oneOf, want exactly 1`)
    }
  }
}
