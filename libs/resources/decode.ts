import { parseAllDocuments } from 'yaml';

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

const isSpace = (c: number) => c === 32 || c === 9 || c === 13;
/** A space, a line end or the end of the text (NaN). */
const endsToken = (c: number) => isSpace(c) || c === 10 || Number.isNaN(c);
/** Characters after which (and a space) a node may start: `key: [`, `- [`, `? [`, `, [`. */
const NODE_BEFORE_SPACE = new Set([58, 45, 63, 44, 91, 123]);
/** Characters that end a tag or an anchor name in flow context. */
const FLOW_INDICATORS = new Set([91, 93, 123, 125, 44]);
/** `prevSig` after a node property (tag or anchor): what follows is still the start of the node. */
const AFTER_PROPERTY = -2;
/** Characters right after which a node may start without a space: `[[`, `{"a":{`, `,[`. */
const NODE_ADJACENT = new Set([91, 123, 44, 58]);

/**
 * Nesting depth of YAML text, over-estimated, never under: block nesting is the number of
 * open indentation levels plus `- ` indicators on the line; flow nesting counts `[`/`{` that
 * start a node (not inside quoted or plain scalars, comments or block scalars). Also counts
 * alias references. One linear pass.
 */
export function scanYaml(text: string, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): { aliases: number } {
  /** Columns of the open block levels, increasing. */
  const levels: number[] = [];
  const open = (column: number, at: number) => {
    while (levels.length > 0 && levels[levels.length - 1]! >= column) levels.pop();
    levels.push(column);
    if (levels.length + flow > limits.maxDepth) throw tooDeep(text, at, limits);
  };
  let flow = 0;
  let aliases = 0;
  /** Indentation of the line that opened a block scalar (`|`, `>`); -1 when not in one. */
  let blockScalar = -1;
  /** Inside a quoted scalar that continues on the next line. */
  let quote = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const lineStart = i;
    while (i < n && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9)) i++;
    const indent = i - lineStart;
    const first = i < n ? text.charCodeAt(i) : 10;
    const blank = first === 10 || first === 13 || (first === 35 && quote === 0);
    if (blockScalar >= 0) {
      if (blank || indent > blockScalar) {
        while (i < n && text.charCodeAt(i) !== 10) i++;
        i++;
        continue;
      }
      blockScalar = -1;
    }
    if (blank) {
      while (i < n && text.charCodeAt(i) !== 10) i++;
      i++;
      continue;
    }
    if (quote === 0 && flow === 0) {
      if (indent === 0 && (text.startsWith('---', i) || text.startsWith('...', i))) levels.length = 0;
      open(indent, i);
    }
    let prevSig = -1;
    let prev = 32;
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c === 10) break;
      if (quote !== 0) {
        if (quote === QUOTE && c === BACKSLASH) i++;
        else if (c === quote) {
          if (quote === 39 && text.charCodeAt(i + 1) === 39) i++;
          else {
            quote = 0;
            prevSig = c;
          }
        }
        prev = c;
        continue;
      }
      if (isSpace(c)) {
        prev = c;
        continue;
      }
      if (c === 35 && isSpace(prev)) {
        while (i < n && text.charCodeAt(i) !== 10) i++;
        break;
      }
      const nodeStart = (isSpace(prev) && (prevSig === -1 || prevSig === AFTER_PROPERTY || NODE_BEFORE_SPACE.has(prevSig))) || NODE_ADJACENT.has(prev);
      if (nodeStart) {
        if (c === 33 || c === 38) {
          // A tag (`!t`, `!<verbatim>`) or an anchor (`&a`) leaves the node still to start: `&a [`, `!t[`.
          let j = i + 1;
          if (c === 33 && text.charCodeAt(j) === 60) {
            while (j < n && text.charCodeAt(j) !== 62 && text.charCodeAt(j) !== 10) j++;
            j++;
          } else while (j < n && !endsToken(text.charCodeAt(j)) && !FLOW_INDICATORS.has(text.charCodeAt(j))) j++;
          i = j - 1;
          prevSig = AFTER_PROPERTY;
          prev = 44;
          continue;
        }
        if (c === OPEN_BRACE || c === OPEN_BRACKET) {
          if (levels.length + ++flow > limits.maxDepth) throw tooDeep(text, i, limits);
        } else if (c === QUOTE || c === 39) quote = c;
        else if (c === 42) {
          if (++aliases > limits.maxAliases) throw new DecodeError('', `${lineColumn(text, i)}: more than ${limits.maxAliases} alias references`);
        } else if ((c === 45 || c === 63) && flow === 0 && (prevSig === -1 || prevSig === 45 || prevSig === 63) && endsToken(text.charCodeAt(i + 1))) {
          // `- - a` (and `? `): what follows an indicator is one level deeper, at its own column.
          open(i - lineStart + 1, i);
        } else if ((c === 124 || c === 62) && flow === 0 && prevSig !== -1) {
          let j = i + 1;
          while (j < n && /[-+0-9]/.test(text[j]!)) j++;
          const after = j < n ? text.charCodeAt(j) : 10;
          if (after === 10 || isSpace(after)) blockScalar = indent;
        }
      }
      if (flow > 0 && (c === CLOSE_BRACE || c === CLOSE_BRACKET)) flow--;
      prevSig = c;
      prev = c;
    }
    i++;
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
