/**
 * The few DER encodings a workload certificate needs, so the control plane signs one in a tenth
 * of a millisecond instead of the 3 ms @peculiar/x509's general ASN.1 serialiser takes (most of
 * the issuing cost at 10,000 proxies). Only for output the control plane builds itself from
 * parts it trusts: a CSR (hostile input) is still parsed and verified by @peculiar/x509, and the
 * result is checked by Node's own X.509 parser in tests (libs/ca/builtin-ca.test.ts).
 */

function lengthOf(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>>= 8) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** A tag-length-value of `tag` around `body`. */
export const tlv = (tag: number, ...body: readonly Buffer[]): Buffer => {
  const content = Buffer.concat(body);
  return Buffer.concat([Buffer.from([tag]), lengthOf(content.length), content]);
};

export const sequence = (...items: readonly Buffer[]): Buffer => tlv(0x30, ...items);

/** A non-negative INTEGER from its big-endian bytes, minimal as DER requires. */
export function unsignedInteger(bytes: Buffer): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const trimmed = bytes.subarray(i);
  return tlv(0x02, trimmed[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

/** RFC 5280: UTCTime through 2049, GeneralizedTime from 2050, in seconds, UTC. */
export function time(d: Date): Buffer {
  const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-:T]/g, '');
  const year = d.getUTCFullYear();
  return year >= 1950 && year < 2050 ? tlv(0x17, Buffer.from(`${digits.slice(2)}Z`, 'ascii')) : tlv(0x18, Buffer.from(`${digits}Z`, 'ascii'));
}

/** The subjectAltName extension (critical) of URIs: GeneralName [6] uniformResourceIdentifier. */
export function uriSanExtension(uris: readonly string[], critical: boolean): Buffer {
  const names = sequence(...uris.map((u) => tlv(0x86, Buffer.from(u, 'ascii'))));
  // OID 2.5.29.17
  return sequence(Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x11]), ...(critical ? [Buffer.from([0x01, 0x01, 0xff])] : []), tlv(0x04, names));
}

/** The element at `offset` of DER `buf`: its tag, where its content starts and where it ends. */
function element(buf: Buffer, offset: number): { tag: number; start: number; end: number } {
  const tag = buf[offset]!;
  let len = buf[offset + 1]!;
  let start = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[start + i]!;
    start += n;
  }
  if (start + len > buf.length) throw new Error('truncated DER');
  return { tag, start, end: start + len };
}

/** The DER of a certificate's subject Name (to be the issuer of what it signs, byte for byte). */
export function subjectOf(certDer: Buffer): Buffer {
  const cert = element(certDer, 0);
  const tbs = element(certDer, cert.start);
  let at = tbs.start;
  // version [0] is optional; then serialNumber, signature, issuer, validity, subject.
  if (certDer[at] === 0xa0) at = element(certDer, at).end;
  for (let i = 0; i < 4; i++) at = element(certDer, at).end;
  const subject = element(certDer, at);
  return certDer.subarray(at, subject.end);
}
