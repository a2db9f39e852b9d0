import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

/**
 * The project's own wire contract between roles, from `proto/kuma_es/v1/*.proto` (written by
 * us), loaded with protobufjs at first use. Field names become camelCase, as protobufjs does.
 */
const FILES = ['event.proto', 'manifest.proto', 'status.proto'];

/** `proto/` of the package: found upwards from this module, so it works from libs/ and from dist/libs/. */
function protoDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'proto', 'kuma_es', 'v1');
    if (existsSync(join(candidate, FILES[0]!))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('proto/kuma_es/v1 not found above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

let cached: protobuf.Root | undefined;

export function kumaEsRoot(): protobuf.Root {
  if (cached) return cached;
  const dir = protoDir();
  cached = new protobuf.Root().loadSync(FILES.map((f) => join(dir, f)));
  cached.resolveAll();
  return cached;
}

/** A message type of package kuma_es.v1 (`Manifest`, `Event.Op` ...). */
export function kumaEsType(name: string): protobuf.Type {
  return kumaEsRoot().lookupType(`kuma_es.v1.${name}`);
}

/** JSON values written before the proto encodings start with '{'; no encoding of ours does. */
export function isJsonValue(data: Uint8Array): boolean {
  return data.length > 0 && data[0] === 0x7b;
}
