import { CST, Lexer, parseAllDocuments } from 'yaml';

/**
 * The one way text a client sent becomes a value: JSON or YAML, bounded before any parser
 * sees it. A linear pre-scan caps the size and the nesting depth (JSON brackets; YAML flow
 * brackets plus block indentation), so a 2 KB body nested 1,000 levels deep is a DecodeError
 * instead of a stack overflow or an out-of-memory abort inside the parser. After parsing, a
 * walk (bounded by the same depth) rejects the keys that reach Object.prototype
 * (`__proto__`, `constructor`, `prototype`) with their field path, and re-checks the depth,
 * which YAML aliases can multiply. Pure: no I/O.
 */
export interface DecodeLimits {
  /** UTF-8 bytes of the text. */
  readonly maxBytes: number;
  /** Levels of nested objects and arrays (a scalar at the top is depth 0, `{"a":1}` is 1). */
  readonly maxDepth: number;
  /** YAML alias references (`*a`) per text; also passed to the parser's own expansion bound. */
  readonly maxAliases: number;
}

export const DEFAULT_DECODE_LIMITS: DecodeLimits = { maxBytes: 1024 * 1024, maxDepth: 100, maxAliases: 100 };

/** Keys that would reach or replace an object's prototype when copied or read. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * The text could not be decoded. `field` is the path of the offending value in Kuma's notation
 * (`networking.__proto__`), or '' when the whole text is at fault (size, depth, syntax).
 */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
  /** The YAML document (1-based) at fault, when the text holds several. */
  readonly document: number | undefined;
  constructor(
    readonly field: string,
    readonly reason: string,
    options?: { cause?: unknown; document?: number },
  ) {
    super(field ? `${field}: ${reason}` : reason, options);
    this.document = options?.document;
  }
}

function lineColumn(text: string, index: number): string {
  let line = 1;
  let last = -1;
  for (let i = 0; i < index; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      last = i;
    }
  }
  return `line ${line}, column ${index - last}`;
}

function tooDeep(text: string, index: number, limits: DecodeLimits): DecodeError {
  return new DecodeError('', `${lineColumn(text, index)}: nesting is deeper than ${limits.maxDepth} levels`);
}

function checkSize(text: string, limits: DecodeLimits): void {
  // Each UTF-16 unit is at most 3 UTF-8 bytes: count exactly only when it may matter.
  if (text.length * 3 > limits.maxBytes && Buffer.byteLength(text, 'utf8') > limits.maxBytes) {
    throw new DecodeError('', `is larger than ${limits.maxBytes} bytes`);
  }
}

const QUOTE = 34;
const BACKSLASH = 92;
const OPEN_BRACE = 123;
const OPEN_BRACKET = 91;
const CLOSE_BRACE = 125;
const CLOSE_BRACKET = 93;

/** Bracket depth of JSON text outside strings: one linear pass, no allocation. */
export function scanJsonDepth(text: string, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > limits.maxDepth) throw tooDeep(text, i, limits);
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
}

/** Lexer tokens that are markers, not source text (no width). */
const MARKERS = new Set(['doc-mode', 'scalar', 'flow-error-end', 'byte-order-mark']);

/**
 * Nesting depth of YAML text, over-estimated, never under, from the YAML library's own lexer
 * (linear and not recursive, unlike its parser and composer): so a quote, a comment or a
 * block scalar means exactly what the parser will take it to mean. Flow nesting counts
 * `[`/`{` tokens; block nesting the open indentation levels plus `- `/`? ` indicators at
 * their columns. Also counts alias references.
 */
export function scanYaml(text: string, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): { aliases: number } {
  /** Columns of the open block levels, increasing. */
  const levels: number[] = [];
  let flow = 0;
  let aliases = 0;
  let offset = 0;
  let column = 0;
  /** At the start of a line: the indentation seen so far, or -1 once the line's first token passed. */
  let indent = 0;
  const open = (col: number) => {
    while (levels.length > 0 && levels[levels.length - 1]! >= col) levels.pop();
    levels.push(col);
    if (levels.length + flow > limits.maxDepth) throw tooDeep(text, offset, limits);
  };
  for (const token of new Lexer().lex(text)) {
    const type = CST.tokenType(token);
    if (type !== null && MARKERS.has(type)) continue;
    if (type === 'newline') {
      offset += token.length;
      column = 0;
      indent = 0;
      continue;
    }
    if (indent >= 0) {
      if (type === 'space') {
        indent += token.length;
        offset += token.length;
        column += token.length;
        continue;
      }
      if (type !== 'comment' && flow === 0) {
        if (type === 'doc-start' || type === 'doc-end') levels.length = 0;
        else open(indent);
      }
      indent = -1;
    }
    switch (type) {
      case 'flow-map-start':
      case 'flow-seq-start':
        if (levels.length + ++flow > limits.maxDepth) throw tooDeep(text, offset, limits);
        break;
      case 'flow-map-end':
      case 'flow-seq-end':
        if (flow > 0) flow--;
        break;
      case 'seq-item-ind':
      case 'explicit-key-ind':
        if (flow === 0) open(column + 1);
        break;
      case 'alias':
        if (++aliases > limits.maxAliases) throw new DecodeError('', `${lineColumn(text, offset)}: more than ${limits.maxAliases} alias references`);
        break;
      default:
        break;
    }
    offset += token.length;
    const nl = token.lastIndexOf('\n');
    column = nl >= 0 ? token.length - nl - 1 : column + token.length;
  }
  return { aliases };
}

/**
 * Walks a decoded value: throws DecodeError for a prototype key (with its path) or for depth
 * beyond the limit. Recursion never goes deeper than `maxDepth + 1`.
 */
export function checkDecoded(value: unknown, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): void {
  const path: (string | number)[] = [];
  const walk = (v: unknown, depth: number): void => {
    if (typeof v !== 'object' || v === null) return;
    if (depth >= limits.maxDepth) throw new DecodeError(renderPath(path), `nesting is deeper than ${limits.maxDepth} levels`);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        path.push(i);
        walk(v[i], depth + 1);
        path.pop();
      }
      return;
    }
    for (const k of Object.keys(v)) {
      path.push(k);
      if (FORBIDDEN_KEYS.has(k)) throw new DecodeError(renderPath(path), `"${k}" is not allowed as a key`);
      walk((v as Record<string, unknown>)[k], depth + 1);
      path.pop();
    }
  };
  walk(value, 0);
}

/** `a.b[0]["x.y"]`: Kuma's field notation (keys that are not plain names are quoted). */
export function renderPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(p)) out += out === '' ? p : `.${p}`;
    else out += `[${JSON.stringify(p)}]`;
  }
  return out;
}

/**
 * Whether a decoded value may hold a prototype key: only if the text spells one literally, or
 * could spell it otherwise (an escape, a YAML tag). Otherwise the walk is skipped: the text's
 * depth was already bounded exactly by the pre-scan (for YAML, only when it has no aliases).
 */
const mayHoldForbiddenKey = (text: string): boolean =>
  text.includes('__proto__') || text.includes('constructor') || text.includes('prototype') || text.includes('\\') || text.includes('!');

/** Whether `text` has at most `max` of `{` and `[` in all (then no nesting can exceed `max`); native searches only. */
function fewOpenings(text: string, max: number): boolean {
  let count = 0;
  for (const ch of ['{', '[']) {
    for (let i = text.indexOf(ch); i >= 0; i = text.indexOf(ch, i + 1)) if (++count > max) return false;
  }
  return true;
}

/** Strict JSON, bounded. */
export function decodeJson(text: string, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): unknown {
  checkSize(text, limits);
  if (!fewOpenings(text, limits.maxDepth)) scanJsonDepth(text, limits);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new DecodeError('', (err as Error).message, { cause: err });
  }
  if (mayHoldForbiddenKey(text)) checkDecoded(value, limits);
  return value;
}

/**
 * Every non-empty document of YAML 1.2 text (a superset of JSON), bounded. Duplicate keys are
 * errors; `undefined` entries are never returned (empty documents are skipped).
 */
export function decodeYamlDocuments(text: string, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): unknown[] {
  checkSize(text, limits);
  const { aliases } = scanYaml(text, limits);
  const walk = aliases > 0 || mayHoldForbiddenKey(text);
  let docs;
  try {
    docs = parseAllDocuments(text, { uniqueKeys: true });
  } catch (err) {
    throw new DecodeError('', (err as Error).message.split('\n')[0]!, { cause: err });
  }
  const list = Array.isArray(docs) ? docs : [docs];
  const out: unknown[] = [];
  list.forEach((doc, i) => {
    const where = list.length > 1 ? `document ${i + 1}: ` : '';
    const document = i + 1;
    if (doc.errors.length > 0) throw new DecodeError('', `${where}${doc.errors[0]!.message.split('\n')[0]}`, { document });
    if (doc.contents === null) return;
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: limits.maxAliases });
    } catch (err) {
      // The parser's own resource-exhaustion guard (an alias bomb) is bad input, not a crash.
      throw new DecodeError('', `${where}${(err as Error).message.split('\n')[0]}`, { cause: err, document });
    }
    if (value === null || value === undefined) return;
    try {
      if (walk) checkDecoded(value, limits);
    } catch (err) {
      if (err instanceof DecodeError) throw new DecodeError(err.field, `${where}${err.reason}`, { document });
      throw err;
    }
    out.push(value);
  });
  return out;
}

/** Exactly one YAML (or JSON) document; `undefined` when the text holds none. */
export function decodeYaml(text: string, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): unknown {
  const docs = decodeYamlDocuments(text, limits);
  if (docs.length > 1) throw new DecodeError('', `expected one document, got ${docs.length}`);
  return docs[0];
}
